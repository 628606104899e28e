//! `burstscope convert`: any recording burstscope reads, written as an NWB
//! 2.x file for archiving (DANDI) and for every tool that reads NWB.
//!
//! - **Extracellular** (raw binary with its layout, Open Ephys legacy and
//!   binary, Blackrock NSx, SpikeGLX): one int16 `ElectricalSeries` streamed
//!   block by block (bounded memory), chunked, gzip-compressed on request,
//!   with the stored integers unchanged — `conversion` the first channel's
//!   volts per count and `channel_conversion` the others' ratios to it — the
//!   electrode table and one `ElectrodeGroup` per group (tetrode, shank, ...),
//!   and the TTL or digital-input edges as an `AnnotationSeries`.
//! - **Patch clamp** (Axon ABF, HEKA PatchMaster): one
//!   `IntracellularElectrode` per cell, every sweep as a
//!   `VoltageClampSeries` or `CurrentClampSeries` with its command
//!   (`…StimulusSeries`, from the protocol), the `IntracellularRecordingsTable`
//!   pairing them, ABF tags as an `AnnotationSeries` and drug conditions
//!   (`+drug`/`-drug` tags) as epochs.
//! - **Blackrock NEV**: the online-sorted units with their spike times and
//!   labels, and the digital-input edges.
//!
//! The program, its version, the input and the options go into
//! `/general/source_script`; the file is written beside its destination and
//! renamed when complete.

use crate::Progress;
use crate::config::RawInput;
use crate::error::{Error, Result, bail};
use burstscope_core::{BlockQuality, Epoch, Event, Unit};
use burstscope_io::{Clamp, ElectricalSeriesSpec, IcRecordingRow, NwbSession, NwbWriter, PatchSweepSpec};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How to convert.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertOptions {
    /// gzip level for the continuous data (0: none).
    pub gzip_level: u8,
    /// Samples per chunk (and per block read) of continuous data.
    pub chunk_samples: usize,
    /// Channels per group (2 stereotrodes, 4 tetrodes) when the file does not say.
    pub channels_per_group: Option<usize>,
    /// The layout of a raw binary input.
    pub raw: Option<RawInput>,
    /// `/general/subject` fields (`subject_id`, `species`, `sex`, `age`, ...):
    /// no acquisition format records the animal, so only the user can give them.
    pub subject: Vec<(String, String)>,
    /// Experimenters (`Last, First`).
    pub experimenter: Vec<String>,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        Self {
            gzip_level: 0,
            chunk_samples: 65_536,
            channels_per_group: None,
            raw: None,
            subject: Vec::new(),
            experimenter: Vec::new(),
        }
    }
}

impl ConvertOptions {
    /// Checks the values.
    ///
    /// # Errors
    /// [`Error::Input`] naming the option.
    pub fn validate(&self) -> Result<()> {
        if self.gzip_level > 9 {
            bail!("--gzip {}: expected a level from 0 (none) to 9", self.gzip_level);
        }
        if !(1024..=1 << 22).contains(&self.chunk_samples) {
            bail!("--chunk-samples {}: expected 1024 to 4194304 samples", self.chunk_samples);
        }
        const FIELDS: [&str; 9] =
            ["subject_id", "species", "sex", "age", "date_of_birth", "description", "genotype", "strain", "weight"];
        for (k, v) in &self.subject {
            if !FIELDS.contains(&k.as_str()) || v.trim().is_empty() {
                bail!("--subject {k}={v}: expected KEY=VALUE with KEY one of {}", FIELDS.join(", "));
            }
        }
        Ok(())
    }
}

/// What `convert` wrote.
#[derive(Debug, Clone)]
pub struct ConvertRun {
    /// The NWB file.
    pub out: PathBuf,
    /// What the input was (`Axon ABF`, `SpikeGLX`, ...).
    pub format: String,
    /// What went in: series, sweeps, units, events.
    pub summary: BTreeMap<String, serde_json::Value>,
    /// Values that could not be carried over.
    pub warnings: Vec<String>,
}

