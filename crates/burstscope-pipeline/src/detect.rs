//! The `detect` stage: spikes table, waveforms and record for one recording.

use crate::Progress;
use crate::config::{DetectConfig, detect_param_error};
use crate::error::{Context, Error, Result, bail};
use crate::output::{Stage, StageOutput, identify};
use burstscope_core::{ColumnData, Record, SeriesInfo, Table};
use burstscope_io::{Recording, WaveformGroup, WaveformWriter};
use burstscope_spikes::{ChannelGroup, Plan};
use burstscope_tables::write_table;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Stored counts per noise σ of `waveforms.h5` snippets (int16): the step is
/// the channel's σ/32.
const WAVEFORM_COUNTS_PER_SIGMA: f64 = 32.0;

/// The `detect` stage.
/// Version 2: waveform snippets stored as int16 counts of σ/32 by default.
pub const DETECT_STAGE: Stage = Stage { name: "detect", algorithm_version: 2 };

/// What `detect` wrote.
#[derive(Debug, Clone)]
pub struct DetectRun {
    /// The output folder.
    pub dir: PathBuf,
    /// The spikes table in it.
    pub spikes: PathBuf,
    /// Event samples in table order (sorted by time).
    pub samples: Vec<i64>,
    /// Its record.
    pub record: Record,
    /// Warnings (dead channels, clipped samples).
    pub warnings: Vec<String>,
}

/// Scale from the series' unit to microvolts.
///
/// # Errors
/// A unit that is not a voltage.
pub fn to_microvolts(series: &SeriesInfo) -> Result<f64> {
    Ok(match series.unit.trim().to_ascii_lowercase().as_str() {
        "volts" | "volt" | "v" => 1e6,
        "millivolts" | "millivolt" | "mv" => 1e3,
        "microvolts" | "microvolt" | "uv" | "µv" | "μv" => 1.0,
        other => bail!("{}: unit '{other}'; expected volts, millivolts or microvolts", series.path),
    })
}

/// Runs detection on `file`, writing the folder `out`. The inputs' content
/// hashes are computed on another thread: when the reader offers the bytes it
/// reads to the file's [`burstscope_core::HashTap`] (NWB/HDF5 read directly,
/// raw binary, Open Ephys binary, SpikeGLX, Blackrock NSx, Intan), after
/// detection, from the pieces the reader hashed and the few it did not read;
/// otherwise beside detection, reading the files itself.
///
/// # Errors
/// The recording cannot be used with this config, or writing failed (`out`
/// is then unchanged).
pub fn run_detect(file: &Path, out: &Path, cfg: &DetectConfig, progress: &dyn Progress) -> Result<DetectRun> {
    // an Open Ephys folder is identified by its channel files
    let inputs: Vec<PathBuf> = if burstscope_formats::openephys::is_binary_dir(file) {
        // the layout and the samples of an Open Ephys binary recording
        let r = burstscope_formats::openephys::BinaryRecording::open(file).map_err(|e| Error::Input(e.to_string()))?;
        let first = r.streams.first().map(|s| s.folder.join("continuous.dat"));
        std::iter::once(file.join("structure.oebin")).chain(first).collect()
    } else if file.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(file)
            .map_err(crate::error::file_err(file))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            // Open Ephys legacy channels, or Neuralynx channels and events
            .filter(|p| {
                p.extension().is_some_and(|x| {
                    x == "continuous" || x.eq_ignore_ascii_case("ncs") || x.eq_ignore_ascii_case("nev")
                })
            })
            .collect();
        v.sort();
        v
    } else if burstscope_formats::spikeglx::is_spikeglx(file) {
        // the samples and the layout and gains of a SpikeGLX stream
        vec![file.with_extension("bin"), file.with_extension("meta")]
    } else if is_nsx(file) {
        // an NSx 2.1 file's scale comes from the recording's NEV file
        std::iter::once(file.to_path_buf()).chain(crate::inspect::sibling_nev(file)).collect()
    } else {
        vec![file.to_path_buf()]
    };
    for p in &inputs {
        let _ = burstscope_core::HashTap::want(p);
    }
    // `hash_now` is sent when the reader does not feed the taps, and dropped
    // (which also wakes the hashing thread) when detection ends; a failed
    // detection needs no hash
    let (hash_now, wait) = std::sync::mpsc::channel::<()>();
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let failed = &failed;
        let hashing = scope.spawn(move || {
            let _ = wait.recv();
            if failed.load(std::sync::atomic::Ordering::Acquire) {
                inputs.iter().for_each(|p| burstscope_core::HashTap::forget(p));
                return Ok(Vec::new());
            }
            for p in &inputs {
                if let Some(t) = burstscope_core::HashTap::wanted(p) {
                    tracing::debug!(
                        "{}: {} of {} pieces of the content hash computed from the bytes detection read",
                        p.display(),
                        t.pieces_hashed(),
                        t.n_pieces()
                    );
                }
            }
            identify(&inputs.iter().map(PathBuf::as_path).collect::<Vec<_>>())
        });
        let detected = detect_into(file, out, cfg, progress, &hash_now);
        failed.store(detected.is_err(), std::sync::atomic::Ordering::Release);
        drop(hash_now);
        let t0 = std::time::Instant::now();
        let identity = hashing.join().map_err(|_| Error::Input(format!("{}: hashing failed", file.display())))?;
        let (mut stage, spikes_name, samples, summary, warnings) = detected?;
        stage.set_inputs(identity?);
        let dir = stage.dest().to_path_buf();
        tracing::debug!("waited {:.1} ms for the input hash", t0.elapsed().as_secs_f64() * 1e3);
        let t0 = std::time::Instant::now();
        let record = stage.finish(summary, warnings.clone())?;
        tracing::debug!("outputs hashed and committed: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
        Ok(DetectRun { spikes: dir.join(spikes_name), dir, samples, record, warnings })
    })
}

