//! Opening a recording file and reading its metadata, units, epochs and sweeps.

use crate::error::{IoError, Result};
use crate::h5util::{Ctx, is_numeric, is_string, join, members, neurodata_type};
use crate::mapping::Mapping;
use burstscope_core::{FileSummary, SessionMeta, UnitSummary};
use hdf5::Group;
use std::io::Read;
use std::path::Path;

mod epochs;
mod events;
mod icephys;
mod series;
mod units;

/// The file layouts burstscope recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// NWB 2.x (root attribute `neurodata_type` = `NWBFile`).
    Nwb,
    /// MEA spike-train layout: `/spikes`, `/sCount`, `/names`, `/summary/duration`.
    MeaSpikes,
    /// A plain HDF5 dataset described by a [`Mapping`].
    Mapped,
}

impl Layout {
    /// Short name used in summaries.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Layout::Nwb => "nwb",
            Layout::MeaSpikes => "mea-spikes",
            Layout::Mapped => "mapped",
        }
    }
}

const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Checks the HDF5 signature at offset 0 or at a user-block offset (512, 1024, ...).
fn check_signature(path: &Path) -> Result<()> {
    let mut f =
        std::fs::File::open(path).map_err(|e| IoError::Open { file: path.to_path_buf(), reason: e.to_string() })?;
    let meta = f.metadata().map_err(|e| IoError::Open { file: path.to_path_buf(), reason: e.to_string() })?;
    if meta.is_dir() {
        return Err(IoError::Open { file: path.to_path_buf(), reason: "is a directory, expected a file".into() });
    }
    let mut head = vec![0u8; 8];
    let mut offset = 0u64;
    while offset + 8 <= meta.len() {
        use std::io::Seek;
        f.seek(std::io::SeekFrom::Start(offset)).map_err(|e| IoError::Os { file: path.to_path_buf(), source: e })?;
        f.read_exact(&mut head).map_err(|e| IoError::Os { file: path.to_path_buf(), source: e })?;
        if head.as_slice() == HDF5_SIGNATURE {
            return Ok(());
        }
        offset = if offset == 0 { 512 } else { offset * 2 };
        if offset > (1 << 20) {
            break;
        }
    }
    Err(IoError::NotHdf5 { file: path.to_path_buf() })
}

/// Which `/units` columns [`Recording::units_with`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitColumns {
    /// Spike times, electrode group, observation intervals and one-value-per-unit columns.
    Scalars,
    /// Every column, array-valued ones (waveforms, waveform means) included.
    All,
}

/// An opened recording file (NWB, MEA spike layout or mapped HDF5).
///
/// ```no_run
/// use burstscope_io::Recording;
/// let rec = Recording::open("session.nwb".as_ref())?;
/// for s in rec.series()? {
///     println!("{} {} ch at {} Hz", s.name, s.n_channels, s.rate_hz);
/// }
/// let units = rec.units()?;
/// # Ok::<(), burstscope_io::IoError>(())
/// ```
#[derive(Debug)]
pub struct Recording {
    pub(crate) ctx: Ctx,
    pub(crate) file: hdf5::File,
    layout: Layout,
    mapping: Option<Mapping>,
}