/// Converts `input` into the NWB file `out`.
///
/// # Errors
/// The input cannot be read (exit 2 at the command line) or the file cannot
/// be written; nothing is left at `out` then.
pub fn run_convert(input: &Path, out: &Path, opts: &ConvertOptions, progress: &dyn Progress) -> Result<ConvertRun> {
    opts.validate()?;
    if out.extension().is_none_or(|e| !e.eq_ignore_ascii_case("nwb")) {
        bail!("{}: the output must be an .nwb file", out.display());
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(crate::error::file_err(parent))?;
    }
    let mut run = if crate::inspect::is_abf(input) {
        convert_abf(input, out, opts)?
    } else if input.is_file() && burstscope_formats::heka::is_heka(input) {
        convert_heka(input, out, opts)?
    } else if input.extension().is_some_and(|e| e.eq_ignore_ascii_case("nev")) {
        convert_nev(input, out, opts)?
    } else if let Some(x) = crate::detect::open_extracellular(input, opts.raw.as_ref(), opts.channels_per_group)? {
        convert_extracellular(input, out, opts, x, progress)?
    } else {
        bail!(
            "{}: not a format convert reads (Axon ABF, HEKA PatchMaster .dat, Blackrock NEV/NSx, SpikeGLX .bin + .meta, \
             an Open Ephys folder, or raw binary with --dtype --channels --rate); NWB files need no conversion",
            input.display()
        );
    };
    run.out = out.to_path_buf();
    Ok(run)
}

/// Session metadata every output gets: an identifier from the input's
/// name, size and time, the start time the source has (else the file's
/// modification time, said in the description).
fn session(input: &Path, format: &str, start_unix_s: Option<f64>, opts: &ConvertOptions) -> NwbSession {
    let meta = std::fs::metadata(input).ok();
    let mtime = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let id = burstscope_core::hash_bytes(
        format!("{}|{}|{mtime}", input.display(), meta.as_ref().map_or(0, std::fs::Metadata::len)).as_bytes(),
    );
    let name = input.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let (start, said) = match start_unix_s.filter(|t| t.is_finite() && *t > 0.0) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(t) => (burstscope_io::iso8601_from_unix(t as u64), String::new()),
        None => (
            burstscope_io::iso8601_from_unix(mtime),
            " (the file does not record its start: the session start is the file's modification time)".into(),
        ),
    };
    NwbSession {
        identifier: format!("burstscope-convert-{}", id.rsplit(':').next().unwrap_or_default()),
        session_description: format!("{name}, a {format} recording converted by burstscope{said}"),
        session_start_time: start,
        pharmacology: None,
        experimenter: opts.experimenter.clone(),
        subject: opts.subject.clone(),
    }
}

fn provenance(w: &NwbWriter, input: &Path, opts: &ConvertOptions, format: &str) -> Result<()> {
    let text = json!({
        "program": "burstscope",
        "version": burstscope_core::program_version(),
        "command": "convert",
        "input": input.display().to_string(),
        "input_format": format,
        "options": {
            "gzip_level": opts.gzip_level,
            "chunk_samples": opts.chunk_samples,
            "channels_per_group": opts.channels_per_group,
            "raw": opts.raw.as_ref().map(|r| json!({"dtype": r.dtype.name(), "n_channels": r.n_channels,
                "rate_hz": r.rate_hz, "offset_bytes": r.offset_bytes, "gain_uv": r.gain_uv})),
        },
    });
    w.add_source_script(&text.to_string(), "burstscope convert")?;
    Ok(())
}

/// Events as one `AnnotationSeries` per source.
fn annotations(w: &NwbWriter, events: &[Event]) -> Result<usize> {
    let mut by: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        by.entry(e.source.as_str()).or_default().push(e);
    }
    for (k, (source, ev)) in by.iter().enumerate() {
        let name = if by.len() == 1 { "events".to_string() } else { format!("events_{k}") };
        let texts: Vec<String> = ev.iter().map(|e| e.name.clone()).collect();
        let times: Vec<f64> = ev.iter().map(|e| e.time_s).collect();
        w.add_annotations(&name, &format!("events from {source}"), &texts, &times)?;
    }
    Ok(events.len())
}

// ------------------------------------------------------------ extracellular

