//! `waveforms.h5`: spike waveform snippets per channel group, written as
//! detection streams them (resizable datasets, appended in order).
//!
//! Layout (chunked; gzip optional, off by default because HDF5 compresses
//! under its global lock and would serialise detection):
//! - `/<group>/waveforms` float32 `(n_spikes, n_samples, n_channels)`, µV,
//!   filtered signal, time axis from `−ms_before` to `+ms_after` around the peak;
//! - `/<group>/spike_index` uint64 `(n_spikes,)`: row of the spike in `spikes.*`;
//! - `/<group>/channels` int64: electrode-table rows of the group's channels;
//! - root attributes `rate_hz`, `ms_before`, `ms_after`, `n_before` (samples
//!   before the peak), `unit` (`microvolts`), `program`, `version`.

use crate::error::{IoError, Result};
use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Extent, SimpleExtents};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One group's datasets.
#[derive(Debug)]
struct GroupSets {
    waveforms: Dataset,
    index: Dataset,
    n: usize,
    n_channels: usize,
}

/// Streams waveforms into `waveforms.h5`; see the module documentation.
#[derive(Debug)]
pub struct WaveformWriter {
    file: Option<hdf5::File>,
    groups: Vec<GroupSets>,
    n_samples: usize,
    tmp: burstscope_core::AtomicFile,
    dest: PathBuf,
}

/// A group to store: name and electrode-table rows of its channels.
#[derive(Debug, Clone)]
pub struct WaveformGroup {
    /// Group name.
    pub name: String,
    /// Electrode rows.
    pub electrode_rows: Vec<i64>,
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
        // Snippets are appended in order, so one chunk in flight per dataset is
        // enough: the 1 MiB cache of HDF5 1.x, not 2.x's larger default (which
        // cost ~50 MB for a 32-channel session).
        let file = hdf5::File::with_options()
            .with_fcpl(|p| p.obj_track_times(false))
            .with_fapl(|p| p.chunk_cache(521, 1 << 20, 0.75))
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
            let s = (|| -> hdf5::Result<GroupSets> {
                // No modification times in object headers: the same spikes give the same bytes.
                let grp = file.create_group_builder().obj_track_times(false).create(g.name.as_str())?;
                let shape = SimpleExtents::from_vec(vec![
                    Extent::new(0, None),
                    Extent::from(n_samples.max(1)),
                    Extent::from(nch),
                ]);
                let mut b = grp.new_dataset::<f32>().obj_track_times(false).chunk((256, n_samples.max(1), nch));
                if gzip_level > 0 {
                    b = b.shuffle().deflate(gzip_level.min(9));
                }
                let waveforms = b.shape(shape).create("waveforms")?;
                let index = grp
                    .new_dataset::<u64>()
                    .obj_track_times(false)
                    .chunk(4096)
                    .shape(SimpleExtents::from_vec(vec![Extent::new(0, None)]))
                    .create("spike_index")?;
                grp.new_dataset_builder()
                    .obj_track_times(false)
                    .with_data(g.electrode_rows.as_slice())
                    .create("channels")?;
                Ok(GroupSets { waveforms, index, n: 0, n_channels: nch })
            })()
            .map_err(|e| err(&p, e))?;
            sets.push(s);
        }
        Ok(Self { file: Some(file), groups: sets, n_samples, tmp, dest: dest.to_path_buf() })
    }

    /// Appends snippets of group `g`: `spike_rows[i]` and
    /// `waveforms[i·n_samples·n_channels ..]` (time-major per spike).
    ///
    /// # Errors
    /// Mismatched lengths or HDF5 errors.
    pub fn append(&mut self, g: usize, spike_rows: &[u64], waveforms: &[f32]) -> Result<()> {
        let dest = self.dest.clone();
        let n_samples = self.n_samples;
        let set = self.groups.get_mut(g).ok_or_else(|| IoError::Invalid {
            file: dest.clone(),
            h5path: "/".into(),
            problem: format!("no waveform group {g}"),
        })?;
        let k = spike_rows.len();
        if waveforms.len() != k * n_samples * set.n_channels {
            return Err(IoError::Invalid {
                file: dest,
                h5path: set.waveforms.name(),
                problem: format!("{} values for {k} snippets", waveforms.len()),
            });
        }
        if k == 0 {
            return Ok(());
        }
        let err = |e| IoError::Hdf5 { file: dest.clone(), h5path: set.waveforms.name(), source: e };
        let (a, b) = (set.n, set.n + k);
        set.waveforms.resize((b, n_samples, set.n_channels)).map_err(err)?;
        let view = ndarray::ArrayView3::from_shape((k, n_samples, set.n_channels), waveforms).map_err(|e| {
            IoError::Invalid { file: dest.clone(), h5path: set.waveforms.name(), problem: e.to_string() }
        })?;
        set.waveforms.write_slice(view, ndarray::s![a..b, .., ..]).map_err(err)?;
        set.index.resize(b).map_err(err)?;
        set.index.write_slice(spike_rows, ndarray::s![a..b]).map_err(err)?;
        set.n = b;
        Ok(())
    }

    /// Closes and renames the file into place.
    ///
    /// # Errors
    /// Flush or rename errors.
    pub fn finish(mut self) -> Result<PathBuf> {
        self.groups.clear();
        let f = self.file.take().expect("open until finish");
        f.flush().map_err(|e| IoError::Hdf5 { file: self.dest.clone(), h5path: "/".into(), source: e })?;
        drop(f);
        let tmp = std::mem::replace(&mut self.tmp, burstscope_core::AtomicFile::reserve(&self.dest));
        tmp.commit().map_err(|e| IoError::Os { file: self.dest.clone(), source: e })
    }
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
    /// Snippets, µV, row-major in `shape`.
    pub waveforms: Vec<f32>,
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
        let waveforms = w.read_raw::<f32>().map_err(|e| err(&format!("{p}/waveforms"), e))?;
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
