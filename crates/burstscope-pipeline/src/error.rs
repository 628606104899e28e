//! The pipeline's error type: every failure names the file, the path or field
//! and what was expected.

use std::path::PathBuf;

/// A parameter outside what a stage accepts: names the stage, the field, the
/// value given and what is allowed. Every validated config reports its
/// problems this way, whether they came from a TOML file or a flag.
///
/// ```
/// let e = burstscope_pipeline::ParamError::new("bursts", "bin_s", -1.0, "a positive number of seconds");
/// assert_eq!(e.to_string(), "bursts: bin_s = -1: expected a positive number of seconds");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{stage}: {field} = {value}: expected {allowed}")]
pub struct ParamError {
    /// The stage (`detect`, `bursts`, `epsc`, `generate`).
    pub stage: &'static str,
    /// The field, as in the TOML file (`section.field`).
    pub field: String,
    /// The value given.
    pub value: String,
    /// What is allowed.
    pub allowed: String,
}

impl ParamError {
    /// A parameter error; `value` is shown with `Debug` for text and `Display` otherwise.
    pub fn new(
        stage: &'static str,
        field: impl Into<String>,
        value: impl ShowValue,
        allowed: impl Into<String>,
    ) -> Self {
        Self { stage, field: field.into(), value: value.show(), allowed: allowed.into() }
    }
}

/// How a parameter value is shown in a [`ParamError`].
pub trait ShowValue {
    /// The value as text.
    fn show(&self) -> String;
}

macro_rules! show_display {
    ($($t:ty),*) => {$(impl ShowValue for $t { fn show(&self) -> String { self.to_string() } })*};
}
show_display!(f64, f32, usize, u64, u32, u8, i64, i32, bool);

impl ShowValue for &str {
    fn show(&self) -> String {
        format!("{self:?}")
    }
}
impl ShowValue for String {
    fn show(&self) -> String {
        format!("{self:?}")
    }
}
impl<T: ShowValue> ShowValue for Option<T> {
    fn show(&self) -> String {
        self.as_ref().map_or_else(|| "none".into(), ShowValue::show)
    }
}
impl<A: ShowValue, B: ShowValue> ShowValue for (A, B) {
    fn show(&self) -> String {
        format!("{}:{}", self.0.show(), self.1.show())
    }
}
impl ShowValue for serde_json::Value {
    fn show(&self) -> String {
        self.to_string()
    }
}

/// Errors of the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is outside what the stage accepts.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// Reading or writing a recording.
    #[error(transparent)]
    Io(#[from] burstscope_io::IoError),
    /// Reading or writing a table.
    #[error(transparent)]
    Table(#[from] burstscope_tables::TableError),
    /// Drawing a figure.
    #[error(transparent)]
    Plot(#[from] burstscope_plot::PlotError),
    /// The generator.
    #[error(transparent)]
    Synth(#[from] burstscope_synth::SynthError),
    /// Signal processing.
    #[error(transparent)]
    Dsp(#[from] burstscope_dsp::DspError),
    /// Spike detection.
    #[error(transparent)]
    Detect(#[from] burstscope_spikes::DetectError),
    /// Burst detection.
    #[error(transparent)]
    Bursts(#[from] burstscope_bursts::BurstError),
    /// EPSC analysis.
    #[error(transparent)]
    Epsc(#[from] burstscope_epsc::EpscError),
    /// Current-clamp analysis.
    #[error(transparent)]
    Cclamp(#[from] burstscope_cclamp::CclampError),
    /// Reading an Axon ABF file.
    #[error(transparent)]
    Abf(#[from] burstscope_formats::abf::AbfError),
    /// Reading a HEKA PatchMaster bundle.
    #[error(transparent)]
    Heka(#[from] burstscope_formats::heka::HekaError),
    /// A file system operation on `path`.
    #[error("{}: {source}", path.display())]
    File {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// An input that cannot be used, with the reason.
    #[error("{0}")]
    Input(String),
    /// A failure with what was being done when it happened.
    #[error("{context}: {source}")]
    Context {
        /// What was being done (usually the file).
        context: String,
        /// The failure.
        source: Box<Error>,
    },
}

/// The pipeline's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds what was being done to an error.
pub trait Context<T> {
    /// Wraps the error with `context()`.
    ///
    /// # Errors
    /// The original error, wrapped.
    fn ctx<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn ctx<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::Context { context: context().into(), source: Box::new(e.into()) })
    }
}

/// An error of the file system on `path`.
pub(crate) fn file_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::File { path, source }
}

/// Returns early with [`Error::Input`].
macro_rules! bail {
    ($($t:tt)*) => { return Err($crate::Error::Input(format!($($t)*))) };
}
pub(crate) use bail;
