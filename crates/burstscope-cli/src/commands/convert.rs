//! `burstscope convert`: flags into [`ConvertOptions`], then the pipeline's
//! converter; the NWB file appears whole or not at all.

use super::{Bars, print_warnings};
use crate::Outcome;
use crate::args::ConvertArgs;
use anyhow::Result;
use burstscope_pipeline::convert::{ConvertOptions, run_convert};

/// Runs `burstscope convert`.
pub(crate) fn run(a: &ConvertArgs) -> Result<Outcome> {
    let mut o = ConvertOptions::default();
    if let Some(g) = a.gzip {
        o.gzip_level = g;
    }
    if let Some(c) = a.chunk_samples {
        o.chunk_samples = c;
    }
    o.channels_per_group = a.channels_per_group;
    o.subject.clone_from(&a.subject);
    o.experimenter.clone_from(&a.experimenter);
    if let Some(d) = &a.dtype {
        o.raw = Some(burstscope_pipeline::config::RawInput {
            dtype: burstscope_formats::raw::RawDtype::parse(d).map_err(|e| anyhow::anyhow!("--dtype {e}"))?,
            n_channels: a.channels.ok_or_else(|| anyhow::anyhow!("--dtype needs --channels N"))?,
            rate_hz: a.rate.ok_or_else(|| anyhow::anyhow!("--dtype needs --rate HZ"))?,
            offset_bytes: a.offset_bytes.unwrap_or(0),
            gain_uv: a.gain_uv.unwrap_or(1.0),
        });
    }
    let r = run_convert(&a.input, &a.out, &o, &Bars::default())?;
    print_warnings(&r.warnings);
    eprintln!(
        "{} ({}) → {}: {}",
        a.input.display(),
        r.format,
        r.out.display(),
        r.summary.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    );
    Ok(Outcome::Success)
}