/// The series a raw binary file holds: its channels in microvolts, grouped
/// by `channels_per_group` consecutive channels (one group without).
fn raw_series(
    file: &Path,
    r: &crate::config::RawInput,
    channels_per_group: Option<usize>,
    raw: &burstscope_formats::raw::RawBinary,
) -> SeriesInfo {
    let name = file.file_name().map_or_else(|| "raw".into(), |n| n.to_string_lossy().into_owned());
    let electrodes = grouped_electrodes(r.n_channels, channels_per_group);
    SeriesInfo {
        name: name.clone(),
        path: name,
        kind: burstscope_core::SeriesKind::Mapped,
        dtype: r.dtype.name().into(),
        n_samples: raw.n_samples,
        n_channels: r.n_channels,
        rate_hz: r.rate_hz,
        starting_time_s: 0.0,
        has_timestamps: false,
        duration_s: raw.n_samples as f64 / r.rate_hz,
        conversion: r.gain_uv * 1e-6,
        offset: 0.0,
        channel_conversion: None,
        unit: "microvolts".into(),
        electrodes,
    }
}

/// Electrodes of `n` channels in groups of `k` consecutive channels
/// (`stereotrode0`, `tetrode0`, ...; one unnamed group without `k`).
fn grouped_electrodes(n: usize, k: Option<usize>) -> Vec<burstscope_core::Electrode> {
    (0..n)
        .map(|c| burstscope_core::Electrode {
            row: c,
            id: c as i64,
            group: k.filter(|&k| k > 0).map_or_else(String::new, |k| {
                let kind = match k {
                    1 => "channel",
                    2 => "stereotrode",
                    4 => "tetrode",
                    _ => "group",
                };
                format!("{kind}{}", c / k)
            }),
            location: "unknown".into(),
        })
        .collect()
}

/// Whether `path` is named like a Blackrock NSx file (`.ns1` … `.ns9`).
fn is_nsx(path: &Path) -> bool {
    path.extension().is_some_and(|e| {
        let e = e.to_string_lossy().to_ascii_lowercase();
        e.len() == 3 && e.starts_with("ns") && e.as_bytes()[2].is_ascii_digit()
    })
}

/// The series of a Blackrock NSx file: its channels in µV, grouped by
/// `channels_per_group`.
fn nsx_series(file: &Path, channels_per_group: Option<usize>, n: &burstscope_formats::blackrock::Nsx) -> SeriesInfo {
    let name = file.file_name().map_or_else(|| "nsx".into(), |x| x.to_string_lossy().into_owned());
    SeriesInfo {
        name: name.clone(),
        path: name,
        kind: burstscope_core::SeriesKind::Mapped,
        dtype: "int16".into(),
        n_samples: n.n_samples,
        n_channels: n.channels.len(),
        rate_hz: n.rate_hz,
        starting_time_s: n.start_s,
        has_timestamps: false,
        duration_s: n.n_samples as f64 / n.rate_hz,
        conversion: 1e-6,
        offset: 0.0,
        channel_conversion: None,
        unit: "microvolts".into(),
        electrodes: grouped_electrodes(n.channels.len(), channels_per_group),
    }
}