fn convert_extracellular(
    input: &Path,
    out: &Path,
    opts: &ConvertOptions,
    x: crate::detect::Extracellular,
    progress: &dyn Progress,
) -> Result<ConvertRun> {
    let s = &x.series;
    let n_ch = s.n_channels;
    if x.uv_per_count.len() != n_ch || x.uv_per_count.iter().any(|g| !(g.is_finite() && *g != 0.0)) {
        bail!("{}: no finite scale to microvolts for every channel", input.display());
    }
    if s.dtype != "int16" {
        bail!(
            "{}: {} samples: convert keeps the stored integers and writes int16 recordings (int16 raw binary, Open Ephys, NSx, SpikeGLX)",
            input.display(),
            s.dtype
        );
    }
    let w = NwbWriter::create(out, &session(input, x.format, None, opts))?;
    provenance(&w, input, opts, x.format)?;
    w.add_device("acquisition_system", &format!("the {} acquisition system", x.format))?;
    let groups = s.channel_groups();
    let mut rows = vec![(String::new(), "unknown".to_string()); n_ch];
    for (name, channels) in &groups {
        let gname = if name.is_empty() { "all_channels".to_string() } else { name.clone() };
        w.add_electrode_group(&gname, &format!("channels {channels:?}"), "unknown", "acquisition_system")?;
        for &c in channels {
            rows[c] = (gname.clone(), "unknown".into());
        }
    }
    w.add_electrodes(&rows)?;
    let g0 = x.uv_per_count[0];
    let ratios: Vec<f32> = x.uv_per_count.iter().map(|g| (g / g0) as f32).collect();
    let same = ratios.iter().all(|r| *r == 1.0);
    let es = w.add_electrical_series(&ElectricalSeriesSpec {
        name: "ElectricalSeries".into(),
        n_samples: s.n_samples,
        electrode_rows: (0..n_ch).collect(),
        rate_hz: s.rate_hz,
        conversion: g0 * 1e-6,
        chunk_samples: opts.chunk_samples,
        gzip_level: opts.gzip_level,
        description: format!("wide-band signal from {}", input.display()),
        starting_time_s: s.starting_time_s,
        channel_conversion: (!same).then_some(ratios),
    })?;
    let cols: Vec<usize> = (0..n_ch).collect();
    let block = opts.chunk_samples;
    let n_blocks = s.n_samples.div_ceil(block);
    progress.start(n_blocks as u64, "converting");
    let mut buf = vec![0.0f32; block * n_ch];
    let mut ints = vec![0i16; block * n_ch];
    let mut clipped = 0usize;
    let mut bad = 0u64;
    for b in 0..n_blocks {
        let start = b * block;
        let len = block.min(s.n_samples - start);
        let mut q = BlockQuality::default();
        x.source.read(start, len, 1.0, &cols, n_ch, &mut buf[..len * n_ch], 0..len, &mut q).map_err(Error::Input)?;
        bad += q.nonfinite.iter().sum::<u64>();
        for (o, (v, c)) in ints[..len * n_ch].iter_mut().zip(buf[..len * n_ch].iter().zip((0..n_ch).cycle())) {
            // back to the stored integer (exact: |int × gain| < 2^24 in f32)
            let k = (f64::from(*v) / x.uv_per_count[c]).round();
            if !(-32_768.0..=32_767.0).contains(&k) {
                clipped += 1;
            }
            #[allow(clippy::cast_possible_truncation)]
            {
                *o = if k.is_finite() { k.clamp(-32_768.0, 32_767.0) as i16 } else { 0 };
            }
        }
        es.write_block(start, &ints[..len * n_ch])?;
        progress.inc(1);
    }
    progress.finish();
    let mut warnings = Vec::new();
    if clipped > 0 || bad > 0 {
        warnings.push(format!("{clipped} samples outside int16 and {bad} non-finite samples written clipped or as 0"));
    }
    let n_events = annotations(&w, &x.events)?;
    // a Neuralynx session folder: its tetrodes' sorted spikes as units
    let n_units = if x.format == "Neuralynx" && input.is_dir() { neuralynx_units(&w, input)? } else { 0 };
    w.finish()?;
    let mut summary = BTreeMap::new();
    summary.insert("units".into(), json!(n_units));
    summary.insert(
        "electrical_series".into(),
        json!({"channels": n_ch, "samples": s.n_samples, "rate_hz": s.rate_hz,
        "groups": groups.iter().map(|g| &g.0).collect::<Vec<_>>(), "channel_conversion": !same}),
    );
    summary.insert("events".into(), json!(n_events));
    Ok(ConvertRun { out: PathBuf::new(), format: x.format.into(), summary, warnings })
}

