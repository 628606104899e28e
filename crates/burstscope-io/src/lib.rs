//! NWB/HDF5 input and output for burstscope — the only crate that links HDF5.
//!
//! Reading ([`Recording`]) covers what labs' files hold:
//! - extracellular `ElectricalSeries` anywhere under `/acquisition` or
//!   `/processing`, any integer or float dtype, time from `starting_time` +
//!   `rate` or from `timestamps`, physical value = data × `conversion` ×
//!   `channel_conversion[ch]` + `offset`, the `electrodes` region resolved to
//!   table rows with group name and location;
//! - `/units` (ragged spike times with any index width, electrode groups,
//!   any other column as typed values), `/intervals/epochs`, `/general`;
//! - intracellular voltage/current-clamp sweeps with their electrode, stimulus
//!   and the `IntracellularRecordingsTable` when present;
//! - the MEA spike-train layout (`/spikes`, `/sCount`, `/names`) as units, and
//!   any plain HDF5 dataset through a [`Mapping`].
//!
//! Continuous data is streamed ([`SeriesReader`]) in blocks whose size, not
//! the file's, bounds memory. Writing ([`NwbWriter`]) produces NWB 2.x files
//! that pynwb opens, through a temporary file renamed on success.
//!
//! Every error names the file, the HDF5 path and what was expected.

mod direct;
mod error;
mod h5util;
mod mapping;
pub mod phy;
mod reader;
mod stream;
pub mod watchdog;
mod waveforms;
mod writer;

pub use error::{IoError, Result};
pub use mapping::{Mapping, Orientation};
pub use reader::{Layout, Recording, UnitColumns};
pub use stream::SeriesReader;
pub use waveforms::{WaveformGroup, WaveformSet, WaveformWriter, read_waveforms};
pub use writer::{
    Clamp, ElectricalSeriesSpec, ElectricalSeriesWriter, IcRecordingRow, NWB_VERSION, NwbSession, NwbWriter,
    PatchSweepSpec, SortedUnitsSpec, SweepSpec, iso8601_from_unix, now_iso8601,
};
