//! The plain-HDF5 escape hatch: a small TOML (or command-line) description of
//! where a lab's own layout keeps its samples.
//!
//! ```
//! use burstscope_io::{Mapping, Orientation};
//! let m: Mapping = toml::from_str(r#"
//!     dataset = "/recording/raw"
//!     rate_hz = 20000.0
//!     orientation = "channel-major"
//!     conversion = 0.195e-6
//!     channels_per_group = 4
//! "#).unwrap();
//! assert_eq!(m.orientation, Orientation::ChannelMajor);
//! assert_eq!(m.channel_groups(8).unwrap()[5], "group1");
//! ```

use crate::error::{IoError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How samples are laid out in a 2-D dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Orientation {
    /// Rows are time, columns are channels (NWB's convention).
    #[default]
    TimeMajor,
    /// Rows are channels, columns are time.
    ChannelMajor,
}

/// Where a plain HDF5 file keeps a continuous recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// HDF5 path of the samples dataset.
    pub dataset: String,
    /// Sampling rate in Hz.
    pub rate_hz: f64,
    /// Layout of a 2-D dataset.
    #[serde(default)]
    pub orientation: Orientation,
    /// Scale from stored values to `unit`.
    #[serde(default = "one")]
    pub conversion: f64,
    /// Offset added after scaling.
    #[serde(default)]
    pub offset: f64,
    /// Physical unit after scaling.
    #[serde(default = "volts")]
    pub unit: String,
    /// Time of the first sample, seconds.
    #[serde(default)]
    pub starting_time_s: f64,
    /// Channels per group (4 for tetrodes); default: all channels in one group.
    #[serde(default)]
    pub channels_per_group: Option<usize>,
    /// Brain location recorded for every channel.
    #[serde(default = "unknown")]
    pub location: String,
    /// Where the mapping came from (set by [`Mapping::from_file`]).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

fn one() -> f64 {
    1.0
}
fn volts() -> String {
    "volts".into()
}
fn unknown() -> String {
    "unknown".into()
}

impl Mapping {
    /// A mapping for `dataset` at `rate_hz` with defaults for the rest.
    #[must_use]
    pub fn new(dataset: &str, rate_hz: f64) -> Self {
        Self {
            dataset: dataset.into(),
            rate_hz,
            orientation: Orientation::TimeMajor,
            conversion: 1.0,
            offset: 0.0,
            unit: volts(),
            starting_time_s: 0.0,
            channels_per_group: None,
            location: unknown(),
            source: None,
        }
    }

    /// Reads and validates a TOML mapping file.
    ///
    /// # Errors
    /// [`IoError::Mapping`] naming the file and the offending field.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| IoError::Mapping { file: path.to_path_buf(), reason: e.to_string() })?;
        let mut m: Mapping =
            toml::from_str(&text).map_err(|e| IoError::Mapping { file: path.to_path_buf(), reason: e.to_string() })?;
        m.source = Some(path.to_path_buf());
        m.validate().map_err(|reason| IoError::Mapping { file: path.to_path_buf(), reason })?;
        Ok(m)
    }

    /// Checks the values.
    ///
    /// # Errors
    /// A message naming the field and what is expected.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(self.rate_hz.is_finite() && self.rate_hz > 0.0) {
            return Err(format!("rate_hz = {}; expected a positive rate in Hz", self.rate_hz));
        }
        if !(self.conversion.is_finite() && self.conversion != 0.0) {
            return Err(format!("conversion = {}; expected a finite non-zero scale", self.conversion));
        }
        if self.channels_per_group == Some(0) {
            return Err("channels_per_group = 0; expected at least 1".into());
        }
        Ok(())
    }

    /// Group name of each of `n_channels` channels (empty: none given).
    ///
    /// # Errors
    /// When `channels_per_group` does not divide the channel count.
    pub fn channel_groups(&self, n_channels: usize) -> std::result::Result<Vec<String>, String> {
        match self.channels_per_group {
            None => Ok(vec![String::new(); n_channels]),
            Some(k) if k > 0 && n_channels.is_multiple_of(k) => {
                Ok((0..n_channels).map(|c| format!("group{}", c / k)).collect())
            }
            Some(k) => Err(format!("channels_per_group = {k} does not divide the {n_channels} channels")),
        }
    }
}