/// The `.ntt` files of a Neuralynx folder as `/units` (`TT1#<cell>`, cell 0
/// unsorted); the number written.
fn neuralynx_units(w: &NwbWriter, dir: &Path) -> Result<usize> {
    let files = burstscope_formats::neuralynx::ntt_files(dir);
    let mut units = Vec::new();
    let mut quality = Vec::new();
    for f in &files {
        let t = burstscope_formats::neuralynx::Ntt::open(f).map_err(|e| Error::Input(e.to_string()))?;
        for (cell, times) in t.cells() {
            units.push(Unit {
                id: units.len() as i64,
                label: format!("{}#{cell}", t.name),
                spike_times_s: times,
                electrode_group: None,
                obs_intervals_s: Vec::new(),
                columns: BTreeMap::new(),
            });
            quality.push(if cell == 0 { "unsorted" } else { "sorted" }.to_string());
        }
    }
    if units.is_empty() {
        return Ok(0);
    }
    let names: Vec<String> = units.iter().map(|u| u.label.clone()).collect();
    w.add_units_with_resolution(
        &units,
        &[("unit_name", "tetrode and cell number", names), ("quality", "sorted, or unsorted (cell 0)", quality)],
        Some(1e-6),
    )?;
    Ok(units.len())
}

// ------------------------------------------------------------ patch clamp

/// One sweep to write, in SI units.
struct Sweep {
    clamp: Clamp,
    number: u32,
    start_s: f64,
    rate_hz: f64,
    response: Vec<f32>,
    command: Option<Vec<f32>>,
    protocol: String,
}

/// One cell: its electrode and sweeps.
struct Cell {
    electrode: String,
    cell_id: String,
    sweeps: Vec<Sweep>,
}

fn write_cells(w: &NwbWriter, cells: &[Cell], device: &str, warnings: &mut Vec<String>) -> Result<(usize, usize)> {
    let mut rows = Vec::new();
    let mut n_cc = 0usize;
    for c in cells {
        w.add_ic_electrode(
            &c.electrode,
            device,
            &format!("the electrode of cell {}", c.cell_id),
            "unknown",
            &c.cell_id,
        )?;
        for s in &c.sweeps {
            let name = format!("{}_sweep_{:04}", c.electrode, s.number);
            if s.clamp == Clamp::Current {
                n_cc += 1;
            }
            let (r, st) = w.add_patch_sweep(&PatchSweepSpec {
                clamp: s.clamp,
                name: name.clone(),
                stimulus_name: format!("{}_stimulus_{:04}", c.electrode, s.number),
                sweep_number: s.number,
                starting_time_s: s.start_s,
                rate_hz: s.rate_hz,
                response: &s.response,
                command: s.command.as_deref(),
                stimulus_description: s.protocol.clone(),
                description: format!("sweep {} of cell {}", s.number, c.cell_id),
                electrode: c.electrode.clone(),
            })?;
            rows.push(IcRecordingRow {
                electrode: c.electrode.clone(),
                stimulus: st,
                response: r,
                count: s.response.len(),
            });
        }
    }
    if rows.iter().any(|r| r.stimulus.is_none()) {
        warnings.push(format!(
            "{} of {} sweeps have no command (the protocol's waveform was off or not laid out)",
            rows.iter().filter(|r| r.stimulus.is_none()).count(),
            rows.len()
        ));
    }
    if !rows.is_empty() {
        w.add_intracellular_recordings(&rows)?;
    }
    Ok((rows.len(), n_cc))
}

fn safe(name: &str) -> String {
    let s: String = name.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if s.is_empty() { "channel".into() } else { s }
}

