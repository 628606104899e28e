//! `waveforms.h5`: spike waveform snippets per channel group, written as
//! detection streams them (resizable datasets, appended in order).
//!
//! Layout (chunked; gzip optional, off by default because HDF5 compresses
//! under its global lock and would serialise detection):
//! - `/<group>/waveforms` `(n_spikes, n_samples, n_channels)`, the filtered
//!   signal, time axis from `−ms_before` to `+ms_after` around the peak:
//!   int16 counts when the group was given a per-channel step
//!   ([`WaveformGroup::uv_per_count`]), with the attribute `conversion` (µV per
//!   count, one per channel: µV = count × conversion, as NWB's
//!   `channel_conversion`), nearest count, ties to even, saturating at
//!   ±32767; otherwise float32 µV;
//! - `/<group>/spike_index` uint64 `(n_spikes,)`: row of the spike in `spikes.*`;
//! - `/<group>/channels` int64: electrode-table rows of the group's channels;
//! - root attributes `rate_hz`, `ms_before`, `ms_after`, `n_before` (samples
//!   before the peak), `unit` (`microvolts`), `program`, `version`.

use crate::error::{IoError, Result};
use hdf5::plist::dataset_create::FillTime;
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Extent, SimpleExtents};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Snippets per chunk of the `waveforms` datasets (the first axis).
const CHUNK_SPIKES: usize = 256;

/// One group's datasets.
#[derive(Debug)]
struct GroupSets {
    waveforms: Dataset,
    index: Dataset,
    /// Snippets written to the datasets.
    n: usize,
    n_channels: usize,
    /// Snippets appended but not yet written: they go out a whole chunk at a
    /// time, which HDF5 writes straight from this buffer.
    pending_rows: Vec<u64>,
    pending: Pending,
}

/// The values of the pending snippets, as stored.
#[derive(Debug)]
enum Pending {
    /// float32 µV.
    Uv(Vec<f32>),
    /// int16 counts, with the counts per µV of each channel.
    Counts { per_uv: Vec<f32>, values: Vec<i16> },
}

/// Largest stored count; values beyond saturate (and are counted).
const MAX_COUNT: f32 = 32_767.0;

/// Streams waveforms into `waveforms.h5`; see the module documentation.
#[derive(Debug)]
pub struct WaveformWriter {
    file: Option<hdf5::File>,
    groups: Vec<GroupSets>,
    n_samples: usize,
    tmp: burstscope_core::AtomicFile,
    dest: PathBuf,
    saturated: u64,
}

/// A group to store: name and electrode-table rows of its channels.
#[derive(Debug, Clone)]
pub struct WaveformGroup {
    /// Group name.
    pub name: String,
    /// Electrode rows.
    pub electrode_rows: Vec<i64>,
    /// µV per stored count of each channel: snippets stored as int16 counts
    /// (half the bytes of float32). `None`: float32 µV.
    pub uv_per_count: Option<Vec<f64>>,
}

