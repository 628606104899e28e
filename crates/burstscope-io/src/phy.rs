//! phy / Kilosort folders: writing one that phy opens for manual curation,
//! and reading one back (curated by phy, or written by Kilosort 2–4 or
//! SpikeInterface's `export_to_phy`).
//!
//! Layout (phy's `docs/dataset.md`): `params.py` (`dat_path`,
//! `n_channels_dat`, `dtype`, `offset`, `sample_rate`, `hp_filtered`),
//! `spike_times.npy` (sample indices), `spike_clusters.npy` /
//! `spike_templates.npy`, `amplitudes.npy`, `templates.npy` (templates ×
//! samples × channels), `channel_map.npy`, `channel_positions.npy`,
//! `channel_groups.npy`, and `cluster_<field>.tsv` tables with the header
//! `cluster_id\t<field>`. Labels are read from `cluster_group.tsv` (phy's
//! curation; Kilosort 4 copies `cluster_KSLabel.tsv` there, so its header
//! may say `KSLabel`), else from `cluster_KSLabel.tsv`.

use crate::error::{IoError, Result};
use burstscope_core::AtomicFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An `.npy` array read back: values as f64 or i64, and the shape.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// Integer arrays (any width, signed or not).
    Int(Vec<i64>),
    /// Floating-point arrays.
    Float(Vec<f64>),
}

fn bad(path: &Path, what: impl Into<String>) -> IoError {
    IoError::NotInFile { file: path.to_path_buf(), message: what.into() }
}

fn os(path: &Path, e: std::io::Error) -> IoError {
    IoError::Os { file: path.to_path_buf(), source: e }
}

/// Element types written.
pub trait NpyElement: Copy {
    /// numpy's `descr`.
    const DESCR: &'static str;
    /// Little-endian bytes.
    fn put(self, out: &mut Vec<u8>);
}

macro_rules! npy_el {
    ($t:ty, $d:literal) => {
        impl NpyElement for $t {
            const DESCR: &'static str = $d;
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    };
}
npy_el!(i64, "<i8");
npy_el!(i32, "<i4");
npy_el!(f32, "<f4");
npy_el!(f64, "<f8");

/// The bytes of an `.npy` (format 1.0) file holding `data` with `shape`.
#[must_use]
pub fn npy_bytes<T: NpyElement>(data: &[T], shape: &[usize]) -> Vec<u8> {
    let dims = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!("({})", shape.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}", T::DESCR);
    // Magic (6) + version (2) + length (2) + header + '\n', a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 8);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&u16::try_from(header.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for &v in data {
        v.put(&mut out);
    }
    out
}

