//! Text summaries of recording files (what `inspect` prints).

use burstscope_core::FileSummary;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Human-readable summary of one file.
pub fn render_summary(s: &FileSummary) -> String {
    let mut o = String::new();
    let version = s.session.nwb_version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
    let _ = writeln!(o, "{} ({}{version})", s.path, s.layout);
    if let Some(d) = &s.session.session_description {
        let _ = writeln!(o, "  session: {d}");
    }
    if let Some(t) = &s.session.session_start_time {
        let _ = writeln!(o, "  start: {t}");
    }
    if let Some(p) = &s.session.pharmacology {
        let _ = writeln!(o, "  pharmacology: {p}");
    }
    if !s.session.subject.is_empty() {
        let subj: Vec<String> = s.session.subject.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(o, "  subject: {}", subj.join(", "));
    }
    if let Some(d) = s.recording_duration_s {
        let _ = writeln!(o, "  duration: {d:.3} s");
    }
    let _ = writeln!(o, "  series: {}", s.series.len());
    for x in &s.series {
        let time = if x.has_timestamps { "timestamps" } else { "rate" };
        let _ = writeln!(
            o,
            "    {}  {}  {} samples x {} ch  {:.3} Hz ({time})  {:.3} s from {:.3} s  x{:e} {}",
            x.path,
            x.dtype,
            x.n_samples,
            x.n_channels,
            x.rate_hz,
            x.duration_s,
            x.starting_time_s,
            x.conversion,
            x.unit
        );
        for (g, chs) in x.channel_groups() {
            let locs: std::collections::BTreeSet<&str> =
                chs.iter().map(|&c| x.electrodes[c].location.as_str()).collect();
            let rows: Vec<String> = chs.iter().map(|&c| x.electrodes[c].row.to_string()).collect();
            let _ = writeln!(
                o,
                "      group {g}: {} ch (electrode rows {}), location {}",
                chs.len(),
                rows.join(","),
                locs.into_iter().collect::<Vec<_>>().join("/")
            );
        }
    }
    let total: usize = s.units.iter().map(|u| u.n_spikes).sum();
    let _ = writeln!(o, "  units: {} ({total} spikes)", s.units.len());
    for u in s.units.iter().take(50) {
        let span = match (u.first_spike_s, u.last_spike_s) {
            (Some(a), Some(b)) => format!("{a:.3}-{b:.3} s"),
            _ => "no spikes".into(),
        };
        let _ = writeln!(
            o,
            "    {:<14} {:>8} spikes  {span}  {}",
            u.label,
            u.n_spikes,
            u.electrode_group.as_deref().unwrap_or("")
        );
    }
    if s.units.len() > 50 {
        let _ = writeln!(o, "    ... {} more (use --json for all)", s.units.len() - 50);
    }
    let _ = writeln!(o, "  epochs: {}", s.epochs.len());
    for e in &s.epochs {
        let _ = writeln!(o, "    {:.3}-{:.3} s  {}", e.start_s, e.stop_s, e.tags.join(","));
    }
    if !s.events.is_empty() {
        let mut by: BTreeMap<&str, (usize, f64, std::collections::BTreeSet<&str>)> = BTreeMap::new();
        for e in &s.events {
            let x = by.entry(e.source.as_str()).or_insert((0, e.time_s, Default::default()));
            x.0 += 1;
            x.2.insert(e.name.as_str());
        }
        let _ = writeln!(o, "  events (for --drug-at event:NAME): {}", s.events.len());
        for (src, (n, first, names)) in by {
            let shown: Vec<&str> = names.iter().take(8).copied().collect();
            let more = if names.len() > 8 { format!(", ... {} more names", names.len() - 8) } else { String::new() };
            let _ = writeln!(o, "    {src}: {n} from {first:.3} s: {}{more}", shown.join(", "));
        }
    }
    let _ = writeln!(o, "  sweeps: {}", s.sweeps.len());
    if !s.sweeps.is_empty() {
        let mut cells: BTreeMap<String, (String, usize, BTreeMap<String, usize>)> = BTreeMap::new();
        for w in &s.sweeps {
            let (cell, loc) = w.electrode.as_ref().map_or(("unknown".to_string(), "unknown".to_string()), |e| {
                (
                    e.cell_id.clone().unwrap_or_else(|| e.name.clone()),
                    e.location.clone().unwrap_or_else(|| "unknown".into()),
                )
            });
            let entry = cells.entry(cell).or_insert((loc, 0, BTreeMap::new()));
            entry.1 += 1;
            *entry.2.entry(w.stimulus_description.clone().unwrap_or_default()).or_insert(0) += 1;
        }
        let first = &s.sweeps[0];
        let _ = writeln!(
            o,
            "    {:?}, {} samples at {} Hz ({:.3} s), stimulus series: {}",
            first.mode,
            first.n_samples,
            first.rate_hz,
            first.n_samples as f64 / first.rate_hz,
            if s.sweeps.iter().all(|w| w.stimulus_path.is_some()) { "all" } else { "some missing" }
        );
        for (cell, (loc, n, conds)) in cells {
            let c: Vec<String> = conds.iter().map(|(k, v)| format!("{k} x{v}")).collect();
            let _ = writeln!(o, "    cell {cell} ({loc}): {n} sweeps; {}", c.join(", "));
        }
        if s.has_intracellular_recordings_table {
            let _ = writeln!(o, "    paired through the IntracellularRecordingsTable");
        }
    }
    o
}