impl WaveformWriter {
    /// Creates `dest` (through a temporary file) for snippets of `n_before +
    /// n_after` samples, gzip-compressed at `gzip_level` (0 = none).
    ///
    /// # Errors
    /// HDF5 errors.
    pub fn create(
        dest: &Path,
        groups: &[WaveformGroup],
        rate_hz: f64,
        n_before: usize,
        n_after: usize,
        gzip_level: u8,
    ) -> Result<Self> {
        let tmp = burstscope_core::AtomicFile::reserve(dest);
        let err = |p: &str, e| IoError::Hdf5 { file: dest.to_path_buf(), h5path: p.into(), source: e };
        // Snippets are buffered per group and written a whole chunk at a
        // time (`push`), which HDF5 writes straight from that buffer when it
        // keeps no chunk cache: no copy into a cache, and none of HDF5 2.x's
        // larger default cache (~50 MB for a 32-channel session).
        let file = hdf5::File::with_options()
            .with_fcpl(|p| p.obj_track_times(false))
            .with_fapl(|p| p.chunk_cache(521, 0, 0.75))
            .create(tmp.temp())
            .map_err(|e| err("/", e))?;
        let n_samples = n_before + n_after;
        #[allow(clippy::cast_precision_loss)]
        let attrs = [
            ("rate_hz", rate_hz),
            ("ms_before", n_before as f64 * 1000.0 / rate_hz),
            ("ms_after", n_after as f64 * 1000.0 / rate_hz),
            ("n_before", n_before as f64),
        ];
        (|| -> hdf5::Result<()> {
            for (k, v) in attrs {
                file.new_attr::<f64>().shape(()).create(k)?.write_scalar(&v)?;
            }
            for (k, v) in
                [("unit", "microvolts"), ("program", "burstscope"), ("version", burstscope_core::program_version())]
            {
                let v = VarLenUnicode::from_str(v).unwrap_or_default();
                file.new_attr::<VarLenUnicode>().shape(()).create(k)?.write_scalar(&v)?;
            }
            Ok(())
        })()
        .map_err(|e| err("/", e))?;
        let mut sets = Vec::new();
        for g in groups {
            let p = format!("/{}", g.name);
            let nch = g.electrode_rows.len().max(1);
            let steps = match &g.uv_per_count {
                Some(u) if u.len() != nch || u.iter().any(|x| !(x.is_finite() && *x > 0.0)) => {
                    return Err(IoError::Invalid {
                        file: dest.to_path_buf(),
                        h5path: p,
                        problem: format!("uv_per_count {u:?}: expected {nch} positive finite steps"),
                    });
                }
                s => s.clone(),
            };
            let s = (|| -> hdf5::Result<GroupSets> {
                // No modification times in object headers: the same spikes give the same bytes.
                let grp = file.create_group_builder().obj_track_times(false).create(g.name.as_str())?;
                let shape = SimpleExtents::from_vec(vec![
                    Extent::new(0, None),
                    Extent::from(n_samples.max(1)),
                    Extent::from(nch),
                ]);
                let b = match steps {
                    Some(_) => grp.new_dataset::<i16>(),
                    None => grp.new_dataset::<f32>(),
                };
                let mut b = b.obj_track_times(false).chunk((CHUNK_SPIKES, n_samples.max(1), nch));
                if gzip_level > 0 {
                    b = b.shuffle().deflate(gzip_level.min(9));
                } else {
                    // No fill value written into new chunks: every chunk is
                    // written whole (the last up to the extent), and with a
                    // fill value HDF5 would first assemble each chunk in a
                    // buffer of its own. (Compressed chunks always go through
                    // such a buffer, which must then start filled, so that the
                    // last chunk's unused tail compresses the same every run.)
                    b = b.fill_time(FillTime::Never);
                }
                let waveforms = b.shape(shape).create("waveforms")?;
                if let Some(u) = &steps {
                    waveforms.new_attr::<f64>().shape(nch).create("conversion")?.write(u)?;
                }
                let index = grp
                    .new_dataset::<u64>()
                    .obj_track_times(false)
                    .fill_time(FillTime::Never)
                    .chunk(4096)
                    .shape(SimpleExtents::from_vec(vec![Extent::new(0, None)]))
                    .create("spike_index")?;
                grp.new_dataset_builder()
                    .obj_track_times(false)
                    .with_data(g.electrode_rows.as_slice())
                    .create("channels")?;
                #[allow(clippy::cast_possible_truncation)]
                let pending = match &steps {
                    Some(u) => {
                        Pending::Counts { per_uv: u.iter().map(|&x| (1.0 / x) as f32).collect(), values: Vec::new() }
                    }
                    None => Pending::Uv(Vec::new()),
                };
                Ok(GroupSets { waveforms, index, n: 0, n_channels: nch, pending_rows: Vec::new(), pending })
            })()
            .map_err(|e| err(&p, e))?;
            sets.push(s);
        }
        Ok(Self { file: Some(file), groups: sets, n_samples, tmp, dest: dest.to_path_buf(), saturated: 0 })
    }

