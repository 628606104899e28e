//! Errors of the I/O crate: every one names the file and, where it applies,
//! the HDF5 path and what was expected there.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, IoError>;

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file does not exist or cannot be opened.
    #[error("{file}: cannot open: {reason}")]
    Open {
        /// The file.
        file: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The file exists but is not HDF5.
    #[error("{file}: not an HDF5 file (no HDF5 signature); burstscope reads NWB 2.x (HDF5) files")]
    NotHdf5 {
        /// The file.
        file: PathBuf,
    },
    /// HDF5 but neither NWB nor a known or mapped layout.
    #[error(
        "{file}: HDF5 file is neither NWB (no root attribute neurodata_type=NWBFile) nor an MEA \
         spike-train file (/spikes, /sCount, /names); map it with --dataset PATH --rate HZ \
         [--orientation time-major|channel-major] or --map mapping.toml (see `burstscope inspect --help`)"
    )]
    UnknownLayout {
        /// The file.
        file: PathBuf,
    },
    /// A required object is missing.
    #[error("{file}: {h5path}: missing; expected {expected}")]
    Missing {
        /// The file.
        file: PathBuf,
        /// HDF5 path of the missing object.
        h5path: String,
        /// What should be there.
        expected: String,
    },
    /// An object is present but its value or shape is unusable.
    #[error("{file}: {h5path}: {problem}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// HDF5 path of the object.
        h5path: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// The element type is not one burstscope can read.
    #[error("{file}: {h5path}: unsupported data type {dtype}; expected {expected}")]
    UnsupportedDtype {
        /// The file.
        file: PathBuf,
        /// HDF5 path.
        h5path: String,
        /// The type found.
        dtype: String,
        /// What is accepted.
        expected: String,
    },
    /// The user asked for something the file does not have (e.g. a series name).
    #[error("{file}: {message}")]
    NotInFile {
        /// The file.
        file: PathBuf,
        /// What was asked and what there is.
        message: String,
    },
    /// An error from the HDF5 library.
    #[error("{file}: {h5path}: HDF5 error: {source}")]
    Hdf5 {
        /// The file.
        file: PathBuf,
        /// HDF5 path being accessed.
        h5path: String,
        /// The library's error.
        source: hdf5::Error,
    },
    /// A mapping file (TOML) could not be read.
    #[error("{file}: invalid mapping: {reason}")]
    Mapping {
        /// The mapping file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An operating-system error while writing.
    #[error("{file}: {source}")]
    Os {
        /// The file.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}