/// Reads a C-order `.npy` file of integers or floats (versions 1–3).
///
/// # Errors
/// The file is missing, is not `.npy`, or holds another type.
pub fn read_npy(path: &Path) -> Result<(NpyData, Vec<usize>)> {
    let b = std::fs::read(path).map_err(|e| os(path, e))?;
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(bad(path, "not a .npy file (no \\x93NUMPY magic)"));
    }
    let (hlen, start) = match b[6] {
        1 => (usize::from(u16::from_le_bytes([b[8], b[9]])), 10),
        2 | 3 if b.len() >= 12 => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
        v => return Err(bad(path, format!("unsupported .npy version {v}"))),
    };
    let header = std::str::from_utf8(b.get(start..start + hlen).ok_or_else(|| bad(path, "truncated .npy header"))?)
        .map_err(|_| bad(path, "the .npy header is not text"))?;
    let field = |key: &str| -> Option<&str> {
        let i = header.find(&format!("'{key}'"))? + key.len() + 2;
        Some(header[i..].trim_start_matches([':', ' ']))
    };
    let descr = field("descr").and_then(|s| s.strip_prefix('\'')).and_then(|s| s.split('\'').next()).unwrap_or("");
    if field("fortran_order").is_some_and(|s| s.starts_with("True")) {
        return Err(bad(path, "Fortran-ordered arrays are not supported"));
    }
    let shape_txt = field("shape").and_then(|s| s.strip_prefix('(')).and_then(|s| s.split(')').next()).unwrap_or("");
    let shape: Vec<usize> = shape_txt.split(',').filter_map(|p| p.trim().parse().ok()).collect();
    let n: usize = shape.iter().product();
    let body = &b[start + hlen..];
    let (little, kind, size) = {
        let mut c = descr.chars();
        let order = c.next().unwrap_or('?');
        let kind = c.next().unwrap_or('?');
        let size: usize = c.as_str().parse().unwrap_or(0);
        (order != '>', kind, size)
    };
    if !little && size > 1 {
        return Err(bad(path, format!("big-endian dtype '{descr}' is not supported")));
    }
    if body.len() < n * size || size == 0 {
        return Err(bad(path, format!("{} bytes of data for shape {shape:?} of '{descr}'", body.len())));
    }
    let chunk = |i: usize| &body[i * size..(i + 1) * size];
    let data = match (kind, size) {
        ('i', 1) => NpyData::Int((0..n).map(|i| i64::from(chunk(i)[0].cast_signed())).collect()),
        ('u', 1) | ('b', 1) => NpyData::Int((0..n).map(|i| i64::from(chunk(i)[0])).collect()),
        ('i', 2) => NpyData::Int((0..n).map(|i| i64::from(i16::from_le_bytes([chunk(i)[0], chunk(i)[1]]))).collect()),
        ('u', 2) => NpyData::Int((0..n).map(|i| i64::from(u16::from_le_bytes([chunk(i)[0], chunk(i)[1]]))).collect()),
        ('i', 4) => {
            NpyData::Int((0..n).map(|i| i64::from(i32::from_le_bytes(chunk(i).try_into().unwrap_or([0; 4])))).collect())
        }
        ('u', 4) => {
            NpyData::Int((0..n).map(|i| i64::from(u32::from_le_bytes(chunk(i).try_into().unwrap_or([0; 4])))).collect())
        }
        ('i', 8) => NpyData::Int((0..n).map(|i| i64::from_le_bytes(chunk(i).try_into().unwrap_or([0; 8]))).collect()),
        ('u', 8) => NpyData::Int(
            (0..n)
                .map(|i| i64::try_from(u64::from_le_bytes(chunk(i).try_into().unwrap_or([0; 8]))).unwrap_or(i64::MAX))
                .collect(),
        ),
        ('f', 4) => NpyData::Float(
            (0..n).map(|i| f64::from(f32::from_le_bytes(chunk(i).try_into().unwrap_or([0; 4])))).collect(),
        ),
        ('f', 8) => NpyData::Float((0..n).map(|i| f64::from_le_bytes(chunk(i).try_into().unwrap_or([0; 8]))).collect()),
        _ => return Err(bad(path, format!("dtype '{descr}' is not an integer or float type"))),
    };
    Ok((data, shape))
}

/// What to write into a phy folder.
#[derive(Debug, Clone, Default)]
pub struct PhyExport {
    /// Raw data file for phy's trace view (empty: none).
    pub dat_path: Option<PathBuf>,
    /// Channels of the recording.
    pub n_channels: usize,
    /// Sampling rate, Hz.
    pub sample_rate_hz: f64,
    /// Per spike (time order): sample, cluster, amplitude.
    pub spike_samples: Vec<i64>,
    /// Cluster of each spike.
    pub spike_clusters: Vec<i32>,
    /// Amplitude of each spike (µV on the peak channel, positive).
    pub amplitudes: Vec<f32>,
    /// Templates: clusters × samples × channels (µV), all channels.
    pub templates: Vec<f32>,
    /// Samples per template.
    pub template_samples: usize,
    /// Electrode group index of each channel.
    pub channel_groups: Vec<i32>,
    /// (x, y) of each channel in µm.
    pub channel_positions: Vec<(f32, f32)>,
    /// Per cluster: label (`good`, `mua`, `noise`).
    pub labels: Vec<String>,
    /// Per cluster: group name (written to `cluster_channel_group.tsv`).
    pub cluster_group_names: Vec<String>,
    /// Further per-cluster numeric columns written as `cluster_<name>.tsv`.
    pub cluster_columns: Vec<(String, Vec<f64>)>,
}