    /// Appends snippets of group `g`: `spike_rows[i]` and
    /// `waveforms[i·n_samples·n_channels ..]` (time-major per spike), as
    /// [`Self::push`] does one at a time.
    ///
    /// # Errors
    /// Mismatched lengths or HDF5 errors.
    pub fn append(&mut self, g: usize, spike_rows: &[u64], waveforms: &[f32]) -> Result<()> {
        let per = self.n_samples * self.groups.get(g).map_or(1, |s| s.n_channels);
        if waveforms.len() != spike_rows.len() * per {
            return Err(IoError::Invalid {
                file: self.dest.clone(),
                h5path: format!("/{g}"),
                problem: format!("{} values for {} snippets", waveforms.len(), spike_rows.len()),
            });
        }
        for (&row, w) in spike_rows.iter().zip(waveforms.chunks_exact(per.max(1))) {
            self.push(g, row, w)?;
        }
        Ok(())
    }

    /// Appends one snippet of group `g`: row `spike_row` of the spikes table,
    /// `waveform` time-major (`n_samples × n_channels`).
    ///
    /// # Errors
    /// A wrong length, or HDF5 errors when a whole chunk is written.
    pub fn push(&mut self, g: usize, spike_row: u64, waveform: &[f32]) -> Result<()> {
        let n_samples = self.n_samples;
        let dest = &self.dest;
        let set = self.groups.get_mut(g).ok_or_else(|| IoError::Invalid {
            file: dest.clone(),
            h5path: "/".into(),
            problem: format!("no waveform group {g}"),
        })?;
        if waveform.len() != n_samples * set.n_channels {
            return Err(IoError::Invalid {
                file: dest.clone(),
                h5path: set.waveforms.name(),
                problem: format!("{} values for one snippet", waveform.len()),
            });
        }
        set.pending_rows.push(spike_row);
        match &mut set.pending {
            Pending::Counts { per_uv, values } => self.saturated += quantize(waveform, per_uv, values),
            Pending::Uv(values) => values.extend_from_slice(waveform),
        }
        if set.pending_rows.len() == CHUNK_SPIKES {
            set.write_pending(n_samples, dest)?;
        }
        Ok(())
    }

    /// Values stored as counts that saturated at ±32767 so far.
    #[must_use]
    pub fn saturated(&self) -> u64 {
        self.saturated
    }

    /// Closes and renames the file into place.
    ///
    /// # Errors
    /// Flush or rename errors.
    pub fn finish(mut self) -> Result<PathBuf> {
        for set in &mut self.groups {
            set.write_pending(self.n_samples, &self.dest)?;
        }
        self.groups.clear();
        let f = self.file.take().expect("open until finish");
        f.flush().map_err(|e| IoError::Hdf5 { file: self.dest.clone(), h5path: "/".into(), source: e })?;
        drop(f);
        let tmp = std::mem::replace(&mut self.tmp, burstscope_core::AtomicFile::reserve(&self.dest));
        // Hash the closed file for its record while the fsync waits for the
        // disk (the record's listing then finds the hash remembered). A
        // failure here only means the listing reads the file itself.
        let path = tmp.temp().to_path_buf();
        std::thread::scope(|s| {
            s.spawn(|| std::fs::File::open(&path).and_then(|f| burstscope_core::hash_file_remembered(&f)));
            tmp.commit().map_err(|e| IoError::Os { file: self.dest.clone(), source: e })
        })
    }
}

