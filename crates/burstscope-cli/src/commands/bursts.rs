//! `burstscope bursts`: flags and `--config` into a [`BurstsConfig`], then the
//! pipeline's bursts stage.

use super::{print_warnings, settings, table_format};
use crate::Outcome;
use crate::args::{BurstsArgs, MethodArg};
use anyhow::Result;
use burstscope_pipeline::{BurstsConfig, BurstsSettings, MethodName, ParamError, run_bursts};

/// The validated config from the settings file and flags.
pub(crate) fn config(a: &BurstsArgs) -> Result<BurstsConfig> {
    let mut s: BurstsSettings = settings(a.config.as_deref())?;
    if let Some(m) = a.method {
        s.method = match m {
            MethodArg::Lhb => MethodName::Lhb,
            MethodArg::Maxinterval => MethodName::Maxinterval,
            MethodArg::Poisson => MethodName::Poisson,
            MethodArg::Rank => MethodName::Rank,
            MethodArg::Logisi => MethodName::Logisi,
            MethodArg::Cma => MethodName::Cma,
        };
    }
    if (a.start_isi_ms.is_some() || a.end_isi_ms.is_some() || a.silence_ms.is_some()) && s.method != MethodName::Lhb {
        return Err(ParamError::new(
            "bursts",
            "method",
            format!("{:?}", s.method).to_lowercase(),
            "--method lhb: --start-isi-ms, --end-isi-ms and --silence-ms apply to lhb only (use --config for other methods)",
        )
        .into());
    }
    if let Some(v) = a.start_isi_ms {
        s.lhb.start_isi_max_s = v / 1000.0;
    }
    if let Some(v) = a.end_isi_ms {
        s.lhb.end_isi_max_s = v / 1000.0;
    }
    if let Some(v) = a.silence_ms {
        s.lhb.min_preceding_silence_s = v / 1000.0;
    }
    if let Some(n) = a.min_spikes {
        s.set_min_spikes(n);
    }
    let w = &mut s.windows;
    match &a.drug_at {
        Some(crate::args::DrugAt::Seconds(t)) => {
            w.drug_at_s = Some(*t);
            w.drug_at_event = None;
        }
        Some(crate::args::DrugAt::Event(n)) => {
            w.drug_at_event = Some(n.clone());
            w.drug_at_s = None;
        }
        None => {}
    }
    if let (Some(b), Some(p)) = (a.baseline, a.post) {
        w.baseline_s = Some(b);
        w.post_s = Some(p);
    }
    if let Some(v) = a.exclude_after {
        w.exclude_after_s = v;
    }
    if let Some(n) = &a.drug_name {
        w.drug_name = Some(n.clone());
    }
    if let Some(v) = a.bin {
        s.bin_s = v;
    }
    if let Some(f) = a.format {
        s.format = table_format(f);
    }
    if let Some(l) = &a.labels {
        s.labels.clone_from(l);
    }
    if a.no_figures {
        s.figures = false;
    }
    Ok(BurstsConfig::new(s)?)
}

/// Runs `burstscope bursts`.
pub(crate) fn run(a: &BurstsArgs) -> Result<Outcome> {
    let cfg = config(a)?;
    let r = run_bursts(&a.input, &a.out, &cfg)?;
    print_warnings(&r.warnings);
    eprintln!(
        "{}: {} units, {} bursts ({}) → {}",
        a.input.display(),
        r.analysis.units.len(),
        r.analysis.n_bursts(),
        r.analysis.method.name(),
        a.out.display()
    );
    Ok(Outcome::Success)
}
