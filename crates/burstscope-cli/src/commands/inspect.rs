//! `burstscope inspect FILES...`: what a user asks first about a file.

use super::mapping_from_args;
use crate::Outcome;
use crate::args::InspectArgs;
use anyhow::Result;
use burstscope_io::Recording;
use std::io::Write as _;

pub(crate) fn run(a: &InspectArgs) -> Result<Outcome> {
    if a.mapping.dtype.is_some() {
        anyhow::bail!("--dtype: raw binary input is read by `burstscope detect` (not yet by `inspect`)");
    }
    let mapping = mapping_from_args(&a.mapping)?;
    // Each file's summary as JSON and as text.
    let mut summaries: Vec<(serde_json::Value, String)> = Vec::new();
    let mut failures = Vec::new();
    for f in &a.files {
        // One file's failure, even an internal one, never stops the others.
        let read = std::panic::catch_unwind(|| -> Result<(serde_json::Value, String)> {
            if burstscope_pipeline::inspect::is_abf(f) {
                let abf = burstscope_formats::abf::Abf::open(f)?;
                return Ok((
                    burstscope_pipeline::inspect::abf_summary(&abf),
                    burstscope_pipeline::inspect::render_abf(&abf),
                ));
            }
            if let Some(s) = burstscope_pipeline::inspect::other_format_summary(f)? {
                return Ok(s);
            }
            let s = Recording::open_with(f, mapping.clone()).and_then(|r| r.summary())?;
            Ok((serde_json::to_value(&s)?, burstscope_pipeline::inspect::render_summary(&s)))
        });
        match read {
            Ok(Ok(s)) => summaries.push(s),
            Ok(Err(e)) => failures.push(e),
            Err(_) => failures.push(anyhow::anyhow!("{}: internal error while reading this file", f.display())),
        }
    }
    if failures.len() == a.files.len() {
        // Nothing usable: report the (first) reason with exit code 2.
        let mut it = failures.into_iter();
        let first = it.next().unwrap_or_else(|| anyhow::anyhow!("no input"));
        for e in it {
            eprintln!("burstscope: error: {}", crate::one_line(&e));
        }
        return Err(first);
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let all: Vec<&serde_json::Value> = summaries.iter().map(|s| &s.0).collect();
        serde_json::to_writer_pretty(&mut out, &all)?;
        writeln!(out)?;
    } else {
        for s in &summaries {
            write!(out, "{}", s.1)?;
        }
    }
    out.flush()?;
    for e in &failures {
        eprintln!("burstscope: error: {}", crate::one_line(e));
    }
    Ok(if failures.is_empty() { Outcome::Success } else { Outcome::Partial })
}
