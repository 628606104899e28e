//! `burstscope detect`: spikes.parquet|csv, waveforms.h5 and detect.json.

use super::{mapping_from_args, progress, read_toml, write_json};
use crate::args::{DetectArgs, ReferenceArg, SignArg, TableFormat};
use anyhow::{Context, Result, bail};
use burstscope_core::{ColumnData, Provenance, SeriesInfo, Table};
use burstscope_dsp::Reference;
use burstscope_io::{Recording, WaveformGroup, WaveformWriter};
use burstscope_spikes::{ChannelGroup, DetectParams, Plan, Sign};
use burstscope_tables::{Format, write_table};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// What `detect` wrote.
#[derive(Debug)]
pub(crate) struct DetectOutput {
    pub(crate) spikes: PathBuf,
    /// Event samples in table order (sorted by time).
    pub(crate) samples: Vec<i64>,
    pub(crate) seconds: f64,
}

/// Parameters from the config file and flags.
fn params(a: &DetectArgs) -> Result<DetectParams> {
    let mut p: DetectParams = match &a.config {
        Some(path) => read_toml(path)?,
        None => DetectParams::default(),
    };
    if let Some(v) = a.threshold {
        p.threshold = v;
    }
    if let Some(v) = a.band {
        p.band_hz = v;
    }
    if let Some(v) = a.order {
        p.filter_order = v;
    }
    if let Some(v) = a.sign {
        p.sign = match v {
            SignArg::Neg => Sign::Neg,
            SignArg::Pos => Sign::Pos,
            SignArg::Both => Sign::Both,
        };
    }
    if let Some(v) = a.reference {
        p.reference = match v {
            ReferenceArg::None => Reference::None,
            ReferenceArg::Median => Reference::Median,
            ReferenceArg::Average => Reference::Average,
        };
    }
    if let Some(v) = a.dead_time_ms {
        p.dead_time_ms = v;
    }
    if let Some(v) = a.exclusion_ms {
        p.exclusion_ms = v;
    }
    Ok(p)
}

/// Scale from the series' unit to microvolts.
pub(crate) fn to_microvolts(series: &SeriesInfo) -> Result<f64> {
    Ok(match series.unit.to_ascii_lowercase().as_str() {
        "volts" | "volt" | "v" => 1e6,
        "millivolts" | "mv" => 1e3,
        "microvolts" | "uv" | "µv" => 1.0,
        other => bail!("{}: unit '{other}'; expected volts, millivolts or microvolts", series.path),
    })
}

/// Runs `detect` (in a pool of `--threads` workers when given).
pub(crate) fn run(a: &DetectArgs) -> Result<DetectOutput> {
    match a.threads {
        Some(n) if n > 0 => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .context("cannot start worker threads")?
            .install(|| detect(a)),
        Some(_) => bail!("--threads must be at least 1"),
        None => detect(a),
    }
}

