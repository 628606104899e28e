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