fn convert_abf(input: &Path, out: &Path, opts: &ConvertOptions) -> Result<ConvertRun> {
    use burstscope_formats::abf::{Abf, is_current_unit, is_voltage_unit};
    let abf = Abf::open(input)?;
    let mut warnings: Vec<String> = abf.warnings.clone();
    let stem = input.file_stem().map_or_else(|| "cell".into(), |s| s.to_string_lossy().into_owned());
    let to_si = |u: &str| -> f64 {
        match u.trim() {
            "pA" => 1e-12,
            "nA" => 1e-9,
            "uA" | "µA" => 1e-6,
            "fA" => 1e-15,
            "mV" => 1e-3,
            "uV" | "µV" => 1e-6,
            _ => 1.0,
        }
    };
    let protocol = std::path::Path::new(&abf.protocol_path.replace('\\', "/"))
        .file_stem()
        .map_or_else(|| "ABF protocol".into(), |s| s.to_string_lossy().into_owned());
    let clamp_of = |c: usize| -> Option<Clamp> {
        let u = &abf.channels[c].units;
        if is_current_unit(u) && !abf.is_current_clamp(c) {
            Some(Clamp::Voltage)
        } else if abf.is_current_clamp(c) && (is_voltage_unit(u) || abf.channels.len() == 1) {
            Some(Clamp::Current)
        } else {
            None
        }
    };
    let cell_channels: Vec<(usize, Clamp)> =
        (0..abf.channels.len()).filter_map(|c| clamp_of(c).map(|k| (c, k))).collect();
    for c in (0..abf.channels.len()).filter(|c| clamp_of(*c).is_none()) {
        warnings.push(format!(
            "channel {c} ({} in {}) is neither a voltage-clamp current nor a current-clamp potential: not written",
            abf.channels[c].name, abf.channels[c].units
        ));
    }
    if cell_channels.is_empty() {
        bail!("{}: no voltage- or current-clamp channel to write", input.display());
    }
    let several = cell_channels.len() > 1;
    let mut cells = Vec::new();
    for &(c, clamp) in &cell_channels {
        let ch = &abf.channels[c];
        let scale = to_si(&ch.units);
        let dac = if c < abf.dacs.len() { Some(c) } else { abf.dacs.first().map(|_| 0) };
        let dac = dac.filter(|&d| {
            let u = &abf.dacs[d].units;
            abf.dacs[d].waveform_enabled
                && match clamp {
                    Clamp::Voltage => is_voltage_unit(u),
                    Clamp::Current => is_current_unit(u),
                }
        });
        let mut sweeps = Vec::with_capacity(abf.sweeps.len());
        for (k, span) in abf.sweeps.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            let response: Vec<f32> = abf.sweep(k, c)?.iter().map(|&v| (f64::from(v) * scale) as f32).collect();
            #[allow(clippy::cast_possible_truncation)]
            let command = dac.map(|d| {
                let sc = to_si(&abf.dacs[d].units);
                abf.sweep_command(k, d).iter().map(|&v| (f64::from(v) * sc) as f32).collect()
            });
            sweeps.push(Sweep {
                clamp,
                number: u32::try_from(k).unwrap_or(u32::MAX),
                start_s: span.start_s,
                rate_hz: abf.rate_hz,
                response,
                command,
                protocol: protocol.clone(),
            });
        }
        let cell_id = if several { format!("{stem}/{}", ch.name.trim()) } else { stem.clone() };
        cells.push(Cell { electrode: format!("electrode_{}", safe(&ch.name)), cell_id, sweeps });
    }
    let start = abf.start.as_deref().and_then(parse_iso_unix);
    let w = NwbWriter::create(out, &session(input, "Axon ABF", start, opts))?;
    provenance(&w, input, opts, "Axon ABF")?;
    w.add_device("amplifier", &format!("the amplifier ({}, ABF {})", abf.creator, abf.version))?;
    let (n_sweeps, n_cc) = write_cells(&w, &cells, "amplifier", &mut warnings)?;
    let events: Vec<Event> = abf
        .tags
        .iter()
        .map(|t| Event { name: t.comment.clone(), time_s: t.time_s, source: "ABF tags".into() })
        .collect();
    let n_events = annotations(&w, &events)?;
    let end_s = abf.sweeps.last().map_or(0.0, |s| s.start_s + s.len as f64 / abf.rate_hz);
    // the conditions `epsc` reads from the tags; without drug tags the whole
    // recording is the baseline, as `epsc` takes it
    let mut conditions = crate::epsc::conditions_from_tags(&abf.tags, end_s);
    if conditions.is_empty() {
        conditions.push(Epoch { start_s: 0.0, stop_s: end_s.max(0.0) + 1.0, tags: vec!["baseline".into()] });
    }
    let epochs: Vec<Epoch> = conditions
        .into_iter()
        .map(|mut e| {
            // NWB epochs need finite times: the baseline starts with the recording
            if !e.start_s.is_finite() {
                e.start_s = 0.0;
            }
            e
        })
        .collect();
    if !epochs.is_empty() {
        w.add_epochs(&epochs)?;
    }
    w.finish()?;
    let mut summary = BTreeMap::new();
    summary.insert("cells".into(), json!(cells.iter().map(|c| &c.cell_id).collect::<Vec<_>>()));
    summary.insert("sweeps".into(), json!(n_sweeps));
    summary.insert("current_clamp_sweeps".into(), json!(n_cc));
    summary.insert("events".into(), json!(n_events));
    summary.insert("epochs".into(), json!(epochs.len()));
    Ok(ConvertRun { out: PathBuf::new(), format: "Axon ABF".into(), summary, warnings })
}