/// Writes a phy folder (`dir` is created; existing phy files are replaced
/// file by file, each atomically).
///
/// # Errors
/// A file cannot be written.
pub fn write_phy(dir: &Path, e: &PhyExport) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|err| os(dir, err))?;
    let put = |name: &str, bytes: &[u8]| -> Result<()> {
        use std::io::Write as _;
        let path = dir.join(name);
        let mut f = AtomicFile::create(&path).map_err(|err| os(&path, err))?;
        f.file().and_then(|h| h.write_all(bytes)).map_err(|err| os(&path, err))?;
        f.commit().map(|_| ()).map_err(|err| os(&path, err))
    };
    let n = e.spike_samples.len();
    let k = e.labels.len();
    let dat = e.dat_path.as_ref().map_or_else(|| "[]".to_string(), |p| format!("r'{}'", p.display()));
    put(
        "params.py",
        format!(
            "dat_path = {dat}\nn_channels_dat = {}\ndtype = 'int16'\noffset = 0\nsample_rate = {:?}\nhp_filtered = False\n",
            e.n_channels, e.sample_rate_hz
        )
        .as_bytes(),
    )?;
    put("spike_times.npy", &npy_bytes(&e.spike_samples, &[n]))?;
    put("spike_clusters.npy", &npy_bytes(&e.spike_clusters, &[n]))?;
    put("spike_templates.npy", &npy_bytes(&e.spike_clusters, &[n]))?;
    put("amplitudes.npy", &npy_bytes(&e.amplitudes, &[n]))?;
    put("templates.npy", &npy_bytes(&e.templates, &[k, e.template_samples, e.n_channels]))?;
    let map: Vec<i32> = (0..i32::try_from(e.n_channels).unwrap_or(i32::MAX)).collect();
    put("channel_map.npy", &npy_bytes(&map, &[e.n_channels]))?;
    let pos: Vec<f32> = e.channel_positions.iter().flat_map(|p| [p.0, p.1]).collect();
    put("channel_positions.npy", &npy_bytes(&pos, &[e.n_channels, 2]))?;
    put("channel_groups.npy", &npy_bytes(&e.channel_groups, &[e.n_channels]))?;
    let tsv = |field: &str, vals: &mut dyn Iterator<Item = String>| -> String {
        let mut s = format!("cluster_id\t{field}\n");
        for (i, v) in vals.enumerate() {
            s.push_str(&format!("{i}\t{v}\n"));
        }
        s
    };
    put("cluster_group.tsv", tsv("group", &mut e.labels.iter().cloned()).as_bytes())?;
    put("cluster_channel_group.tsv", tsv("channel_group", &mut e.cluster_group_names.iter().cloned()).as_bytes())?;
    for (name, vals) in &e.cluster_columns {
        put(&format!("cluster_{name}.tsv"), tsv(name, &mut vals.iter().map(|v| format!("{v}"))).as_bytes())?;
    }
    Ok(())
}

/// Whether `dir` looks like a phy / Kilosort folder.
#[must_use]
pub fn is_phy_dir(dir: &Path) -> bool {
    dir.is_dir() && dir.join("params.py").is_file() && dir.join("spike_times.npy").is_file()
}

/// A sorting read from a phy folder.
#[derive(Debug, Clone, PartialEq)]
pub struct PhySorting {
    /// Sampling rate from `params.py`.
    pub sample_rate_hz: f64,
    /// Clusters in id order: (id, spike samples, label if any).
    pub clusters: Vec<(i64, Vec<i64>, Option<String>)>,
    /// Which file the labels came from.
    pub labels_from: Option<String>,
}

