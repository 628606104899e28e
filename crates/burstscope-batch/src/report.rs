//! `dataset/report.html`: one self-contained page (figures inline as SVG,
//! no scripts, no network) with the dataset at a glance, what failed, the
//! statistics with animals as the unit, the figures and every session's
//! outputs.

use crate::Manifest;
use crate::figures::DatasetFigure;
use burstscope_core::{ColumnData, Table};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// A session stage that did not complete, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotDone {
    /// Index of the session in the manifest.
    pub session: usize,
    /// Stage name.
    pub stage: String,
    /// Why (the failure, or "not run").
    pub reason: String,
}

/// Escapes text for HTML.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A relative link's path, percent-encoding what a URL cannot hold.
fn href(path: &str) -> String {
    let mut o = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(char::from(b));
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

const STYLE: &str = "
body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;padding:1em 1.5em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ccc}
h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0;max-width:100%}
th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.sig td{font-weight:bold}
.glance{display:flex;flex-wrap:wrap;gap:.8em;margin:.8em 0}
.glance div{border:1px solid #ddd;border-radius:4px;padding:.4em .9em;min-width:7em}
.glance b{display:block;font-size:1.5em}
.fail{color:#b00020}.ok{color:#0a7d32}
figure{margin:1em 0}figure svg{width:100%;height:auto;display:block}
figcaption{font-size:.85em;color:#555;max-width:60em}
.scroll{overflow-x:auto;max-width:100%}
footer{margin-top:2em;font-size:.8em;color:#777}
";

/// Numbers of a table column as f64 (NaN for a row without one).
fn num(t: &Table, c: &str, i: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    match t.column(c) {
        Some(ColumnData::F64(v)) => v[i],
        Some(ColumnData::I64(v)) => v[i] as f64,
        _ => f64::NAN,
    }
}

fn text<'a>(t: &'a Table, c: &str, i: usize) -> &'a str {
    match t.column(c) {
        Some(ColumnData::Str(v)) => &v[i],
        _ => "",
    }
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) { format!("{v:.3e}") } else { format!("{v:.4}") }
}

fn count(t: &Table, c: &str, i: usize) -> String {
    match t.column(c) {
        Some(ColumnData::I64(v)) => v[i].to_string(),
        _ => fmt(num(t, c, i)),
    }
}

fn fmt_p(p: f64) -> String {
    if p.is_finite() { burstscope_stats::format_p(p) } else { String::new() }
}

/// What the report shows besides the figures.
pub(crate) struct ReportInput<'a> {
    pub manifest: &'a Manifest,
    /// The batch folder (for the sessions' links).
    pub out: &'a Path,
    /// Session stages merged.
    pub done: &'a [(usize, &'a str)],
    pub not_done: &'a [NotDone],
    pub unit_metrics: Option<&'a Table>,
    pub cells: Option<&'a Table>,
    pub stats: Option<&'a Table>,
    pub figures: &'a [DatasetFigure],
    /// Rows per merged table.
    pub rows: &'a std::collections::BTreeMap<String, usize>,
}

/// The page.
pub(crate) fn report_html(r: &ReportInput<'_>) -> String {
    let m = r.manifest;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>burstscope dataset: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&m.file.display().to_string())
    );
    let _ =
        writeln!(h, "<h1>Dataset report</h1>\n<p>Manifest <code>{}</code></p>", escape(&m.file.display().to_string()));
    glance(&mut h, r);
    failures(&mut h, r);
    stats(&mut h, r);
    if !r.figures.is_empty() {
        let _ = writeln!(h, "<h2 id=\"figures\">Figures</h2>");
        for f in r.figures {
            let svg = f.svg.trim_start();
            let svg = svg.strip_prefix("<?xml").map_or(svg, |rest| rest.split_once("?>").map_or(rest, |x| x.1)).trim();
            // Shown up to 1.5 times its print size (96 px per inch), never wider than the page.
            let width: f64 = svg
                .strip_prefix("<svg width=\"")
                .and_then(|r| r.split('"').next())
                .and_then(|w| w.parse().ok())
                .unwrap_or(700.0);
            let svg = svg.replacen("<svg ", &format!("<svg style=\"max-width:{:.0}px\" ", 1.5 * width), 1);
            let _ = writeln!(
                h,
                "<figure id=\"fig-{0}\">\n{1}\n<figcaption>{2} Files: <a href=\"figures/{0}.svg\">SVG</a>, \
                 <a href=\"figures/{0}.png\">PNG (300 dpi)</a>, <a href=\"figures/{0}.pdf\">PDF</a>.</figcaption>\n</figure>",
                escape(&f.name),
                svg,
                escape(&f.caption)
            );
        }
    }
    sessions(&mut h, r);
    let _ = writeln!(
        h,
        "<footer>Written by burstscope {} (dataset stage version {}). The merged tables are in this folder as \
         Parquet; <code>dataset.json</code> records the sessions and stage keys they came from.</footer>\n</body>\n</html>",
        escape(burstscope_core::program_version()),
        crate::dataset::DATASET_ALGORITHM_VERSION
    );
    h
}

