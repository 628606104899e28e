//! `burstscope sort`: flags and `--config` into a [`SortConfig`], then the
//! pipeline's sort stage in a pool of `--threads` workers.

use super::{Bars, mapping_from_args, print_warnings, settings, table_format};
use crate::Outcome;
use crate::args::SortArgs;
use anyhow::{Context, Result, bail};
use burstscope_pipeline::{SortConfig, SortSettings, run_sort};

/// The validated config from the settings file and flags.
pub(crate) fn config(a: &SortArgs) -> Result<SortConfig> {
    let mut s: SortSettings = settings(a.config.as_deref())?;
    if let Some(v) = a.threshold {
        s.detect.params.threshold = v;
    }
    if let Some(v) = &a.series {
        s.detect.series = Some(v.clone());
    }
    if a.mapping.dtype.is_some() {
        anyhow::bail!("--dtype: raw binary input is read by `burstscope detect` (not yet by `sort`)");
    }
    if let Some(m) = mapping_from_args(&a.mapping)? {
        s.detect.mapping = Some(m);
    }
    if a.no_burst_merge {
        s.burst_merge = false;
    }
    if let Some(f) = a.format {
        s.format = table_format(f);
    }
    Ok(SortConfig::new(s)?)
}

/// Runs `sort`.
pub(crate) fn run(a: &SortArgs) -> Result<Outcome> {
    let cfg = config(a)?;
    let go = || run_sort(&a.file, &a.out, &cfg, &Bars::default());
    let r = match a.threads {
        Some(n) if n > 0 => {
            rayon::ThreadPoolBuilder::new().num_threads(n).build().context("cannot start worker threads")?.install(go)
        }
        Some(_) => bail!("--threads must be at least 1"),
        None => go(),
    }?;
    print_warnings(&r.warnings);
    if let Some(dest) = &a.phy {
        copy_phy(&r.dir.join("phy"), dest)?;
        eprintln!("phy folder -> {} (open with: phy template-gui {}/params.py)", dest.display(), dest.display());
    }
    eprintln!(
        "{} units from {} in {:.2} s -> {}",
        r.units.len(),
        a.file.display(),
        r.record.run.wall_s,
        r.dir.display()
    );
    Ok(Outcome::Success)
}

/// Copies the phy folder the stage wrote to `dest` (files replaced one by one).
fn copy_phy(src: &std::path::Path, dest: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(dest).with_context(|| format!("{}: cannot create the phy folder", dest.display()))?;
    for e in std::fs::read_dir(src).with_context(|| format!("{}: cannot read", src.display()))? {
        let e = e?;
        std::fs::copy(e.path(), dest.join(e.file_name()))
            .with_context(|| format!("{}: cannot write", dest.join(e.file_name()).display()))?;
    }
    Ok(())
}