/// Whether `path` starts like an Axon ABF file (`ABF ` or `ABF2`).
#[must_use]
pub fn is_abf(path: &std::path::Path) -> bool {
    use std::io::Read as _;
    let mut sig = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut sig)).is_ok() && (&sig == b"ABF " || &sig == b"ABF2")
}

/// The summary of an ABF file as JSON (what `inspect --json` prints).
#[must_use]
pub fn abf_summary(a: &burstscope_formats::abf::Abf) -> serde_json::Value {
    use burstscope_formats::abf::{AbfFormat, OperationMode};
    let mode = match a.mode {
        OperationMode::VariableLengthEvents => "triggered, variable-length sweeps",
        OperationMode::FixedLengthEvents => "triggered, fixed-length sweeps",
        OperationMode::GapFree => "gap-free",
        OperationMode::HighSpeedOscilloscope => "high-speed oscilloscope",
        OperationMode::Episodic => "episodic stimulation",
    };
    let lengths: std::collections::BTreeSet<usize> = a.sweeps.iter().map(|s| s.len).collect();
    serde_json::json!({
        "path": a.path.display().to_string(),
        "layout": if a.format == AbfFormat::V1 { "ABF1" } else { "ABF2" },
        "abf_version": a.version,
        "acquisition": mode,
        "start": a.start,
        "creator": a.creator,
        "protocol": a.protocol_path,
        "comment": a.comment,
        "rate_hz": a.rate_hz,
        "sweeps": a.sweeps.len(),
        "sweep_samples": lengths.into_iter().collect::<Vec<_>>(),
        "sweep_interval_s": a.episode_interval_s,
        "channels": a.channels.iter().map(|c| serde_json::json!({
            "name": c.name, "units": c.units, "adc": c.adc,
            "telegraph_mode": c.telegraph_current_clamp.map(|cc| if cc { "current clamp" } else { "voltage clamp" }),
            "telegraph_filter_hz": c.telegraph_filter_hz,
        })).collect::<Vec<_>>(),
        "commands": a.dacs.iter().enumerate().filter(|(_, d)| d.waveform_enabled || !d.epochs.is_empty()).map(|(i, d)| serde_json::json!({
            "dac": i, "name": d.name, "units": d.units, "holding": d.holding, "waveform": d.waveform_enabled,
            "membrane_test": d.membrane_test,
            "epochs": d.epochs.iter().map(|e| serde_json::json!({
                "epoch": e.index, "type": e.kind.name(), "level": e.init_level, "level_inc": e.level_inc,
                "duration_ms": e.init_duration as f64 / a.rate_hz * 1e3, "duration_inc_ms": e.duration_inc as f64 / a.rate_hz * 1e3,
                "pulse_period_ms": e.pulse_period as f64 / a.rate_hz * 1e3, "pulse_width_ms": e.pulse_width as f64 / a.rate_hz * 1e3,
                "digital": format!("{:08b}", e.digital),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "tags": a.tags.iter().map(|t| serde_json::json!({"time_s": t.time_s, "comment": t.comment})).collect::<Vec<_>>(),
        "warnings": a.warnings,
    })
}

/// Human-readable summary of an ABF file.
#[must_use]
pub fn render_abf(a: &burstscope_formats::abf::Abf) -> String {
    let v = abf_summary(a);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} ({} {}, {})",
        a.path.display(),
        v["layout"].as_str().unwrap_or(""),
        a.version,
        v["acquisition"].as_str().unwrap_or("")
    );
    if let Some(t) = &a.start {
        let _ = writeln!(o, "  start: {t}");
    }
    if !a.protocol_path.is_empty() {
        let _ = writeln!(o, "  protocol: {}", a.protocol_path);
    }
    if !a.comment.is_empty() {
        let _ = writeln!(o, "  comment: {}", a.comment);
    }
    let lengths: Vec<String> =
        v["sweep_samples"].as_array().map(|l| l.iter().map(ToString::to_string).collect()).unwrap_or_default();
    let _ = writeln!(o, "  {} sweeps of {} samples at {} Hz", a.sweeps.len(), lengths.join("/"), a.rate_hz);
    for (i, c) in a.channels.iter().enumerate() {
        let mode = c
            .telegraph_current_clamp
            .map_or(String::new(), |cc| format!(", telegraph: {}", if cc { "current clamp" } else { "voltage clamp" }));
        let _ = writeln!(o, "  channel {i}: {} [{}]{mode}", c.name, c.units);
    }
    for (i, d) in a.dacs.iter().enumerate().filter(|(_, d)| d.waveform_enabled) {
        let _ = writeln!(o, "  command {i}: {} [{}], holding {} {}", d.name, d.units, d.holding, d.units);
        for e in &d.epochs {
            #[allow(clippy::cast_precision_loss)]
            let ms = e.init_duration as f64 / a.rate_hz * 1e3;
            let inc = if e.level_inc != 0.0 { format!(" (+{} per sweep)", e.level_inc) } else { String::new() };
            let _ = writeln!(
                o,
                "    epoch {}: {} {} {}{inc} for {ms:.1} ms",
                char::from(b'A' + (e.index % 26) as u8),
                e.kind.name(),
                e.init_level,
                d.units
            );
        }
    }
    for t in &a.tags {
        let _ = writeln!(o, "  tag at {:.3} s: {}", t.time_s, t.comment);
    }
    for w in &a.warnings {
        let _ = writeln!(o, "  warning: {w}");
    }
    o
}

/// The file formats `inspect` reads besides NWB/HDF5 and ABF: the summary as
/// JSON and as text, or `None` when `path` is none of them.
///
/// # Errors
/// The file is one of them but cannot be read.
pub fn other_format_summary(path: &std::path::Path) -> crate::Result<Option<(serde_json::Value, String)>> {
    use burstscope_formats::blackrock::{Nev, Nsx};
    use burstscope_formats::openephys::{LegacyRecording, is_legacy_dir};
    use serde_json::json;
    use std::fmt::Write as _;
    let input = |e: &dyn std::fmt::Display| crate::Error::Input(e.to_string());
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if burstscope_formats::openephys::is_binary_dir(path) {
        let r = burstscope_formats::openephys::BinaryRecording::open(path).map_err(|e| input(&e))?;
        let mut o = format!("{} (Open Ephys binary format, GUI {})\n", path.display(), r.gui_version);
        for (k, st) in r.streams.iter().enumerate() {
            let dat = if st.folder.join("continuous.dat").is_file() {
                "continuous.dat present"
            } else {
                "continuous.dat MISSING"
            };
            let _ = writeln!(
                o,
                "  stream {k} {}: {} channels at {} Hz, {} samples from {:.6} s (sample {}); {dat}",
                st.name,
                st.channels.len(),
                st.rate_hz,
                st.n_samples,
                st.first_time_s,
                st.first_sample
            );
        }
        for (folder, ev) in &r.ttl {
            let _ = writeln!(o, "  TTL {folder}: {} events", ev.len());
        }
        let v = json!({"path": path.display().to_string(), "format": "openephys_binary", "gui_version": r.gui_version,
            "streams": r.streams.iter().map(|st| json!({"name": st.name, "rate_hz": st.rate_hz, "channels": st.channels,
                "n_samples": st.n_samples, "first_sample": st.first_sample, "first_time_s": st.first_time_s,
                "continuous_dat": st.folder.join("continuous.dat").is_file()})).collect::<Vec<_>>(),
            "ttl": r.ttl.iter().map(|(f, ev)| json!({"folder": f, "events": ev.iter().map(|e| json!({"line": e.line, "rising": e.rising, "sample": e.sample, "time_s": e.time_s})).collect::<Vec<_>>()})).collect::<Vec<_>>()});
        return Ok(Some((v, o)));
    }
    if path.is_dir() && is_legacy_dir(path) {
        let r = LegacyRecording::open(path).map_err(|e| input(&e))?;
        let names: Vec<&str> = r.channels.iter().map(|c| c.channel.as_str()).collect();
        let mut o = format!(
            "{} (Open Ephys legacy format)\n  {} channels at {} Hz, {} samples ({:.3} s) from {:.6} s\n  channels: {}\n",
            path.display(),
            r.channels.len(),
            r.rate_hz,
            r.n_samples,
            r.n_samples as f64 / r.rate_hz,
            r.start_s,
            names.join(", ")
        );
        let ttl = burstscope_formats::openephys::legacy_ttl_events(path, r.rate_hz).map_err(|e| input(&e))?;
        if !ttl.is_empty() {
            let lines: std::collections::BTreeSet<u16> = ttl.iter().map(|e| e.line).collect();
            let _ = writeln!(o, "  TTL: {} events on lines {lines:?}", ttl.len());
        }
        for w in &r.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        let v = json!({"path": path.display().to_string(), "format": "openephys_legacy", "rate_hz": r.rate_hz,
            "ttl": ttl.iter().map(|e| json!({"line": e.line, "rising": e.rising, "sample": e.sample, "time_s": e.time_s})).collect::<Vec<_>>(),
            "n_samples": r.n_samples, "start_s": r.start_s, "channels": names,
            "bit_volts": r.channels.iter().map(|c| c.bit_volts).collect::<Vec<_>>(), "warnings": r.warnings});
        return Ok(Some((v, o)));
    }
    if path.is_file() && burstscope_formats::intan::is_rhd(path) {
        use burstscope_core::BlockSource as _;
        let r = burstscope_formats::intan::Rhd::open(path).map_err(|e| input(&e))?;
        let mut o = format!(
            "{} (Intan RHD2000 {}.{})\n  {} amplifier channels at {} Hz, {} samples ({:.3} s) from {:.6} s\n",
            path.display(),
            r.version.0,
            r.version.1,
            r.n_channels(),
            r.rate_hz,
            r.n_samples(),
            r.n_samples() as f64 / r.rate_hz,
            r.start_s()
        );
        let names: Vec<&str> = r.channels.iter().map(|c| c.custom_name.as_str()).collect();
        let _ = writeln!(o, "  channels: {}", names.join(", "));
        for w in &r.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        let v = json!({"path": path.display().to_string(), "format": "intan_rhd",
            "version": format!("{}.{}", r.version.0, r.version.1), "rate_hz": r.rate_hz,
            "n_samples": r.n_samples(), "start_s": r.start_s(), "notes": r.notes,
            "channels": r.channels.iter().map(|c| json!({"native": c.native_name, "name": c.custom_name, "impedance_ohm": c.impedance_ohm})).collect::<Vec<_>>(),
            "warnings": r.warnings});
        return Ok(Some((v, o)));
    }
    if burstscope_formats::spikeglx::is_spikeglx(path) {
        use burstscope_core::BlockSource as _;
        let g = burstscope_formats::spikeglx::SpikeGlx::open(path).map_err(|e| input(&e))?;
        let mut o = format!(
            "{} (SpikeGLX {}{}{})\n  {} channels ({} neural) at {} Hz, {} samples ({:.3} s) from {:.6} s\n",
            path.display(),
            g.device,
            if g.stream.is_empty() { "" } else { " " },
            g.stream,
            g.n_channels(),
            g.n_neural,
            g.rate_hz(),
            g.n_samples(),
            g.n_samples() as f64 / g.rate_hz(),
            g.start_s()
        );
        if let Some(sh) = &g.shanks {
            let n: std::collections::BTreeSet<&u32> = sh.iter().collect();
            let _ = writeln!(o, "  shanks: {}", n.len());
        }
        for w in &g.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        let v = json!({"path": path.display().to_string(), "format": "spikeglx", "device": g.device, "stream": g.stream,
            "rate_hz": g.rate_hz(), "n_samples": g.n_samples(), "start_s": g.start_s(), "n_neural": g.n_neural,
            "channels": g.channel_names, "uv_per_bit": g.uv_per_bit, "shanks": g.shanks, "warnings": g.warnings});
        return Ok(Some((v, o)));
    }
    let ncs = if path.is_dir() { !burstscope_formats::neuralynx::ncs_files(path).is_empty() } else { ext == "ncs" };
    if ncs && !(path.is_dir() && is_legacy_dir(path)) {
        use burstscope_core::BlockSource as _;
        let r = burstscope_formats::neuralynx::NcsRecording::open(path).map_err(|e| input(&e))?;
        let mut o = format!(
            "{} (Neuralynx .ncs)\n  {} channels at {} Hz, {} samples ({:.3} s) from {:.6} s\n",
            path.display(),
            r.n_channels(),
            r.rate_hz,
            r.n_samples,
            r.n_samples as f64 / r.rate_hz,
            r.start_s
        );
        for c in &r.channels {
            let _ = writeln!(o, "  {}: {} µV per count", c.name, c.uv_per_bit);
        }
        for w in &r.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().map(std::path::Path::to_path_buf).unwrap_or_default()
        };
        let events = crate::detect::neuralynx_events(&dir);
        if !events.is_empty() {
            let _ = writeln!(o, "  events (for --drug-at event:NAME): {}", events.len());
        }
        let v = json!({"path": path.display().to_string(), "format": "neuralynx_ncs", "rate_hz": r.rate_hz,
            "n_samples": r.n_samples, "start_s": r.start_s,
            "channels": r.channels.iter().map(|c| json!({"name": c.name, "uv_per_bit": c.uv_per_bit})).collect::<Vec<_>>(),
            "events": events, "warnings": r.warnings});
        return Ok(Some((v, o)));
    }
    if ext == "ntt" {
        let t = burstscope_formats::neuralynx::Ntt::open(path).map_err(|e| input(&e))?;
        let cells = t.cells();
        let mut o = format!("{} (Neuralynx tetrode spikes {})\n  {} spikes\n", path.display(), t.name, t.spikes.len());
        for (c, times) in &cells {
            let _ = writeln!(o, "  cell {c}{}: {} spikes", if *c == 0 { " (unsorted)" } else { "" }, times.len());
        }
        let v = json!({"path": path.display().to_string(), "format": "neuralynx_ntt", "name": t.name,
            "n_spikes": t.spikes.len(), "cells": cells.iter().map(|(c, v)| json!({"cell": c, "n_spikes": v.len()})).collect::<Vec<_>>()});
        return Ok(Some((v, o)));
    }
    if ext == "nev" && burstscope_formats::neuralynx::is_neuralynx(path) {
        let e = burstscope_formats::neuralynx::NlxEvents::open(path).map_err(|e| input(&e))?;
        let mut o = format!("{} (Neuralynx events)\n  {} events\n", path.display(), e.events.len());
        for ev in e.events.iter().take(20) {
            let _ = writeln!(o, "  {:.6} s: {} (TTL {})", ev.timestamp_us as f64 * 1e-6, ev.text, ev.ttl);
        }
        let v = json!({"path": path.display().to_string(), "format": "neuralynx_nev",
            "events": e.events.iter().map(|x| json!({"time_s": x.timestamp_us as f64 * 1e-6, "text": x.text, "ttl": x.ttl})).collect::<Vec<_>>()});
        return Ok(Some((v, o)));
    }
    if path.is_file() && burstscope_formats::heka::is_heka(path) {
        let h = burstscope_formats::heka::Heka::open(path)?;
        return Ok(Some((heka_summary(&h), render_heka(&h))));
    }
    if ext == "nev" {
        let n = Nev::open(path).map_err(|e| input(&e))?;
        let units = n.units();
        let sorted = units.iter().filter(|((_, u), _)| (1..=16).contains(u)).count();
        let changes: Vec<_> = n.digital_changes().collect();
        let mut o = format!(
            "{} (Blackrock NEV {})\n  {} spikes on {} electrodes in {} trains ({sorted} online-sorted units), timestamps at {} Hz\n  {} digital-input changes\n",
            path.display(),
            n.version,
            n.spikes.len(),
            units.iter().map(|((e, _), _)| *e).collect::<std::collections::BTreeSet<_>>().len(),
            units.len(),
            n.timestamp_hz,
            changes.len()
        );
        for w in &n.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        let v = json!({"path": path.display().to_string(), "format": "blackrock_nev", "version": n.version,
            "n_spikes": n.spikes.len(), "n_trains": units.len(), "n_sorted_units": sorted,
            "timestamp_hz": n.timestamp_hz,
            "digital": changes.iter().map(|d| json!({"time_s": d.timestamp as f64 / n.timestamp_hz, "value": d.value})).collect::<Vec<_>>(),
            "events": n.digital_rising_edges().iter().map(|(b, t)| json!({"name": format!("digital:{b}"), "time_s": *t as f64 / n.timestamp_hz})).collect::<Vec<_>>(),
            "warnings": n.warnings});
        return Ok(Some((v, o)));
    }
    if ext.len() == 3 && ext.starts_with("ns") && ext.as_bytes()[2].is_ascii_digit() {
        let nev = sibling_nev(path).and_then(|p| Nev::open(&p).ok());
        let n = Nsx::open(path, nev.as_ref()).map_err(|e| input(&e))?;
        let mut o = format!(
            "{} (Blackrock NSx {})\n  {} channels at {} Hz, {} samples ({:.3} s) from {:.6} s\n",
            path.display(),
            n.version,
            n.channels.len(),
            n.rate_hz,
            n.n_samples,
            n.n_samples as f64 / n.rate_hz,
            n.start_s
        );
        for (id, label, g) in &n.channels {
            let _ = writeln!(o, "  {label} (id {id}): {g} µV per unit");
        }
        for w in &n.warnings {
            let _ = writeln!(o, "  warning: {w}");
        }
        let v = json!({"path": path.display().to_string(), "format": "blackrock_nsx", "version": n.version,
            "rate_hz": n.rate_hz, "n_samples": n.n_samples, "start_s": n.start_s,
            "channels": n.channels.iter().map(|(id, l, g)| json!({"id": id, "label": l, "uv_per_unit": g})).collect::<Vec<_>>(),
            "warnings": n.warnings});
        return Ok(Some((v, o)));
    }
    Ok(None)
}

/// The NEV file beside an NSx file: the same stem, or the stem with a
/// `-NN` suffix (Central's numbered event files).
#[must_use]
pub fn sibling_nev(nsx: &std::path::Path) -> Option<std::path::PathBuf> {
    let dir = nsx.parent()?;
    let stem = nsx.file_stem()?.to_string_lossy().into_owned();
    let same = dir.join(format!("{stem}.nev"));
    if same.is_file() {
        return Some(same);
    }
    let mut v: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x.eq_ignore_ascii_case("nev"))
                && p.file_stem().is_some_and(|s| s.to_string_lossy().starts_with(&format!("{stem}-")))
        })
        .collect();
    v.sort();
    v.into_iter().next()
}