impl Recording {
    /// Opens a file and detects its layout. A plain HDF5 file without a
    /// mapping is an [`IoError::UnknownLayout`].
    ///
    /// # Errors
    /// Missing file, not HDF5, unknown layout.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, None)
    }

    /// Opens a file with an optional mapping for plain HDF5 layouts. The
    /// mapping is used only when the file is not NWB.
    ///
    /// # Errors
    /// Missing file, not HDF5, unknown layout, mapping dataset missing.
    pub fn open_with(path: &Path, mapping: Option<Mapping>) -> Result<Self> {
        let _watch = crate::watchdog::guard(|| format!("{}: opening the file", path.display()));
        check_signature(path)?;
        let ctx = Ctx::new(path);
        let file = hdf5::File::open(path).map_err(|e| ctx.h5err("/", e))?;
        let root_type = neurodata_type(&ctx, &file);
        // NWB 2.x: the root is an `NWBFile`, or an extension's subtype of it
        // (e.g. `NDXICEphysFile`), which every NWB 2 writer marks with the
        // root attribute `nwb_version` = "2.x".
        let nwb2 = root_type.as_deref() == Some("NWBFile")
            || ctx.attr_string(&file, "nwb_version").ok().flatten().is_some_and(|v| v.trim().starts_with('2'));
        let layout = if nwb2 {
            Layout::Nwb
        } else if let Some(v) =
            ctx.opt_string_ds(&file, "nwb_version").ok().flatten().filter(|v| v.trim().starts_with("NWB-1"))
        {
            return Err(IoError::NotInFile {
                file: path.to_path_buf(),
                message: format!(
                    "NWB 1.x ({}) is not supported; convert it to NWB 2 (e.g. with pynwb's converter)",
                    v.trim().trim_start_matches("NWB-")
                ),
            });
        } else if mapping.is_some() {
            Layout::Mapped
        } else if file.link_exists("spikes") && file.link_exists("sCount") && file.link_exists("names") {
            Layout::MeaSpikes
        } else {
            return Err(IoError::UnknownLayout { file: path.to_path_buf() });
        };
        let rec = Self { ctx, file, layout, mapping: if layout == Layout::Mapped { mapping } else { None } };
        if layout == Layout::Mapped {
            // Validate the mapping against the file now, so errors surface at open.
            rec.mapped_series()?;
        }
        Ok(rec)
    }

    /// The path the file was opened from.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.ctx.file
    }

    /// The detected layout.
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Everything `inspect` reports, without samples or spike times.
    ///
    /// # Errors
    /// Any malformed object the summary touches.
    pub fn summary(&self) -> Result<FileSummary> {
        let _watch = crate::watchdog::guard(|| format!("{}: summarising the file", self.ctx.file.display()));
        let units = self.units()?;
        Ok(FileSummary {
            path: self.ctx.file.display().to_string(),
            layout: self.layout.name().into(),
            session: self.session()?,
            series: self.series()?,
            units: units.iter().map(UnitSummary::from).collect(),
            epochs: self.epochs()?,
            sweeps: self.sweeps()?,
            has_intracellular_recordings_table: self.layout == Layout::Nwb
                && self.file.link_exists("general/intracellular_ephys/intracellular_recordings"),
            recording_duration_s: self.duration_s()?,
            events: self.events()?.into_iter().filter(|e| e.source != "/intervals/epochs").collect(),
        })
    }

    /// Duration of the recording in seconds, from the longest series, the MEA
    /// summary or, failing those, the last epoch stop.
    ///
    /// # Errors
    /// Malformed series or summary.
    pub fn duration_s(&self) -> Result<Option<f64>> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading the duration", self.ctx.file.display()));
        let series = self.series()?;
        if let Some(d) = series.iter().map(|s| s.starting_time_s + s.duration_s).reduce(f64::max) {
            return Ok(Some(d));
        }
        if self.layout == Layout::MeaSpikes && self.file.link_exists("summary/duration") {
            let ds = self.file.dataset("summary/duration").map_err(|e| self.ctx.h5err("/summary/duration", e))?;
            return self.ctx.read_f64_scalar(&ds, "/summary/duration").map(Some);
        }
        Ok(self.epochs()?.iter().map(|e| e.stop_s).reduce(f64::max))
    }

    // ------------------------------------------------------------------ session

    /// Session metadata (`/general`, root datasets).
    ///
    /// # Errors
    /// Malformed text datasets.
    pub fn session(&self) -> Result<SessionMeta> {
        let _watch = crate::watchdog::guard(|| format!("{}: reading /general", self.ctx.file.display()));
        let c = &self.ctx;
        let mut m = SessionMeta { nwb_version: c.attr_string(&self.file, "nwb_version")?, ..SessionMeta::default() };
        if self.layout != Layout::Nwb {
            return Ok(m);
        }
        let root: &Group = &self.file;
        m.identifier = c.opt_string_ds(root, "identifier")?;
        m.session_description = c.opt_string_ds(root, "session_description")?;
        m.session_start_time = c.opt_string_ds(root, "session_start_time")?;
        if let Ok(general) = self.file.group("general") {
            m.pharmacology = c.opt_string_ds(&general, "pharmacology")?;
            if general.link_exists("experimenter") {
                let ds = c.dataset(&general, "experimenter", "text")?;
                m.experimenter = c.read_strings(&ds, "/general/experimenter")?;
            }
            if let Ok(subject) = general.group("subject") {
                for name in members(&subject) {
                    if let Ok(ds) = subject.dataset(&name) {
                        let td = c.descriptor(&ds, &join("/general/subject", &name))?;
                        if is_string(&td) || is_numeric(&td) {
                            let v = c.read_strings(&ds, &join("/general/subject", &name))?;
                            m.subject.insert(name, v.join("; "));
                        }
                    }
                }
            }
            for name in members(&general) {
                if matches!(name.as_str(), "pharmacology" | "experimenter") {
                    continue;
                }
                if let Ok(ds) = general.dataset(&name) {
                    let p = join("/general", &name);
                    let td = c.descriptor(&ds, &p)?;
                    if is_string(&td) {
                        m.general.insert(name, c.read_strings(&ds, &p)?.join("; "));
                    }
                }
            }
        }
        Ok(m)
    }
}
