//! One module per subcommand: each turns its arguments into a validated
//! config, calls the pipeline library, shows progress and warnings, and
//! returns how it ended. The analysis itself lives in `burstscope-pipeline`.

mod batch;
mod bursts;
mod cclamp;
mod convert;
mod demo;
mod detect;
mod epsc;
mod generate;
mod inspect;
mod sort;

use crate::Outcome;
use crate::args::{Cli, Command, GenerateCommand, MappingArgs, Orientation, TableFormatArg};
use anyhow::{Context, Result};
use burstscope_io::Mapping;
use burstscope_pipeline::{Progress, TableFormat};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

pub(crate) fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Demo(a) => demo::run(&a),
        Command::Generate(GenerateCommand::Tetrode(a)) => generate::tetrode(&a),
        Command::Generate(GenerateCommand::Slices(a)) => generate::slices(&a),
        Command::Generate(GenerateCommand::Dataset(a)) => generate::dataset(&a),
        Command::Inspect(a) => inspect::run(&a),
        Command::Detect(a) => detect::run(&a),
        Command::Sort(a) => sort::run(&a),
        Command::Bursts(a) => bursts::run(&a),
        Command::Epsc(a) => epsc::run(&a),
        Command::Cclamp(a) => cclamp::run(&a),
        Command::Convert(a) => convert::run(&a),
        Command::Batch(a) => batch::run(&a),
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

/// Reads a settings file, or the defaults without one.
pub(crate) fn settings<T: serde::de::DeserializeOwned + Default>(path: Option<&Path>) -> Result<T> {
    Ok(match path {
        Some(p) => burstscope_pipeline::read_settings(p)?,
        None => T::default(),
    })
}

pub(crate) fn table_format(f: TableFormatArg) -> TableFormat {
    match f {
        TableFormatArg::Parquet => TableFormat::Parquet,
        TableFormatArg::Csv => TableFormat::Csv,
    }
}

/// Prints warnings the library returned, one per line.
pub(crate) fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("burstscope: warning: {w}");
    }
}

/// Progress on stderr: a bar that appears once a task has run for a second
/// (so quick tasks print nothing), and step messages.
#[derive(Debug, Default)]
pub(crate) struct Bars {
    bar: Mutex<Option<(ProgressBar, Instant, bool)>>,
}

impl Progress for Bars {
    fn start(&self, len: u64, what: &str) {
        let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        pb.set_style(
            ProgressStyle::with_template("{msg:>12} [{elapsed_precise}] {wide_bar} {pos}/{len} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.set_message(what.to_string());
        if let Ok(mut b) = self.bar.lock() {
            *b = Some((pb, Instant::now(), false));
        }
    }

    fn inc(&self, n: u64) {
        if let Ok(mut b) = self.bar.lock()
            && let Some((pb, t0, shown)) = b.as_mut()
        {
            pb.inc(n);
            if !*shown && t0.elapsed().as_secs_f64() > 1.0 {
                pb.set_draw_target(ProgressDrawTarget::stderr());
                *shown = true;
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some((pb, _, _)) = b.take()
        {
            pb.finish_and_clear();
        }
    }

    fn step(&self, message: &str) {
        eprintln!("{message}");
    }
}