/// Unix seconds of an ISO 8601 date-time without offset (ABF's local time,
/// taken as UTC): `YYYY-MM-DDTHH:MM:SS[.fff]`.
fn parse_iso_unix(s: &str) -> Option<f64> {
    let (date, time) = s.split_once('T')?;
    let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<Vec<_>>>()?;
    let t: Vec<f64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<Vec<_>>>()?;
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    let (y, m, day) = (d[0], d[1], d[2]);
    // days from civil (Howard Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    #[allow(clippy::cast_precision_loss)]
    Some(days as f64 * 86_400.0 + t[0] * 3600.0 + t[1] * 60.0 + t[2])
}

fn convert_heka(input: &Path, out: &Path, opts: &ConvertOptions) -> Result<ConvertRun> {
    use burstscope_formats::heka::{Heka, RecordingMode};
    let h = Heka::open(input)?;
    let mut warnings = h.warnings.clone();
    let stem = input.file_stem().map_or_else(|| "cell".into(), |s| s.to_string_lossy().into_owned());
    let t0 = h.first_sweep_unix_s();
    let several = h.groups.len() > 1;
    let mut cells = Vec::new();
    let mut skipped = 0usize;
    for (gi, group) in h.groups.iter().enumerate() {
        let mut sweeps = Vec::new();
        for (si, series) in group.series.iter().enumerate() {
            for (wi, sweep) in series.sweeps.iter().enumerate() {
                for (ti, tr) in sweep.traces.iter().enumerate() {
                    let clamp = match (tr.y_unit.trim(), tr.recording_mode) {
                        ("A", m) if m != RecordingMode::CClamp => Clamp::Voltage,
                        ("V", RecordingMode::CClamp) => Clamp::Current,
                        _ => {
                            skipped += 1;
                            continue;
                        }
                    };
                    if tr.is_leak {
                        skipped += 1;
                        continue;
                    }
                    #[allow(clippy::cast_possible_truncation)]
                    let response: Vec<f32> = h.trace(gi, si, wi, ti)?.iter().map(|&v| v as f32).collect();
                    #[allow(clippy::cast_possible_truncation)]
                    let command = h.command(gi, si, wi, ti).map(|c| c.iter().map(|&v| v as f32).collect());
                    sweeps.push(Sweep {
                        clamp,
                        number: u32::try_from(sweeps.len()).unwrap_or(u32::MAX),
                        start_s: sweep.time_unix_s - t0,
                        rate_hz: 1.0 / tr.x_interval_s,
                        response,
                        command,
                        protocol: series.label.clone(),
                    });
                }
            }
        }
        if sweeps.is_empty() {
            continue;
        }
        let cell_id = if several { format!("{stem}/{}", group.label) } else { stem.clone() };
        cells.push(Cell { electrode: format!("electrode_{}", safe(&group.label)), cell_id, sweeps });
    }
    if skipped > 0 {
        warnings.push(format!(
            "{skipped} traces that are neither a voltage-clamp current nor a current-clamp potential (monitors, leaks) not written"
        ));
    }
    if cells.is_empty() {
        bail!("{}: no voltage- or current-clamp trace to write", input.display());
    }
    let w = NwbWriter::create(out, &session(input, "HEKA PatchMaster", Some(t0), opts))?;
    provenance(&w, input, opts, "HEKA PatchMaster")?;
    w.add_device("amplifier", &format!("the amplifier (PatchMaster {})", h.version))?;
    let (n_sweeps, n_cc) = write_cells(&w, &cells, "amplifier", &mut warnings)?;
    w.finish()?;
    let mut summary = BTreeMap::new();
    summary.insert("cells".into(), json!(cells.iter().map(|c| &c.cell_id).collect::<Vec<_>>()));
    summary.insert("sweeps".into(), json!(n_sweeps));
    summary.insert("current_clamp_sweeps".into(), json!(n_cc));
    Ok(ConvertRun { out: PathBuf::new(), format: "HEKA PatchMaster".into(), summary, warnings })
}