/// Reads a phy / Kilosort folder: spike times, clusters (`spike_clusters.npy`,
/// else `spike_templates.npy`, as phy does) and labels.
///
/// # Errors
/// A required file is missing or malformed, or the files disagree in length;
/// each error names the file and what was expected.
pub fn read_phy(dir: &Path) -> Result<PhySorting> {
    let params = dir.join("params.py");
    let text = std::fs::read_to_string(&params).map_err(|e| os(&params, e))?;
    let rate = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "sample_rate")
        .and_then(|(_, v)| v.trim().trim_end_matches(';').parse::<f64>().ok())
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| bad(&params, "no valid `sample_rate = <Hz>` line"))?;
    let ints = |name: &str| -> Result<Vec<i64>> {
        let p = dir.join(name);
        let (d, shape) = read_npy(&p)?;
        if shape.len() > 2 || shape.get(1).is_some_and(|&c| c != 1) {
            return Err(bad(&p, format!("shape {shape:?}; expected (n,) or (n, 1)")));
        }
        match d {
            NpyData::Int(v) => Ok(v),
            NpyData::Float(v) if v.iter().all(|x| x.fract() == 0.0 && x.is_finite()) =>
            {
                #[allow(clippy::cast_possible_truncation)]
                Ok(v.into_iter().map(|x| x as i64).collect())
            }
            NpyData::Float(_) => Err(bad(&p, "floating-point values; expected integers (sample indices, cluster ids)")),
        }
    };
    let times = ints("spike_times.npy")?;
    let (cname, clusters) = if dir.join("spike_clusters.npy").is_file() {
        ("spike_clusters.npy", ints("spike_clusters.npy")?)
    } else if dir.join("spike_templates.npy").is_file() {
        ("spike_templates.npy", ints("spike_templates.npy")?)
    } else {
        return Err(bad(&dir.join("spike_clusters.npy"), "missing (and no spike_templates.npy either)"));
    };
    if clusters.len() != times.len() {
        return Err(bad(
            &dir.join(cname),
            format!("{} entries for {} spike times in spike_times.npy", clusters.len(), times.len()),
        ));
    }
    if let Some(i) = times.iter().position(|&t| t < 0) {
        return Err(bad(&dir.join("spike_times.npy"), format!("spike {i} has a negative sample index {}", times[i])));
    }
    let mut labels: BTreeMap<i64, String> = BTreeMap::new();
    let mut labels_from = None;
    for name in ["cluster_group.tsv", "cluster_KSLabel.tsv"] {
        let p = dir.join(name);
        let Ok(text) = std::fs::read_to_string(&p) else { continue };
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split('\t').map(str::trim).collect();
        if header.len() < 2 || header[0] != "cluster_id" {
            return Err(bad(&p, format!("header {header:?}; expected cluster_id<TAB>group (or KSLabel)")));
        }
        for (i, l) in lines.enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = l.split('\t').collect();
            let id: i64 = f[0]
                .trim()
                .parse()
                .map_err(|_| bad(&p, format!("line {}: cluster id '{}' is not an integer", i + 2, f[0])))?;
            labels.insert(id, f.get(1).map_or("", |s| s.trim()).to_string());
        }
        labels_from = Some(name.to_string());
        break;
    }
    let mut by: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (&t, &c) in times.iter().zip(&clusters) {
        by.entry(c).or_default().push(t);
    }
    let clusters = by
        .into_iter()
        .map(|(id, mut s)| {
            s.sort_unstable();
            let l = labels.get(&id).cloned();
            (id, s, l)
        })
        .collect();
    Ok(PhySorting { sample_rate_hz: rate, clusters, labels_from })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_kilosort_shapes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.npy");
        std::fs::write(&p, npy_bytes(&[3i64, 1, 2], &[3, 1])).unwrap();
        let (v, shape) = read_npy(&p).unwrap();
        assert_eq!((v, shape), (NpyData::Int(vec![3, 1, 2]), vec![3, 1]));
        let bytes = npy_bytes(&[1.5f32], &[1]);
        assert_eq!((bytes.len() - 4) % 64, 0);
        std::fs::write(&p, b"not npy").unwrap();
        assert!(read_npy(&p).unwrap_err().to_string().contains("magic"));
    }
}