fn glance(h: &mut String, r: &ReportInput<'_>) {
    let m = r.manifest;
    let animals: BTreeSet<&str> = m.sessions.iter().map(|s| s.subject.as_str()).collect();
    let done_sessions: BTreeSet<usize> = r.done.iter().map(|d| d.0).collect();
    let failed_sessions: BTreeSet<usize> = r.not_done.iter().map(|d| d.session).collect();
    let complete = (0..m.sessions.len()).filter(|i| done_sessions.contains(i) && !failed_sessions.contains(i)).count();
    let units = r.unit_metrics.map_or(0, |t| {
        (0..t.n_rows()).map(|i| (text(t, "session", i), text(t, "unit", i))).collect::<BTreeSet<_>>().len()
    });
    let cells = r.cells.map_or(0, Table::n_rows);
    let groups: BTreeSet<&str> = m.sessions.iter().map(|s| s.group.as_str()).filter(|g| !g.is_empty()).collect();
    let regions: BTreeSet<&str> = m.sessions.iter().map(|s| s.region.as_str()).filter(|g| !g.is_empty()).collect();
    let _ = writeln!(h, "<h2 id=\"glance\">At a glance</h2>\n<div class=\"glance\">");
    for (n, what) in [
        (m.sessions.len(), "sessions"),
        (complete, "complete"),
        (failed_sessions.len(), "with a failure"),
        (animals.len(), "animals"),
        (units, "units"),
        (cells, "slice cells"),
    ] {
        let cls = if what == "with a failure" && n > 0 { " class=\"fail\"" } else { "" };
        let _ = writeln!(h, "<div{cls}><b>{n}</b>{what}</div>");
    }
    let _ = writeln!(h, "</div>");
    let join = |s: &BTreeSet<&str>| s.iter().map(|x| escape(x)).collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        h,
        "<p>Groups: {}. Regions: {}. Merged tables: {}.</p>",
        if groups.is_empty() { "none".into() } else { join(&groups) },
        if regions.is_empty() { "none".into() } else { join(&regions) },
        r.rows
            .iter()
            .map(|(t, n)| format!("<a href=\"{}.parquet\"><code>{}</code></a> ({n} rows)", href(t), escape(t)))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn failures(h: &mut String, r: &ReportInput<'_>) {
    let _ = writeln!(h, "<h2 id=\"failures\">What did not complete</h2>");
    if r.not_done.is_empty() {
        let _ = writeln!(h, "<p class=\"ok\">Every session stage completed.</p>");
        return;
    }
    let _ = writeln!(
        h,
        "<div class=\"scroll\"><table>\n<tr><th>session</th><th>line</th><th>stage</th><th>reason</th></tr>"
    );
    for d in r.not_done {
        let s = &r.manifest.sessions[d.session];
        let _ = writeln!(
            h,
            "<tr class=\"fail\"><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.session),
            s.line,
            escape(&d.stage),
            escape(&d.reason)
        );
    }
    let _ = writeln!(h, "</table></div>");
}

fn stats(h: &mut String, r: &ReportInput<'_>) {
    let _ = writeln!(h, "<h2 id=\"statistics\">Statistics (animals as the unit)</h2>");
    let Some(t) = r.stats.filter(|t| t.n_rows() > 0) else {
        let _ = writeln!(h, "<p>No statistics: too few animals or sessions with both windows.</p>");
        return;
    };
    let _ = writeln!(
        h,
        "<p><code>lmm</code>: linear mixed model (REML) with a random intercept per animal (and per session within \
         animal when an animal has several); for <code>pre_post</code> it models each unit's change (second − first), \
         otherwise the value with the second level as fixed effect. The other tests compare per-animal means. \
         p(Holm) is adjusted across metrics within each comparison and test. Bold rows: p(Holm) &lt; 0.05. \
         All rows: <a href=\"stats.parquet\"><code>stats.parquet</code></a>.</p>"
    );
    let comparisons: Vec<&str> = {
        let mut seen = Vec::new();
        for i in 0..t.n_rows() {
            let c = text(t, "comparison", i);
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        seen
    };
    for c in comparisons {
        let rows: Vec<usize> = (0..t.n_rows()).filter(|&i| text(t, "comparison", i) == c).collect();
        let (first, second) = (text(t, "first", rows[0]), text(t, "second", rows[0]));
        let title = match c {
            "pre_post" => format!("Before vs after ({} → {})", escape(first), escape(second)),
            "group_baseline" => format!("Baseline between groups ({} vs {})", escape(first), escape(second)),
            "region_cells" => format!("Slice cells between regions ({} vs {})", escape(first), escape(second)),
            other => escape(other),
        };
        let _ = writeln!(
            h,
            "<h3>{title}</h3>\n<div class=\"scroll\"><table>\n<tr><th>metric</th><th>test</th><th>estimate</th><th>SE</th>\
             <th>statistic</th><th>p</th><th>p(Holm)</th><th>units/cells</th><th>sessions</th><th>animals</th></tr>"
        );
        for i in rows {
            let ph = num(t, "p_holm", i);
            let cls = if ph < 0.05 { " class=\"sig\"" } else { "" };
            let _ = writeln!(
                h,
                "<tr{cls}><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(text(t, "metric", i)),
                escape(text(t, "test", i)),
                fmt(num(t, "estimate", i)),
                fmt(num(t, "se", i)),
                fmt(num(t, "statistic", i)),
                fmt_p(num(t, "p_value", i)),
                fmt_p(ph),
                count(t, "n_units", i),
                count(t, "n_sessions", i),
                count(t, "n_animals", i),
            );
        }
        let _ = writeln!(h, "</table></div>");
    }
}

fn sessions(h: &mut String, r: &ReportInput<'_>) {
    let m = r.manifest;
    let _ = writeln!(
        h,
        "<h2 id=\"sessions\">Sessions</h2>\n<div class=\"scroll\"><table>\n<tr><th>session</th><th>kind</th><th>subject</th>\
         <th>group</th><th>region</th><th>drug</th><th>stages</th></tr>"
    );
    for (i, s) in m.sessions.iter().enumerate() {
        let mut cells = Vec::new();
        for st in s.kind.stages() {
            let rel = format!("sessions/{}/{st}", s.session);
            let link = format!("../{}", href(&rel));
            let failed = r.not_done.iter().find(|d| d.session == i && d.stage == *st);
            let done = r.done.contains(&(i, *st));
            let mut cell = match (done, failed) {
                (true, _) => format!("<a class=\"ok\" href=\"{link}/\">{st}</a>"),
                (false, Some(d)) => format!(
                    "<span class=\"fail\" title=\"{}\">{st} ✗</span> <a href=\"../{}\">log</a>",
                    escape(&d.reason),
                    href(&format!("sessions/{}/{st}.log", s.session))
                ),
                (false, None) => format!("{st} (not run)"),
            };
            if done {
                let record = format!("{st}.json");
                if r.out.join(&rel).join(&record).exists() {
                    let _ = write!(cell, " (<a href=\"{link}/{}\">record</a>", href(&record));
                    if r.out.join(&rel).join("figures").is_dir() {
                        let _ = write!(cell, ", <a href=\"{link}/figures/\">figures</a>");
                    }
                    cell.push(')');
                }
            }
            cells.push(cell);
        }
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.session),
            s.kind.as_str(),
            escape(&s.subject),
            escape(&s.group),
            escape(&s.region),
            escape(&s.drug),
            cells.join(" → ")
        );
    }
    let _ = writeln!(h, "</table></div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_links_are_escaped() {
        assert_eq!(escape("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
        assert_eq!(href("sessions/rat 1#a/bursts"), "sessions/rat%201%23a/bursts");
    }
}