// ------------------------------------------------------------ units

fn convert_nev(input: &Path, out: &Path, opts: &ConvertOptions) -> Result<ConvertRun> {
    let nev = burstscope_formats::blackrock::Nev::open(input).map_err(|e| Error::Input(e.to_string()))?;
    let label_of = |e: u16| nev.labels.iter().find(|l| l.0 == e).map(|l| l.1.clone()).filter(|l| !l.is_empty());
    let trains = nev.units();
    let units: Vec<Unit> = trains
        .iter()
        .enumerate()
        .map(|(k, ((e, u), times))| Unit {
            id: k as i64,
            label: format!("{}#{u}", label_of(*e).unwrap_or_else(|| format!("ch{e}"))),
            spike_times_s: times.clone(),
            electrode_group: None,
            obs_intervals_s: Vec::new(),
            columns: BTreeMap::new(),
        })
        .collect();
    let quality: Vec<String> = trains
        .iter()
        .map(|((_, u), _)| {
            match u {
                0 => "unsorted",
                255 => "noise",
                _ => "sorted",
            }
            .to_string()
        })
        .collect();
    let names: Vec<String> = units.iter().map(|u| u.label.clone()).collect();
    let w = NwbWriter::create(out, &session(input, "Blackrock NEV", None, opts))?;
    provenance(&w, input, opts, "Blackrock NEV")?;
    w.add_units_with_resolution(
        &units,
        &[
            ("unit_name", "electrode (or its label) and online-sorted unit number", names),
            ("quality", "Central's online sorting: sorted, unsorted (0) or noise (255)", quality),
        ],
        Some(1.0 / nev.timestamp_hz),
    )?;
    let events: Vec<Event> = nev
        .digital_rising_edges()
        .into_iter()
        .map(|(bit, ts)| Event {
            name: format!("digital:{bit}"),
            time_s: ts as f64 / nev.timestamp_hz,
            source: "NEV digital input".into(),
        })
        .collect();
    let n_events = annotations(&w, &events)?;
    w.finish()?;
    let mut summary = BTreeMap::new();
    summary.insert("units".into(), json!(units.len()));
    summary.insert("spikes".into(), json!(nev.spikes.len()));
    summary.insert("events".into(), json!(n_events));
    Ok(ConvertRun { out: PathBuf::new(), format: "Blackrock NEV".into(), summary, warnings: nev.warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_give_unix_seconds() {
        assert_eq!(parse_iso_unix("1970-01-01T00:00:00"), Some(0.0));
        assert_eq!(parse_iso_unix("2017-11-27T08:17:49.5"), Some(1_511_770_669.5));
        assert_eq!(parse_iso_unix("2017-11-27"), None);
    }
}
