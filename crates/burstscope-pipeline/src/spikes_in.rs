//! Spike trains from the files labs have: NWB `/units` (any NWB 2.x root), MEA
//! spike-train HDF5 files, a `unit,time_s` table, or a Blackrock NEV file's
//! online-sorted units.
//!
//! Real sortings contain unsorted spike times (trials concatenated, merged
//! units) and exact duplicates: they are sorted and de-duplicated here, and
//! each case is returned as a warning that goes into the output's record.

use crate::error::{Context, Result, bail};
use burstscope_core::{ColumnData, Epoch, Event};
use burstscope_io::Recording;
use std::path::Path;

/// One unit's spike train (sorted, no duplicates).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitTrain {
    /// Unit label.
    pub label: String,
    /// Spike times, s.
    pub times: Vec<f64>,
    /// Curation label when the input has one (`good`, `mua`, `noise`, ...:
    /// phy's `cluster_group.tsv`, Kilosort's `KSLabel`, a `label` or
    /// `quality` column of NWB `/units`).
    pub quality: Option<String>,
}

/// What an input file holds.
#[derive(Debug, Clone)]
pub struct Spikes {
    /// The units.
    pub units: Vec<UnitTrain>,
    /// Epochs (empty for tables).
    pub epochs: Vec<Epoch>,
    /// Start of the recording, s.
    pub start_s: f64,
    /// End of the recording, s.
    pub end_s: f64,
    /// `subject_id` from `/general/subject`.
    pub subject: Option<String>,
    /// What was repaired (unsorted or duplicate spike times).
    pub warnings: Vec<String>,
    /// Named events (epoch tags, annotations, TTL and digital-input edges),
    /// for `--drug-at event:NAME`.
    pub events: Vec<Event>,
}

/// Whether `path` is read as a table (`.csv`, `.parquet`).
#[must_use]
pub fn is_table(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("parquet"))
}

/// Reads units from an NWB/MEA file or a spikes table.
///
/// # Errors
/// The file cannot be read, holds no units, or a spike time is not finite.
pub fn load_spikes(path: &Path) -> Result<Spikes> {
    let mut s = if burstscope_io::phy::is_phy_dir(path) {
        load_phy(path)?
    } else if is_table(path) {
        load_table(path)?
    } else if is_ntt_input(path) {
        load_ntt(path)?
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("nev")) {
        if burstscope_formats::neuralynx::is_neuralynx(path) {
            bail!(
                "{}: a Neuralynx event file holds no spikes; give the tetrode files (.ntt) or their folder",
                path.display()
            );
        }
        load_nev(path)?
    } else {
        load_recording(path)?
    };
    for u in &mut s.units {
        if let Some(w) = repair_train(&mut u.times).ctx(|| format!("{}: unit {}", path.display(), u.label))? {
            s.warnings.push(format!("unit {}: {w}", u.label));
        }
    }
    Ok(s)
}

/// The longest span of one unit's spike times accepted, s (116 days): longer
/// spans come from corrupt files or mixed time units, and would make every
/// binned measure unbounded.
pub const MAX_TRAIN_SPAN_S: f64 = 1.0e7;

/// Sorts a train and drops exact duplicates; says what it changed.
///
/// ```
/// let mut t = vec![0.3, 0.1, 0.1, 0.2];
/// let w = burstscope_pipeline::repair_train(&mut t).unwrap().unwrap();
/// assert_eq!(t, vec![0.1, 0.2, 0.3]);
/// assert!(w.contains("1 out of order") && w.contains("1 duplicate"));
/// ```
///
/// # Errors
/// A non-finite spike time.
pub fn repair_train(times: &mut Vec<f64>) -> Result<Option<String>> {
    if let Some(i) = times.iter().position(|t| !t.is_finite()) {
        bail!("spike {i} has a non-finite time ({})", times[i]);
    }
    let (lo, hi) = times.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| (a.min(t), b.max(t)));
    if hi - lo > MAX_TRAIN_SPAN_S {
        bail!(
            "spike times span {lo} s to {hi} s, more than {} days; the file is corrupt or the times are not in seconds",
            MAX_TRAIN_SPAN_S / 86_400.0
        );
    }
    let out_of_order = times.windows(2).filter(|w| w[1] < w[0]).count();
    if out_of_order > 0 {
        times.sort_by(f64::total_cmp);
    }
    let before = times.len();
    times.dedup();
    let duplicates = before - times.len();
    Ok(match (out_of_order, duplicates) {
        (0, 0) => None,
        (o, d) => Some(format!(
            "spike times were not sorted ({o} out of order) and held {d} duplicate(s); sorted and de-duplicated"
        )),
    })
}