/// The summary of a HEKA PatchMaster bundle as JSON (what `inspect --json` prints).
#[must_use]
pub fn heka_summary(h: &burstscope_formats::heka::Heka) -> serde_json::Value {
    use serde_json::json;
    json!({
        "path": h.path.display().to_string(),
        "format": "heka_patchmaster",
        "version": h.version,
        "start_unix_s": h.start_unix_s,
        "items": h.items.iter().map(|(e, _, l)| json!({"extension": e, "bytes": l})).collect::<Vec<_>>(),
        "groups": h.groups.iter().map(|g| json!({
            "label": g.label, "text": g.text,
            "series": g.series.iter().map(|s| {
                let first = s.sweeps.first();
                json!({
                    "label": s.label, "comment": s.comment, "time_unix_s": s.time_unix_s, "sweeps": s.sweeps.len(),
                    "traces": first.map(|w| w.traces.iter().map(|t| json!({
                        "label": t.label, "unit": t.y_unit, "points": t.points, "rate_hz": 1.0 / t.x_interval_s,
                        "mode": t.recording_mode.name(), "adc_channel": t.adc_channel,
                    })).collect::<Vec<_>>()),
                })
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "stimulations": h.stimulations.iter().map(|s| json!({
            "name": s.name, "sweeps": s.number_sweeps, "sample_interval_s": s.sample_interval_s,
            "sweep_interval_s": s.sweep_interval_s,
        })).collect::<Vec<_>>(),
        "warnings": h.warnings,
    })
}

/// Human-readable summary of a HEKA PatchMaster bundle.
#[must_use]
pub fn render_heka(h: &burstscope_formats::heka::Heka) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} (HEKA PatchMaster bundle, {})", h.path.display(), h.version);
    for g in &h.groups {
        let _ = writeln!(o, "  group {}: {} series", g.label, g.series.len());
        for s in &g.series {
            let traces = s.sweeps.first().map_or_else(String::new, |w| {
                w.traces
                    .iter()
                    .map(|t| format!("{} [{}] {} samples at {} Hz", t.label, t.y_unit, t.points, 1.0 / t.x_interval_s))
                    .collect::<Vec<_>>()
                    .join("; ")
            });
            let mode = s.sweeps.first().and_then(|w| w.traces.first()).map_or("", |t| t.recording_mode.name());
            let _ = writeln!(o, "    series {} ({mode}): {} sweeps; {traces}", s.label, s.sweeps.len());
        }
    }
    for w in &h.warnings {
        let _ = writeln!(o, "  warning: {w}");
    }
    o
}