fn detect(a: &DetectArgs) -> Result<DetectOutput> {
    let t0 = Instant::now();
    let params = params(a)?;
    let mapping = mapping_from_args(&a.mapping)?;
    let rec = Recording::open_with(&a.file, mapping)?;
    let series = rec.series_named(a.series.as_deref())?;
    let scale = to_microvolts(&series)?;
    let groups: Vec<ChannelGroup> =
        series.channel_groups().into_iter().map(|(name, channels)| ChannelGroup { name, channels }).collect();
    let plan = Plan::new(&params, series.rate_hz, series.n_samples, series.n_channels, &groups, scale)
        .with_context(|| format!("{}: {}", a.file.display(), series.path))?;
    let reader = rec.stream(&series)?;
    let timestamps = rec.timestamps(&series)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("{}: cannot create folder", a.out.display()))?;

    tracing::info!(
        "opened {} in {:.3} s ({} blocks, direct reads: {})",
        a.file.display(),
        t0.elapsed().as_secs_f64(),
        plan.n_blocks(),
        reader.is_direct()
    );
    let noise = plan.noise(&reader).with_context(|| format!("{}: noise estimate", a.file.display()))?;
    tracing::info!("noise estimated at {:.3} s", t0.elapsed().as_secs_f64());
    for (c, dead) in noise.dead.iter().enumerate() {
        if *dead {
            tracing::warn!(
                "channel {} (electrode row {}) is flat or dead (σ = {}); skipped",
                c,
                series.electrodes[c].row,
                noise.sigma[c]
            );
        }
    }
    let pgroups = plan.groups().to_vec();
    let max_group = pgroups.iter().map(|g| g.channels.len()).max().unwrap_or(0);
    let mut waves = if a.no_waveforms {
        None
    } else {
        let wg: Vec<WaveformGroup> = pgroups
            .iter()
            .map(|g| WaveformGroup {
                name: g.name.clone(),
                electrode_rows: g.channels.iter().map(|&c| series.electrodes[c].row as i64).collect(),
            })
            .collect();
        let (nb, na) = plan.snippet();
        Some(WaveformWriter::create(&a.out.join("waveforms.h5"), &wg, series.rate_hz, nb, na, a.waveforms_gzip)?)
    };

    // Columns of the spikes table, filled as blocks arrive in order.
    let mut sample: Vec<i64> = Vec::new();
    let mut group: Vec<String> = Vec::new();
    let mut channel: Vec<i64> = Vec::new();
    let mut amplitude: Vec<f64> = Vec::new();
    let mut ratio: Vec<f64> = Vec::new();
    let mut peaks: Vec<Vec<f64>> = vec![Vec::new(); max_group];
    let pb = progress(plan.n_blocks() as u64, "detecting");
    pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    let started = Instant::now();
    let shown = std::sync::atomic::AtomicBool::new(false);
    let on_progress = |n: u64| {
        pb.inc(n);
        if started.elapsed().as_secs_f64() > 1.0 && !shown.swap(true, std::sync::atomic::Ordering::Relaxed) {
            pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    };
    let mut sink = |o: burstscope_spikes::BlockOutput| -> std::result::Result<(), String> {
        let mut per_group: Vec<(Vec<u64>, Vec<f32>)> = vec![(Vec::new(), Vec::new()); pgroups.len()];
        for ev in o.events {
            let row = sample.len() as u64;
            #[allow(clippy::cast_possible_wrap)]
            sample.push(ev.sample as i64);
            group.push(pgroups[ev.group].name.clone());
            channel.push(series.electrodes[ev.channel].row as i64);
            amplitude.push(f64::from(ev.amplitude));
            ratio.push(f64::from(ev.ratio));
            for (k, col) in peaks.iter_mut().enumerate() {
                col.push(ev.peaks.get(k).map_or(f64::NAN, |&v| f64::from(v)));
            }
            per_group[ev.group].0.push(row);
            per_group[ev.group].1.extend_from_slice(&ev.waveform);
        }
        if let Some(w) = waves.as_mut() {
            for (g, (rows, data)) in per_group.iter().enumerate() {
                w.append(g, rows, data).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    };
    let summary = burstscope_spikes::run(&plan, &reader, &noise, &on_progress, &mut sink)
        .with_context(|| format!("{}: detection", a.file.display()))?;
    pb.finish_and_clear();
    tracing::info!("detection done at {:.3} s", t0.elapsed().as_secs_f64());

    #[allow(clippy::cast_precision_loss, clippy::cast_sign_loss)]
    let time_s: Vec<f64> = match &timestamps {
        Some(ts) => sample.iter().map(|&s| ts[s as usize]).collect(),
        None => sample.iter().map(|&s| series.starting_time_s + s as f64 / series.rate_hz).collect(),
    };
    let n_events = sample.len();
    let samples = sample.clone();
    let mut table = Table::new("spikes");
    table.push("sample", ColumnData::I64(sample));
    table.push("time_s", ColumnData::F64(time_s));
    table.push("group", ColumnData::Str(group));
    table.push("channel", ColumnData::I64(channel));
    table.push("amplitude_uv", ColumnData::F64(amplitude));
    table.push("threshold_ratio", ColumnData::F64(ratio));
    for (k, col) in peaks.into_iter().enumerate() {
        table.push(&format!("peak_uv_{k}"), ColumnData::F64(col));
    }
    let format = match a.format {
        TableFormat::Parquet => Format::Parquet,
        TableFormat::Csv => Format::Csv,
    };
    // Close the waveform file while the table is written.
    let (finished, written) =
        rayon::join(|| waves.take().map(WaveformWriter::finish).transpose(), || write_table(&table, &a.out, format));
    finished?;
    let spikes = written?;
    tracing::info!("tables written at {:.3} s", t0.elapsed().as_secs_f64());
    // Content identity of the samples detection used: xxh3 of each block's
    // stored bytes, combined in block order (no second pass over the file).
    let identity = {
        let size_bytes = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
        let (content_hash, hash_scope) = if summary.block_hashes.iter().all(Option::is_some) {
            let digests: Vec<u8> = summary.block_hashes.iter().flatten().flat_map(|h| h.to_le_bytes()).collect();
            (
                format!("xxh3-blocks:{:016x}", xxhash_rust::xxh3::xxh3_64(&digests)),
                Some(format!(
                    "stored samples of {} (all channels, little-endian), xxh3-64 per block of {} rows, then xxh3-64 of the block digests in order",
                    if series.kind == burstscope_core::SeriesKind::Mapped {
                        series.path.clone()
                    } else {
                        format!("{}/data", series.path)
                    },
                    params.block_samples
                )),
            )
        } else {
            (burstscope_io::content_hash(&a.file).with_context(|| format!("{}: cannot hash", a.file.display()))?, None)
        };
        burstscope_core::InputIdentity { path: a.file.display().to_string(), size_bytes, content_hash, hash_scope }
    };
    let seconds = t0.elapsed().as_secs_f64();
    let mut prov = Provenance::new("detect", serde_json::to_value(&params)?);
    prov.inputs.push(identity);
    prov.extra.insert("series".into(), json!({"path": series.path, "rate_hz": series.rate_hz, "n_samples": series.n_samples, "n_channels": series.n_channels, "dtype": series.dtype}));
    prov.extra.insert(
        "channels".into(),
        json!(
            series
                .electrodes
                .iter()
                .enumerate()
                .map(|(c, e)| json!({
                    "channel_index": c,
                    "electrode_row": e.row,
                    "group": e.group,
                    "location": e.location,
                    "noise_uv": if noise.sigma[c].is_finite() { json!(noise.sigma[c]) } else { json!(null) },
                    "threshold_uv": if noise.dead[c] { json!(null) } else { json!(noise.sigma[c] * params.threshold) },
                    "dead": noise.dead[c],
                    "clipped_samples": summary.clipped[c],
                    "nonfinite_samples": summary.nonfinite[c],
                }))
                .collect::<Vec<_>>()
        ),
    );
    prov.extra.insert(
        "groups".into(),
        json!(
            pgroups
                .iter()
                .zip(&summary.events_per_group)
                .map(|(g, n)| json!({"group": g.name, "channels": g.channels, "events": n}))
                .collect::<Vec<_>>()
        ),
    );
    prov.extra.insert("events".into(), json!(n_events));
    prov.extra.insert("events_rejected_bad_samples".into(), json!(summary.rejected_bad));
    prov.extra.insert(
        "grid".into(),
        json!({"block_samples": params.block_samples, "margin_samples": plan.margin_samples(), "blocks": plan.n_blocks()}),
    );
    prov.extra.insert("outputs".into(), json!({"spikes": spikes.display().to_string(), "waveforms": if a.no_waveforms { json!(null) } else { json!(a.out.join("waveforms.h5").display().to_string()) }}));
    prov.extra.insert("seconds".into(), json!(seconds));
    write_json(&a.out.join("detect.json"), &prov)?;
    let bad: u64 = summary.clipped.iter().chain(&summary.nonfinite).sum();
    if bad > 0 {
        tracing::warn!("{bad} clipped or non-finite samples; {} events near them dropped", summary.rejected_bad);
    }
    eprintln!("{n_events} spikes from {} in {seconds:.2} s -> {}", a.file.display(), spikes.display());
    Ok(DetectOutput { spikes, samples, seconds })
}