fn load_recording(path: &Path) -> Result<Spikes> {
    let rec = Recording::open(path)?;
    let units = rec.units()?;
    if units.is_empty() {
        bail!(
            "{}: no /units table (and not an MEA spike-train file); `burstscope bursts` needs sorted units — \
             an NWB file with /units, an MEA spike file, or a spikes table with columns unit,time_s",
            path.display()
        );
    }
    let epochs = rec.epochs()?;
    let subject = rec.session()?.subject.get("subject_id").cloned();
    let trains: Vec<UnitTrain> = units
        .into_iter()
        .map(|u| {
            let quality = ["label", "quality", "KSLabel"].iter().find_map(|k| match u.columns.get(*k) {
                Some(burstscope_core::ColumnValue::Text(v)) => Some(v.trim().to_string()),
                _ => None,
            });
            UnitTrain { label: u.label.clone(), times: u.spike_times_s, quality }
        })
        .collect();
    let finite = |t: &&f64| t.is_finite();
    let last_spike = trains.iter().flat_map(|u| u.times.iter().filter(finite)).copied().fold(0.0f64, f64::max);
    let first_spike = trains.iter().flat_map(|u| u.times.iter().filter(finite)).copied().fold(f64::INFINITY, f64::min);
    let end = rec.duration_s()?.unwrap_or(0.0).max(last_spike);
    let start = epochs.iter().map(|e| e.start_s).fold(first_spike.min(0.0), f64::min);
    let events = rec.events()?;
    Ok(Spikes { units: trains, epochs, start_s: start, end_s: end, subject, warnings: Vec::new(), events })
}

/// A Blackrock NEV file's online-sorted units: one train per electrode and
/// unit (`ch<electrode>#<unit>`, or the electrode's label), with the quality
/// `unsorted` (unit 0), `sorted` (1–16) or `noise` (255) for `--labels`.
fn load_nev(path: &Path) -> Result<Spikes> {
    let nev = burstscope_formats::blackrock::Nev::open(path).map_err(|e| crate::Error::Input(e.to_string()))?;
    if nev.spikes.is_empty() {
        bail!("{}: no spike packets (a NEV file with digital events only?)", path.display());
    }
    let label_of = |e: u16| nev.labels.iter().find(|l| l.0 == e).map(|l| l.1.clone()).filter(|l| !l.is_empty());
    let units: Vec<UnitTrain> = nev
        .units()
        .into_iter()
        .map(|((e, u), times)| UnitTrain {
            label: format!("{}#{u}", label_of(e).unwrap_or_else(|| format!("ch{e}"))),
            times,
            quality: Some(
                match u {
                    0 => "unsorted",
                    255 => "noise",
                    _ => "sorted",
                }
                .into(),
            ),
        })
        .collect();
    // the recording lasted at least through the last spike's tick
    let end = units.iter().flat_map(|u| u.times.last()).copied().fold(0.0f64, f64::max) + 1.0 / nev.timestamp_hz;
    let warnings = nev.warnings.iter().map(|w| format!("{}: {w}", path.display())).collect();
    // each digital line's rising edge is an event `digital:<bit>`
    let events = nev
        .digital_rising_edges()
        .into_iter()
        .map(|(bit, ts)| Event {
            name: format!("digital:{bit}"),
            time_s: ts as f64 / nev.timestamp_hz,
            source: "NEV digital input".into(),
        })
        .collect();
    Ok(Spikes { units, epochs: Vec::new(), start_s: 0.0, end_s: end, subject: None, warnings, events })
}

/// A Neuralynx `.ntt` file, or a folder holding `.ntt` files.
fn is_ntt_input(path: &Path) -> bool {
    if path.is_dir() {
        !burstscope_formats::neuralynx::ntt_files(path).is_empty()
    } else {
        path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ntt"))
    }
}

/// Neuralynx tetrode spike files: one unit per tetrode and cell
/// (`TT1#<cell>`; cell 0 is unsorted), with the events of the folder's
/// Neuralynx `.nev` files.
fn load_ntt(path: &Path) -> Result<Spikes> {
    let files: Vec<std::path::PathBuf> =
        if path.is_dir() { burstscope_formats::neuralynx::ntt_files(path) } else { vec![path.to_path_buf()] };
    let mut units = Vec::new();
    let mut warnings = Vec::new();
    for f in &files {
        let ntt = burstscope_formats::neuralynx::Ntt::open(f).map_err(|e| crate::Error::Input(e.to_string()))?;
        warnings.extend(ntt.warnings.iter().map(|w| format!("{}: {w}", f.display())));
        for (cell, times) in ntt.cells() {
            units.push(UnitTrain {
                label: format!("{}#{cell}", ntt.name),
                times,
                quality: Some(if cell == 0 { "unsorted" } else { "sorted" }.into()),
            });
        }
    }
    if units.is_empty() {
        bail!("{}: no spikes in the .ntt files", path.display());
    }
    let finite = |t: &&f64| t.is_finite();
    let start = units.iter().flat_map(|u| u.times.iter().filter(finite)).copied().fold(f64::INFINITY, f64::min);
    let end = units.iter().flat_map(|u| u.times.iter().filter(finite)).copied().fold(f64::NEG_INFINITY, f64::max);
    let dir = if path.is_dir() { path.to_path_buf() } else { path.parent().map(Path::to_path_buf).unwrap_or_default() };
    let events = crate::detect::neuralynx_events(&dir);
    Ok(Spikes { units, epochs: Vec::new(), start_s: start, end_s: end, subject: None, warnings, events })
}