/// The series of an Open Ephys legacy record node: its channels in µV, on
/// the acquisition clock, grouped by `channels_per_group`.
fn openephys_series(
    dir: &Path,
    channels_per_group: Option<usize>,
    oe: &burstscope_formats::openephys::LegacyRecording,
) -> SeriesInfo {
    let name = dir.file_name().map_or_else(|| "openephys".into(), |n| n.to_string_lossy().into_owned());
    SeriesInfo {
        name: name.clone(),
        path: name,
        kind: burstscope_core::SeriesKind::Mapped,
        dtype: "int16".into(),
        n_samples: oe.n_samples,
        n_channels: oe.channels.len(),
        rate_hz: oe.rate_hz,
        starting_time_s: oe.start_s,
        has_timestamps: false,
        duration_s: oe.n_samples as f64 / oe.rate_hz,
        conversion: 1e-6,
        offset: 0.0,
        channel_conversion: None,
        unit: "microvolts".into(),
        electrodes: grouped_electrodes(oe.channels.len(), channels_per_group),
    }
}

/// The neural channels of a SpikeGLX stream (AP or LF; the sync channel
/// left out) in µV, on the acquisition clock (`firstSample`), grouped by
/// shank when the metadata has a shank map, else by `channels_per_group`.
fn spikeglx_series(
    file: &Path,
    channels_per_group: Option<usize>,
    s: &burstscope_formats::spikeglx::SpikeGlx,
) -> SeriesInfo {
    use burstscope_core::BlockSource as _;
    let name = file.file_name().map_or_else(|| "spikeglx".into(), |n| n.to_string_lossy().into_owned());
    let mut electrodes = grouped_electrodes(s.n_neural, channels_per_group);
    if let (None, Some(shanks)) = (channels_per_group, &s.shanks) {
        for (e, k) in electrodes.iter_mut().zip(shanks) {
            e.group = format!("shank{k}");
        }
    }
    SeriesInfo {
        name: name.clone(),
        path: name,
        kind: burstscope_core::SeriesKind::Mapped,
        dtype: "int16".into(),
        n_samples: s.n_samples(),
        n_channels: s.n_neural,
        rate_hz: s.rate_hz(),
        starting_time_s: s.start_s(),
        has_timestamps: false,
        duration_s: s.n_samples() as f64 / s.rate_hz(),
        conversion: 1e-6,
        offset: 0.0,
        channel_conversion: None,
        unit: "microvolts".into(),
        electrodes,
    }
}

/// An extracellular recording in one of the formats `burstscope-formats`
/// reads: its series (neural channels, groups, clock), a block source in
/// µV, each channel's µV per stored count and the named events it has.
pub(crate) struct Extracellular {
    /// The series (channels in µV, groups, start).
    pub(crate) series: SeriesInfo,
    /// Samples in µV.
    pub(crate) source: Box<dyn burstscope_core::BlockSource>,
    /// µV per stored integer count, per channel of the series.
    pub(crate) uv_per_count: Vec<f64>,
    /// TTL and digital-input edges.
    pub(crate) events: Vec<burstscope_core::Event>,
    /// What the format is.
    pub(crate) format: &'static str,
}

/// The events of the Neuralynx `.nev` files in `dir`: each event string,
/// and `ttl:<value>` for a TTL port change, on Cheetah's clock.
pub(crate) fn neuralynx_events(dir: &Path) -> Vec<burstscope_core::Event> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x.eq_ignore_ascii_case("nev"))
                        && burstscope_formats::neuralynx::is_neuralynx(p)
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(ev) = burstscope_formats::neuralynx::NlxEvents::open(&f) else { continue };
        let source = format!("Neuralynx events {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
        let mut prev = 0u16;
        for e in &ev.events {
            #[allow(clippy::cast_precision_loss)]
            let time_s = e.timestamp_us as f64 * 1e-6;
            out.push(burstscope_core::Event { name: e.text.clone(), time_s, source: source.clone() });
            if e.ttl != prev && e.ttl != 0 {
                out.push(burstscope_core::Event { name: format!("ttl:{}", e.ttl), time_s, source: source.clone() });
            }
            prev = e.ttl;
        }
    }
    out.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    out
}

