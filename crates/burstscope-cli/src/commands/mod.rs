//! One module per subcommand.

mod bursts;
mod demo;
mod detect;
mod epsc;
mod generate;
mod inspect;
mod lfp;

use crate::Outcome;
use crate::args::{Cli, Command, GenerateCommand, MappingArgs, Orientation};
use anyhow::{Context, Result};
use burstscope_io::Mapping;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

pub(crate) fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Demo(a) => demo::run(&a),
        Command::Generate(GenerateCommand::Tetrode(a)) => generate::tetrode(&a).map(|_| Outcome::Success),
        Command::Generate(GenerateCommand::Slices(a)) => generate::slices(&a).map(|_| Outcome::Success),
        Command::Inspect(a) => inspect::run(&a),
        Command::Detect(a) => detect::run(&a).map(|_| Outcome::Success),
        Command::Bursts(a) => bursts::run(&a).map(|_| Outcome::Success),
        Command::Epsc(a) => epsc::run(&a).map(|o| o.outcome),
    }
}

/// The mapping the flags describe, if any.
pub(crate) fn mapping_from_args(m: &MappingArgs) -> Result<Option<Mapping>> {
    if let Some(path) = &m.map {
        return Ok(Some(Mapping::from_file(path)?));
    }
    let Some(dataset) = &m.dataset else { return Ok(None) };
    let rate = m.rate.context("--dataset needs --rate HZ")?;
    let mut map = Mapping::new(dataset, rate);
    map.orientation = match m.orientation {
        Orientation::TimeMajor => burstscope_io::Orientation::TimeMajor,
        Orientation::ChannelMajor => burstscope_io::Orientation::ChannelMajor,
    };
    map.conversion = m.conversion;
    map.channels_per_group = m.channels_per_group;
    map.validate().map_err(|e| anyhow::anyhow!("invalid mapping flags: {e}"))?;
    Ok(Some(map))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub(crate) fn progress(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{elapsed_precise}] {wide_bar} {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    pb
}

/// Reads a TOML parameter file into `T` (unknown fields are errors).
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid parameters", path.display()))
}

/// Writes pretty JSON atomically.
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    burstscope_core::write_atomic(path, &bytes).with_context(|| format!("{}: cannot write", path.display()))
}

/// Creates the parent folder of `path` if needed.
pub(crate) fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create folder", parent.display()))?;
    }
    Ok(())
}
