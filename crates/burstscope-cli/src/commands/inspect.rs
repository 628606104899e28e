//! `burstscope inspect FILES...`: what a user asks first about a file.

use super::mapping_from_args;
use crate::Outcome;
use crate::args::InspectArgs;
use anyhow::Result;
use burstscope_io::Recording;
use std::io::Write as _;

pub(crate) fn run(a: &InspectArgs) -> Result<Outcome> {
    let mapping = mapping_from_args(&a.mapping)?;
    let mut summaries = Vec::new();
    let mut failures = Vec::new();
    for f in &a.files {
        // One file's failure, even an internal one, never stops the others.
        let read = std::panic::catch_unwind(|| Recording::open_with(f, mapping.clone()).and_then(|r| r.summary()));
        match read {
            Ok(Ok(s)) => summaries.push(s),
            Ok(Err(e)) => failures.push(anyhow::Error::new(e)),
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
        serde_json::to_writer_pretty(&mut out, &summaries)?;
        writeln!(out)?;
    } else {
        for s in &summaries {
            write!(out, "{}", burstscope_pipeline::inspect::render_summary(s))?;
        }
    }
    out.flush()?;
    for e in &failures {
        eprintln!("burstscope: error: {}", crate::one_line(e));
    }
    Ok(if failures.is_empty() { Outcome::Success } else { Outcome::Partial })
}