impl GroupSets {
    /// Writes the pending snippets at the end of the datasets.
    fn write_pending(&mut self, n_samples: usize, dest: &Path) -> Result<()> {
        let k = self.pending_rows.len();
        if k == 0 {
            return Ok(());
        }
        let err = |e| IoError::Hdf5 { file: dest.to_path_buf(), h5path: self.waveforms.name(), source: e };
        let (a, b) = (self.n, self.n + k);
        self.waveforms.resize((b, n_samples, self.n_channels)).map_err(err)?;
        let shape = (k, n_samples, self.n_channels);
        match &mut self.pending {
            Pending::Counts { values, .. } => append_rows(&self.waveforms, shape, a, values, dest)?,
            Pending::Uv(values) => append_rows(&self.waveforms, shape, a, values, dest)?,
        }
        self.index.resize(b).map_err(err)?;
        self.index.write_slice(&self.pending_rows, ndarray::s![a..b]).map_err(err)?;
        self.n = b;
        self.pending_rows.clear();
        Ok(())
    }
}

/// Writes `values` (`shape`, row-major) at spike `a` of `ds` and empties them.
fn append_rows<T: hdf5::H5Type>(
    ds: &Dataset,
    shape: (usize, usize, usize),
    a: usize,
    values: &mut Vec<T>,
    dest: &Path,
) -> Result<()> {
    let view = ndarray::ArrayView3::from_shape(shape, values.as_slice()).map_err(|e| IoError::Invalid {
        file: dest.to_path_buf(),
        h5path: ds.name(),
        problem: e.to_string(),
    })?;
    ds.write_slice(view, ndarray::s![a..a + shape.0, .., ..]).map_err(|e| IoError::Hdf5 {
        file: dest.to_path_buf(),
        h5path: ds.name(),
        source: e,
    })?;
    values.clear();
    Ok(())
}

/// Appends `waveform` (time-major µV, one `per_uv` per channel) to `out` as
/// counts: nearest, ties to even, saturating at ±[`MAX_COUNT`] (NaN → 0).
/// Returns how many saturated.
fn quantize(waveform: &[f32], per_uv: &[f32], out: &mut Vec<i16>) -> u64 {
    // Adding and subtracting 1.5·2²³ rounds an f32 below 2²² in magnitude to
    // the nearest integer, ties to even (the rounding mode), without a
    // library call: the loop vectorises.
    const ROUND: f32 = 12_582_912.0;
    let at = out.len();
    out.resize(at + waveform.len(), 0);
    let mut saturated = 0u64;
    for (o, w) in out[at..].chunks_exact_mut(per_uv.len()).zip(waveform.chunks_exact(per_uv.len())) {
        for ((o, &v), &k) in o.iter_mut().zip(w).zip(per_uv) {
            let x = v * k;
            saturated += u64::from(x.abs() > MAX_COUNT);
            #[allow(clippy::cast_possible_truncation)]
            {
                *o = ((x.clamp(-MAX_COUNT, MAX_COUNT) + ROUND) - ROUND) as i16;
            }
        }
    }
    saturated
}

impl Drop for WaveformWriter {
    fn drop(&mut self) {
        self.groups.clear();
        // Close the file before the AtomicFile removes it.
        drop(self.file.take());
    }
}

/// One group read back from `waveforms.h5`.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveformSet {
    /// Group name.
    pub name: String,
    /// `(n_spikes, n_samples, n_channels)`.
    pub shape: (usize, usize, usize),
    /// Snippets, µV, row-major in `shape` (stored counts × their channel's
    /// conversion).
    pub waveforms: Vec<f32>,
    /// µV per count of each channel when stored as int16 counts.
    pub uv_per_count: Option<Vec<f64>>,
    /// Row of each spike in the spikes table.
    pub spike_index: Vec<u64>,
    /// Electrode rows of the channels.
    pub channels: Vec<i64>,
}