fn load_table(path: &Path) -> Result<Spikes> {
    let t = burstscope_tables::read_table(path)?;
    let unit: Vec<String> = match t.column("unit") {
        Some(ColumnData::Str(v)) => v.clone(),
        Some(ColumnData::I64(v)) => v.iter().map(ToString::to_string).collect(),
        Some(ColumnData::U64(v)) => v.iter().map(ToString::to_string).collect(),
        Some(_) => bail!("{}: column unit must hold text or integers", path.display()),
        None => bail!("{}: no column 'unit'; expected columns unit and time_s", path.display()),
    };
    let time: Vec<f64> = match t.column("time_s") {
        Some(ColumnData::F64(v)) => v.clone(),
        Some(ColumnData::F32(v)) => v.iter().map(|&x| f64::from(x)).collect(),
        #[allow(clippy::cast_precision_loss)]
        Some(ColumnData::I64(v)) => v.iter().map(|&x| x as f64).collect(),
        Some(_) => bail!("{}: column time_s must hold numbers (seconds)", path.display()),
        None => bail!("{}: no column 'time_s'; expected columns unit and time_s", path.display()),
    };
    let mut order: Vec<String> = Vec::new();
    let mut by: std::collections::HashMap<String, Vec<f64>> = std::collections::HashMap::new();
    for (u, t) in unit.into_iter().zip(time) {
        if !by.contains_key(&u) {
            order.push(u.clone());
        }
        by.entry(u).or_default().push(t);
    }
    let units: Vec<UnitTrain> = order
        .into_iter()
        .map(|l| UnitTrain { times: by.remove(&l).unwrap_or_default(), label: l, quality: None })
        .collect();
    let finite = |t: &&f64| t.is_finite();
    let end = units.iter().flat_map(|u| u.times.iter().filter(finite)).copied().fold(0.0f64, f64::max);
    let start = units.iter().flat_map(|u| u.times.iter().filter(finite)).copied().fold(0.0f64, f64::min);
    Ok(Spikes {
        units,
        epochs: Vec::new(),
        start_s: start,
        end_s: end,
        subject: None,
        warnings: Vec::new(),
        events: Vec::new(),
    })
}

/// Keeps the units whose curation label is one of `labels` (case-insensitive;
/// empty keeps all).
///
/// # Errors
/// A filter was asked for but the input has no labels, or no unit is left.
pub fn filter_labels(path: &Path, s: &mut Spikes, labels: &[String]) -> Result<()> {
    if labels.is_empty() {
        return Ok(());
    }
    if s.units.iter().all(|u| u.quality.is_none()) {
        bail!(
            "{}: labels {labels:?} asked for, but the units have no curation labels (phy cluster_group.tsv / \
             cluster_KSLabel.tsv, or a label/quality/KSLabel column of /units)",
            path.display()
        );
    }
    let before = s.units.len();
    s.units.retain(|u| u.quality.as_deref().is_some_and(|q| labels.iter().any(|l| l.eq_ignore_ascii_case(q))));
    if s.units.is_empty() {
        bail!("{}: none of the {before} units is labelled {labels:?}", path.display());
    }
    s.warnings.push(format!("{} of {before} units kept by label {labels:?}", s.units.len()));
    Ok(())
}

/// The files of a phy folder that define its sorting (for the record's key).
#[must_use]
pub fn phy_inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    [
        "params.py",
        "spike_times.npy",
        "spike_clusters.npy",
        "spike_templates.npy",
        "cluster_group.tsv",
        "cluster_KSLabel.tsv",
    ]
    .iter()
    .map(|f| dir.join(f))
    .filter(|p| p.is_file())
    .collect()
}

fn load_phy(dir: &Path) -> Result<Spikes> {
    let p = burstscope_io::phy::read_phy(dir)?;
    if p.clusters.is_empty() {
        bail!("{}: the phy folder holds no spikes", dir.display());
    }
    #[allow(clippy::cast_precision_loss)]
    let units: Vec<UnitTrain> = p
        .clusters
        .into_iter()
        .map(|(id, samples, quality)| UnitTrain {
            label: id.to_string(),
            times: samples.iter().map(|&s| s as f64 / p.sample_rate_hz).collect(),
            quality,
        })
        .collect();
    let end = units.iter().flat_map(|u| u.times.last()).copied().fold(0.0f64, f64::max);
    Ok(Spikes {
        units,
        epochs: Vec::new(),
        start_s: 0.0,
        end_s: end,
        subject: None,
        warnings: Vec::new(),
        events: Vec::new(),
    })
}
