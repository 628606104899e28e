//! `burstscope detect`: flags and `--config` into a [`DetectConfig`], then the
//! pipeline's detect stage in a pool of `--threads` workers.

use super::{Bars, mapping_from_args, print_warnings, settings, table_format};
use crate::Outcome;
use crate::args::{DetectArgs, ReferenceArg, SignArg};
use anyhow::{Context, Result, bail};
use burstscope_dsp::Reference;
use burstscope_pipeline::{DetectConfig, DetectSettings, run_detect};
use burstscope_spikes::Sign;

/// The validated config from the settings file and flags.
pub(crate) fn config(a: &DetectArgs) -> Result<DetectConfig> {
    let mut s: DetectSettings = settings(a.config.as_deref())?;
    let p = &mut s.params;
    if let Some(v) = a.threshold {
        p.threshold = v;
    }
    if let Some(v) = a.band {
        p.band_hz = v;
    }
    if let Some(v) = a.order {
        p.filter_order = v;
    }
    if let Some(v) = a.sign {
        p.sign = match v {
            SignArg::Neg => Sign::Neg,
            SignArg::Pos => Sign::Pos,
            SignArg::Both => Sign::Both,
        };
    }
    if let Some(v) = a.reference {
        p.reference = match v {
            ReferenceArg::None => Reference::None,
            ReferenceArg::Median => Reference::Median,
            ReferenceArg::Average => Reference::Average,
        };
    }
    if let Some(v) = a.dead_time_ms {
        p.dead_time_ms = v;
    }
    if let Some(v) = a.exclusion_ms {
        p.exclusion_ms = v;
    }
    if let Some(v) = &a.series {
        s.series = Some(v.clone());
    }
    if let Some(m) = mapping_from_args(&a.mapping)? {
        s.mapping = Some(m);
    }
    if let Some(d) = &a.mapping.dtype {
        let m = &a.mapping;
        s.raw = Some(burstscope_pipeline::config::RawInput {
            dtype: burstscope_formats::raw::RawDtype::parse(d).map_err(|e| anyhow::anyhow!("--dtype {e}"))?,
            n_channels: m.channels.unwrap_or(0),
            rate_hz: m.rate.unwrap_or(f64::NAN),
            offset_bytes: m.offset_bytes.unwrap_or(0),
            gain_uv: m.gain_uv.unwrap_or(1.0),
        });
    }
    if a.mapping.dataset.is_none() && a.mapping.map.is_none() && a.mapping.channels_per_group.is_some() {
        s.channels_per_group = a.mapping.channels_per_group;
    }
    if a.no_waveforms {
        s.waveforms = false;
    }
    if let Some(v) = a.waveforms_gzip {
        s.waveforms_gzip = v;
    }
    if a.waveforms_float32 {
        s.waveforms_float32 = true;
    }
    if let Some(f) = a.format {
        s.format = table_format(f);
    }
    Ok(DetectConfig::new(s)?)
}

/// Runs `detect` (in a pool of `--threads` workers when given).
pub(crate) fn run(a: &DetectArgs) -> Result<Outcome> {
    let cfg = config(a)?;
    let go = || run_detect(&a.file, &a.out, &cfg, &Bars::default());
    let d = match a.threads {
        Some(n) if n > 0 => {
            rayon::ThreadPoolBuilder::new().num_threads(n).build().context("cannot start worker threads")?.install(go)
        }
        Some(_) => bail!("--threads must be at least 1"),
        None => go(),
    }?;
    print_warnings(&d.warnings);
    eprintln!(
        "{} spikes from {} in {:.2} s -> {}",
        d.samples.len(),
        a.file.display(),
        d.record.run.wall_s,
        d.spikes.display()
    );
    Ok(Outcome::Success)
}