/// Reads every group of a `waveforms.h5` written by [`WaveformWriter`].
///
/// # Errors
/// Missing file, not HDF5, or a group without the expected datasets.
pub fn read_waveforms(path: &Path) -> Result<Vec<WaveformSet>> {
    let _watch = crate::watchdog::guard(|| format!("{}: reading waveforms", path.display()));
    let err = |p: &str, e| IoError::Hdf5 { file: path.to_path_buf(), h5path: p.into(), source: e };
    if !path.exists() {
        return Err(IoError::Open { file: path.to_path_buf(), reason: "no such file".into() });
    }
    let f = hdf5::File::open(path).map_err(|e| err("/", e))?;
    let mut names = f.member_names().map_err(|e| err("/", e))?;
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let p = format!("/{name}");
        let g = f.group(&name).map_err(|e| err(&p, e))?;
        let w = g.dataset("waveforms").map_err(|e| err(&format!("{p}/waveforms"), e))?;
        let dims = w.shape();
        let [n, samples, channels] = dims[..] else {
            return Err(IoError::Invalid {
                file: path.to_path_buf(),
                h5path: format!("{p}/waveforms"),
                problem: format!("shape {dims:?}; expected 3 dimensions (spike, sample, channel)"),
            });
        };
        let shape = (n, samples, channels);
        let wpath = format!("{p}/waveforms");
        let counts = w.dtype().is_ok_and(|t| t.is::<i16>());
        let (waveforms, uv_per_count) = if counts {
            let conv = w.attr("conversion").and_then(|a| a.read_raw::<f64>()).map_err(|e| err(&wpath, e))?;
            if conv.len() != channels || conv.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                return Err(IoError::Invalid {
                    file: path.to_path_buf(),
                    h5path: format!("{wpath}/conversion"),
                    problem: format!("{conv:?}: expected {channels} positive finite µV per count"),
                });
            }
            let raw = w.read_raw::<i16>().map_err(|e| err(&wpath, e))?;
            #[allow(clippy::cast_possible_truncation)]
            let uv = raw
                .chunks(channels.max(1))
                .flat_map(|r| r.iter().zip(&conv).map(|(&c, &k)| (f64::from(c) * k) as f32))
                .collect();
            (uv, Some(conv))
        } else {
            (w.read_raw::<f32>().map_err(|e| err(&wpath, e))?, None)
        };
        if waveforms.len() != n * samples * channels {
            return Err(IoError::Invalid {
                file: path.to_path_buf(),
                h5path: format!("{p}/waveforms"),
                problem: format!("{} values for shape {dims:?}", waveforms.len()),
            });
        }
        out.push(WaveformSet {
            name,
            shape,
            waveforms,
            uv_per_count,
            spike_index: g
                .dataset("spike_index")
                .and_then(|d| d.read_raw::<u64>())
                .map_err(|e| err(&format!("{p}/spike_index"), e))?,
            channels: g
                .dataset("channels")
                .and_then(|d| d.read_raw::<i64>())
                .map_err(|e| err(&format!("{p}/channels"), e))?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snippets pushed one at a time and appended in batches, across chunk
    /// boundaries and ending in a partial chunk, read back in order and
    /// unchanged, with and without gzip.
    #[test]
    fn snippets_come_back_in_order_across_whole_and_partial_chunks() {
        let dir = tempfile::tempdir().unwrap();
        for gzip in [0u8, 1] {
            let dest = dir.path().join(format!("w{gzip}.h5"));
            let groups = [
                WaveformGroup { name: "a".into(), electrode_rows: vec![0, 1], uv_per_count: None },
                WaveformGroup { name: "b".into(), electrode_rows: vec![2, 3, 4], uv_per_count: None },
            ];
            let mut w = WaveformWriter::create(&dest, &groups, 30_000.0, 3, 4, gzip).unwrap();
            let snippet = |g: usize, i: usize| -> Vec<f32> {
                (0..7 * (2 + g)).map(|k| (i * 1000 + k) as f32 * if g == 0 { 1.0 } else { -0.5 }).collect()
            };
            let (mut want_a, mut want_b) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
            let mut row = 0u64;
            for i in 0..700 {
                if i % 3 == 0 {
                    let s = snippet(1, i);
                    w.push(1, row, &s).unwrap();
                    want_b.0.push(row);
                    want_b.1.extend(s);
                } else {
                    let s = snippet(0, i);
                    w.append(0, &[row], &s).unwrap();
                    want_a.0.push(row);
                    want_a.1.extend(s);
                }
                row += 1;
            }
            assert!(w.push(0, row, &[0.0; 3]).is_err(), "a snippet of the wrong length");
            w.finish().unwrap();
            let sets = read_waveforms(&dest).unwrap();
            assert_eq!(sets.len(), 2);
            assert_eq!(sets[0].shape, (want_a.0.len(), 7, 2));
            assert_eq!((&sets[0].spike_index, &sets[0].waveforms), (&want_a.0, &want_a.1));
            assert_eq!(sets[1].shape, (want_b.0.len(), 7, 3));
            assert_eq!((&sets[1].spike_index, &sets[1].waveforms), (&want_b.0, &want_b.1));
            assert_eq!(sets[1].channels, vec![2, 3, 4]);
            assert_eq!((&sets[0].uv_per_count, &sets[1].uv_per_count), (&None, &None));
        }
    }

    /// Counts: nearest with ties to even, saturating at ±32767 (and
    /// counted), NaN as 0; read back as count × the channel's conversion,
    /// through whole and partial chunks, with and without gzip.
    #[test]
    fn snippets_stored_as_counts_come_back_as_count_times_conversion() {
        let mut q = Vec::new();
        let n = quantize(
            &[0.5, 1.5, -2.5, 2.49, 1e9, -1e9, f32::NAN, 0.26],
            &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0],
            &mut q,
        );
        assert_eq!(q, vec![0, 2, -2, 2, 32_767, -32_767, 0, 1]);
        assert_eq!(n, 2);
        let dir = tempfile::tempdir().unwrap();
        for gzip in [0u8, 1] {
            let dest = dir.path().join(format!("c{gzip}.h5"));
            let steps = vec![0.5, 0.25, 2.0];
            let groups = [
                WaveformGroup { name: "a".into(), electrode_rows: vec![0, 1, 2], uv_per_count: Some(steps.clone()) },
                WaveformGroup { name: "b".into(), electrode_rows: vec![3], uv_per_count: None },
            ];
            let mut w = WaveformWriter::create(&dest, &groups, 30_000.0, 2, 3, gzip).unwrap();
            let mut want = Vec::new();
            for i in 0..600u64 {
                let s: Vec<f32> = (0..15).map(|k| (i as f32 * 0.37 + k as f32 * 1.13).sin() * 900.0).collect();
                w.push(0, i, &s).unwrap();
                w.push(1, i, &s[..5]).unwrap();
                want.extend(s.iter().enumerate().map(|(k, &v)| {
                    let step = steps[k % 3];
                    ((f64::from(v) / step).round_ties_even().clamp(-32_767.0, 32_767.0) * step) as f32
                }));
            }
            assert_eq!(w.saturated(), 0);
            assert!(w.push(0, 600, &[1e9; 15]).is_ok());
            assert_eq!(w.saturated(), 15);
            w.finish().unwrap();
            let sets = read_waveforms(&dest).unwrap();
            assert_eq!(sets[0].uv_per_count, Some(steps.clone()));
            assert_eq!(sets[0].shape, (601, 5, 3));
            assert_eq!(&sets[0].waveforms[..want.len()], &want[..]);
            assert_eq!(&sets[0].waveforms[want.len()..want.len() + 3], &[16_383.5, 8_191.75, 65_534.0]);
            assert_eq!(sets[1].uv_per_count, None);
        }
        let bad = [WaveformGroup { name: "a".into(), electrode_rows: vec![0, 1], uv_per_count: Some(vec![1.0, 0.0]) }];
        let e = WaveformWriter::create(&dir.path().join("bad.h5"), &bad, 30_000.0, 2, 3, 0).unwrap_err().to_string();
        assert!(e.contains("uv_per_count"), "{e}");
    }
}