/// Opens `file` when it is raw binary (`raw` given), a Blackrock NSx file,
/// an Intan `.rhd` file, a SpikeGLX stream, a Neuralynx `.ncs` file or
/// folder of them, or an Open Ephys binary or legacy folder; `None` for
/// anything else (NWB / HDF5).
///
/// # Errors
/// The file is one of these and cannot be read.
pub(crate) fn open_extracellular(
    file: &Path,
    raw: Option<&crate::config::RawInput>,
    channels_per_group: Option<usize>,
) -> Result<Option<Extracellular>> {
    let input = |e: &dyn std::fmt::Display| Error::Input(e.to_string());
    if let Some(r) = raw {
        let raw = burstscope_formats::raw::RawBinary::open(file, r.layout()).map_err(|e| input(&e))?;
        let series = raw_series(file, r, channels_per_group, &raw);
        let uv = vec![r.gain_uv; r.n_channels];
        return Ok(Some(Extracellular {
            series,
            source: Box::new(raw),
            uv_per_count: uv,
            events: Vec::new(),
            format: "raw binary",
        }));
    }
    if is_nsx(file) {
        let nev = crate::inspect::sibling_nev(file)
            .map(|p| burstscope_formats::blackrock::Nev::open(&p))
            .transpose()
            .map_err(|e| input(&e))?;
        let nsx = burstscope_formats::blackrock::Nsx::open(file, nev.as_ref()).map_err(|e| input(&e))?;
        if let Some((_, label, _)) = nsx.channels.iter().find(|c| !c.2.is_finite()) {
            bail!(
                "{}: channel {label} has no scale to microvolts (an NSx 2.1 file needs its NEV file beside it)",
                file.display()
            );
        }
        let series = nsx_series(file, channels_per_group, &nsx);
        let uv = nsx.channels.iter().map(|c| c.2).collect();
        let events = nev.map(|n| {
            n.digital_rising_edges()
                .into_iter()
                .map(|(bit, ts)| burstscope_core::Event {
                    name: format!("digital:{bit}"),
                    time_s: ts as f64 / n.timestamp_hz,
                    source: "NEV digital input".into(),
                })
                .collect()
        });
        return Ok(Some(Extracellular {
            series,
            source: Box::new(nsx),
            uv_per_count: uv,
            events: events.unwrap_or_default(),
            format: "Blackrock NSx",
        }));
    }
    if file.is_file() && burstscope_formats::intan::is_rhd(file) {
        use burstscope_core::BlockSource as _;
        let rhd = burstscope_formats::intan::Rhd::open(file).map_err(|e| input(&e))?;
        if rhd.channels.is_empty() {
            bail!("{}: an Intan file without enabled amplifier channels", file.display());
        }
        let name = file.file_name().map_or_else(|| "intan".into(), |n| n.to_string_lossy().into_owned());
        let series = SeriesInfo {
            name: name.clone(),
            path: name,
            kind: burstscope_core::SeriesKind::Mapped,
            dtype: "int16".into(),
            n_samples: rhd.n_samples(),
            n_channels: rhd.channels.len(),
            rate_hz: rhd.rate_hz,
            starting_time_s: rhd.start_s(),
            has_timestamps: false,
            duration_s: rhd.n_samples() as f64 / rhd.rate_hz,
            conversion: 1e-6,
            offset: 0.0,
            channel_conversion: None,
            unit: "microvolts".into(),
            electrodes: grouped_electrodes(rhd.channels.len(), channels_per_group),
        };
        let uv = vec![burstscope_formats::intan::AMPLIFIER_UV_PER_BIT; rhd.channels.len()];
        return Ok(Some(Extracellular {
            series,
            source: Box::new(rhd),
            uv_per_count: uv,
            events: Vec::new(),
            format: "Intan RHD2000",
        }));
    }
    if burstscope_formats::spikeglx::is_spikeglx(file) {
        let glx = burstscope_formats::spikeglx::SpikeGlx::open(file).map_err(|e| input(&e))?;
        if glx.n_neural == 0 {
            bail!("{}: a SpikeGLX {} stream without neural channels", file.display(), glx.device);
        }
        let series = spikeglx_series(file, channels_per_group, &glx);
        let uv = glx.uv_per_bit[..glx.n_neural].to_vec();
        return Ok(Some(Extracellular {
            series,
            source: Box::new(glx),
            uv_per_count: uv,
            events: Vec::new(),
            format: "SpikeGLX",
        }));
    }
    if burstscope_formats::openephys::is_binary_dir(file) {
        let r = burstscope_formats::openephys::BinaryRecording::open(file).map_err(|e| input(&e))?;
        let raw = r.continuous(0).map_err(|e| input(&e))?;
        let st = &r.streams[0];
        let name = format!("{}/{}", file.display(), st.name);
        let layout = crate::config::RawInput {
            dtype: burstscope_formats::raw::RawDtype::I16,
            n_channels: st.channels.len(),
            rate_hz: st.rate_hz,
            offset_bytes: 0,
            gain_uv: st.bit_volts.first().copied().unwrap_or(1.0),
        };
        let mut series = raw_series(Path::new(&name), &layout, channels_per_group, &raw);
        #[allow(clippy::cast_precision_loss)]
        let start = if st.first_time_s.is_finite() { st.first_time_s } else { st.first_sample as f64 / st.rate_hz };
        series.starting_time_s = start;
        let uv = vec![layout.gain_uv; layout.n_channels];
        let events = r
            .ttl
            .iter()
            .flat_map(|(folder, ev)| {
                ev.iter().filter(|e| e.rising).map(move |e| burstscope_core::Event {
                    name: format!("ttl:{}", e.line),
                    time_s: e.time_s,
                    source: format!("Open Ephys TTL {folder}"),
                })
            })
            .collect();
        return Ok(Some(Extracellular {
            series,
            source: Box::new(raw),
            uv_per_count: uv,
            events,
            format: "Open Ephys binary",
        }));
    }
    let ncs_input = if file.is_dir() {
        !burstscope_formats::neuralynx::ncs_files(file).is_empty()
            && !burstscope_formats::openephys::is_legacy_dir(file)
    } else {
        file.extension().is_some_and(|e| e.eq_ignore_ascii_case("ncs"))
    };
    if ncs_input {
        let nlx = burstscope_formats::neuralynx::NcsRecording::open(file).map_err(|e| input(&e))?;
        let name = file.file_name().map_or_else(|| "neuralynx".into(), |n| n.to_string_lossy().into_owned());
        let series = SeriesInfo {
            name: name.clone(),
            path: name,
            kind: burstscope_core::SeriesKind::Mapped,
            dtype: "int16".into(),
            n_samples: nlx.n_samples,
            n_channels: nlx.channels.len(),
            rate_hz: nlx.rate_hz,
            starting_time_s: nlx.start_s,
            has_timestamps: false,
            duration_s: nlx.n_samples as f64 / nlx.rate_hz,
            conversion: 1e-6,
            offset: 0.0,
            channel_conversion: None,
            unit: "microvolts".into(),
            electrodes: grouped_electrodes(nlx.channels.len(), channels_per_group),
        };
        let uv = nlx.channels.iter().map(|c| c.uv_per_bit).collect();
        let dir =
            if file.is_dir() { file.to_path_buf() } else { file.parent().map(Path::to_path_buf).unwrap_or_default() };
        let events = neuralynx_events(&dir);
        return Ok(Some(Extracellular {
            series,
            source: Box::new(nlx),
            uv_per_count: uv,
            events,
            format: "Neuralynx",
        }));
    }
    if file.is_dir() {
        if !burstscope_formats::openephys::is_legacy_dir(file) {
            bail!(
                "{}: a folder without .continuous files or structure.oebin; expected an Open Ephys record node (legacy format) or recording folder (binary format)",
                file.display()
            );
        }
        let oe = burstscope_formats::openephys::LegacyRecording::open(file).map_err(|e| input(&e))?;
        let series = openephys_series(file, channels_per_group, &oe);
        let uv = oe.channels.iter().map(|c| c.bit_volts).collect();
        let events = burstscope_formats::openephys::legacy_ttl_events(file, oe.rate_hz)
            .map_err(|e| input(&e))?
            .into_iter()
            .filter(|e| e.rising)
            .map(|e| burstscope_core::Event {
                name: format!("ttl:{}", e.line),
                time_s: e.time_s,
                source: "Open Ephys TTL events".into(),
            })
            .collect();
        return Ok(Some(Extracellular {
            series,
            source: Box::new(oe),
            uv_per_count: uv,
            events,
            format: "Open Ephys legacy",
        }));
    }
    Ok(None)
}

type Detected = (StageOutput, PathBuf, Vec<i64>, BTreeMap<String, serde_json::Value>, Vec<String>);

#[allow(clippy::too_many_lines)]
fn detect_into(
    file: &Path,
    out: &Path,
    cfg: &DetectConfig,
    progress: &dyn Progress,
    hash_now: &std::sync::mpsc::Sender<()>,
) -> Result<Detected> {
    let params = &cfg.params;
    // the formats burstscope-formats reads, else NWB / HDF5 through burstscope-io
    let other = open_extracellular(file, cfg.raw.as_ref(), cfg.channels_per_group)?;
    let (series, nwb_reader, timestamps) = match &other {
        Some(x) => (x.series.clone(), None, None),
        None => {
            let rec = Recording::open_with(file, cfg.mapping.clone())?;
            let series = rec.series_named(cfg.series.as_deref())?;
            let reader = rec.stream(&series)?;
            // The reader checked at open that there is one timestamp per sample.
            let timestamps = rec.timestamps(&series)?;
            (series, Some(reader), timestamps)
        }
    };
    let reader: &dyn burstscope_core::BlockSource = match (&nwb_reader, &other) {
        (Some(r), _) => r,
        (None, Some(x)) => x.source.as_ref(),
        (None, None) => bail!("{}: no reader", file.display()),
    };
    if !reader.feeds_hash_tap() {
        let _ = hash_now.send(());
    }
    params
        .validate(series.rate_hz)
        .map_err(|e| Error::from(detect_param_error(params, &e)))
        .ctx(|| format!("{}: {} at {} Hz", file.display(), series.path, series.rate_hz))?;
    let scale = to_microvolts(&series)?;
    let groups: Vec<ChannelGroup> =
        series.channel_groups().into_iter().map(|(name, channels)| ChannelGroup { name, channels }).collect();
    let plan = Plan::new(params, series.rate_hz, series.n_samples, series.n_channels, &groups, scale)
        .ctx(|| format!("{}: {}", file.display(), series.path))?;
    let stage = StageOutput::begin(out, DETECT_STAGE, Vec::new(), Vec::new(), cfg)?;
    tracing::info!(
        "opened {} ({} blocks, direct reads: {})",
        file.display(),
        plan.n_blocks(),
        nwb_reader.as_ref().is_none_or(burstscope_io::SeriesReader::is_direct)
    );
    let t0 = std::time::Instant::now();
    let noise = plan.noise(reader).ctx(|| format!("{}: noise estimate", file.display()))?;
    tracing::debug!("noise estimate: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    let mut warnings = Vec::new();
    for (c, dead) in noise.dead.iter().enumerate() {
        if *dead {
            warnings.push(format!(
                "channel {c} (electrode row {}) is flat or dead (σ = {}); skipped",
                series.electrodes[c].row, noise.sigma[c]
            ));
        }
    }
    let pgroups = plan.groups().to_vec();
    let max_group = pgroups.iter().map(|g| g.channels.len()).max().unwrap_or(0);
    let mut waves = if cfg.waveforms {
        let wg: Vec<WaveformGroup> = pgroups
            .iter()
            .map(|g| WaveformGroup {
                name: g.name.clone(),
                electrode_rows: g.channels.iter().map(|&c| series.electrodes[c].row as i64).collect(),
                // int16 counts of σ/32: the rounding adds σ/111 RMS (0.008 %
                // of the noise's variance) and ±1024 σ fits
                uv_per_count: (!cfg.waveforms_float32).then(|| {
                    g.channels
                        .iter()
                        .map(|&c| {
                            let sigma = noise.sigma[c];
                            if sigma.is_finite() && sigma > 0.0 { sigma / WAVEFORM_COUNTS_PER_SIGMA } else { 1.0 }
                        })
                        .collect()
                }),
            })
            .collect();
        let (nb, na) = plan.snippet();
        Some(WaveformWriter::create(
            &stage.path().join("waveforms.h5"),
            &wg,
            series.rate_hz,
            nb,
            na,
            cfg.waveforms_gzip,
        )?)
    } else {
        None
    };
    // Columns of the spikes table, filled as blocks arrive in order.
    let mut sample: Vec<i64> = Vec::new();
    let mut group: Vec<String> = Vec::new();
    let mut channel: Vec<i64> = Vec::new();
    let mut amplitude: Vec<f64> = Vec::new();
    let mut ratio: Vec<f64> = Vec::new();
    let mut peaks: Vec<Vec<f64>> = vec![Vec::new(); max_group];
    progress.start(plan.n_blocks() as u64, "detecting");
    let on_progress = |n: u64| progress.inc(n);
    let mut sink = |o: burstscope_spikes::BlockOutput| -> std::result::Result<(), String> {
        for ev in &o.events {
            let row = sample.len() as u64;
            #[allow(clippy::cast_possible_wrap)]
            sample.push(ev.sample as i64);
            group.push(pgroups[ev.group].name.clone());
            channel.push(series.electrodes[ev.channel].row as i64);
            amplitude.push(f64::from(ev.amplitude));
            ratio.push(f64::from(ev.ratio));
            let at_peak = o.peaks(ev);
            for (k, col) in peaks.iter_mut().enumerate() {
                col.push(at_peak.get(k).map_or(f64::NAN, |&v| f64::from(v)));
            }
            if let Some(w) = waves.as_mut() {
                w.push(ev.group, row, o.waveform(ev)).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    };
    let t0 = std::time::Instant::now();
    let summary = burstscope_spikes::run(&plan, reader, &noise, &on_progress, &mut sink)
        .ctx(|| format!("{}: detection", file.display()))?;
    tracing::debug!("detection: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    let t0 = std::time::Instant::now();
    progress.finish();
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
    let saturated = waves.as_ref().map(WaveformWriter::saturated);
    // Close the waveform file while the table is written.
    let (finished, written) = rayon::join(
        || waves.take().map(WaveformWriter::finish).transpose(),
        || write_table(&table, stage.path(), cfg.format.into()),
    );
    finished?;
    let spikes = written?;
    tracing::debug!("waveforms closed and spikes table written: {:.1} ms", t0.elapsed().as_secs_f64() * 1e3);
    let spikes_name = spikes.file_name().map(PathBuf::from).unwrap_or_default();
    let mut s = BTreeMap::new();
    s.insert("series".into(), json!({"path": series.path, "rate_hz": series.rate_hz, "n_samples": series.n_samples, "n_channels": series.n_channels, "dtype": series.dtype}));
    s.insert(
        "channels".into(),
        json!(
            series
                .electrodes
                .iter()
                .enumerate()
                .map(|(c, e)| json!({
                    "channel_index": c,
                    "electrode_row": e.row,
                    "group": e.group_name(),
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
    s.insert(
        "groups".into(),
        json!(
            pgroups
                .iter()
                .zip(&summary.events_per_group)
                .map(|(g, n)| json!({"group": g.name, "channels": g.channels, "events": n}))
                .collect::<Vec<_>>()
        ),
    );
    s.insert("events".into(), json!(n_events));
    if let Some(n) = saturated.filter(|_| !cfg.waveforms_float32) {
        s.insert("waveform_values_saturated".into(), json!(n));
        if n > 0 {
            warnings.push(format!(
                "{n} waveform values beyond ±{:.0} σ stored saturated (--waveforms-float32 keeps them)",
                32_767.0 / WAVEFORM_COUNTS_PER_SIGMA
            ));
        }
    }
    s.insert("events_rejected_bad_samples".into(), json!(summary.rejected_bad));
    s.insert(
        "grid".into(),
        json!({"block_samples": params.block_samples, "margin_samples": plan.margin_samples(), "blocks": plan.n_blocks()}),
    );
    let bad: u64 = summary.clipped.iter().chain(&summary.nonfinite).sum();
    if bad > 0 {
        warnings
            .push(format!("{bad} clipped or non-finite samples; {} events near them dropped", summary.rejected_bad));
    }
    Ok((stage, spikes_name, samples, s, warnings))
}
