//! Checks of `DIR/dataset/report.html`: self-contained (no scripts, no
//! network), every relative link resolves, and — in headless Chromium, when
//! it is installed (CI installs it) — every figure lays out at a readable
//! size with its text, and nothing overflows the page sideways.

use std::path::{Path, PathBuf};

/// Chromium's binary, when there is one (`BURSTSCOPE_CHROMIUM` or PATH).
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BURSTSCOPE_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The `href` values of a page.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"").skip(1).filter_map(|r| r.split('"').next()).map(str::to_string).collect()
}

fn unescape_href(h: &str) -> String {
    let mut out = Vec::new();
    let b = h.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&h[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The page is self-contained and its links point at files that exist;
/// returns its text.
pub(crate) fn check_static(report: &Path) -> String {
    let html = std::fs::read_to_string(report).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>"), "doctype");
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"), "self-contained");
    let external: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..(i + 40).min(html.len())])
        .filter(|s| !s.starts_with("http://www.w3.org/2000/svg"))
        .collect();
    assert!(external.is_empty(), "no network references: {external:?}");
    let dir = report.parent().unwrap();
    for h in links(&html) {
        let target = dir.join(unescape_href(&h));
        assert!(target.exists(), "link {h} -> {} does not exist", target.display());
    }
    html
}

/// Lays the page out in headless Chromium at two window widths and checks
/// the figures and the width. Skipped (with a note) when Chromium is not
/// installed, except under CI, which installs it.
pub(crate) fn check_in_chromium(report: &Path, n_figures: usize) {
    let Some(chrome) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI installs chromium (.ci/run); it is missing");
        eprintln!("report: chromium not installed; layout not checked");
        return;
    };
    // A copy of the page with a probe that writes the layout into the DOM.
    let probe = "<script>window.addEventListener('load',()=>{\
        const figs=[...document.querySelectorAll('figure svg')].map(s=>{const b=s.getBoundingClientRect();\
        const texts=[...s.querySelectorAll('text')].filter(t=>t.textContent.trim().length>0);\
        const drawn=texts.filter(t=>{const r=t.getBoundingClientRect();return r.width>0&&r.height>0}).length;\
        return {w:b.width,h:b.height,texts:texts.length,drawn:drawn}});\
        const tables=[...document.querySelectorAll('table')].map(t=>t.getBoundingClientRect().height);\
        const p=document.createElement('pre');p.id='layout';\
        p.textContent=JSON.stringify({figs:figs,tables:tables,scroll:document.documentElement.scrollWidth,\
        inner:document.documentElement.clientWidth});document.body.appendChild(p);});</script>";
    let html = std::fs::read_to_string(report).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let probed = scratch.path().join("report-probe.html");
    std::fs::write(&probed, html.replace("</body>", &format!("{probe}</body>"))).unwrap();
    for width in [1280, 800] {
        let profile = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(&chrome)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},1000"))
            .arg("--dump-dom")
            .arg(format!("file://{}", probed.display()))
            .output()
            .expect("chromium runs");
        let dom = String::from_utf8_lossy(&out.stdout);
        let json = dom
            .split("<pre id=\"layout\">")
            .nth(1)
            .and_then(|r| r.split("</pre>").next())
            .unwrap_or_else(|| panic!("no layout from chromium: {}", String::from_utf8_lossy(&out.stderr)));
        let v: serde_json::Value = serde_json::from_str(&json.replace("&quot;", "\"")).unwrap();
        let figs = v["figs"].as_array().unwrap();
        assert_eq!(figs.len(), n_figures, "every figure is in the page");
        for (i, f) in figs.iter().enumerate() {
            let (w, h) = (f["w"].as_f64().unwrap(), f["h"].as_f64().unwrap());
            assert!(w >= 300.0 && h >= 150.0, "figure {i} at {width} px: {w} x {h}");
            assert!(f["texts"].as_u64().unwrap() >= 5, "figure {i} has its labels");
            assert_eq!(f["drawn"], f["texts"], "figure {i} at {width} px: every label is laid out");
        }
        assert!(v["tables"].as_array().unwrap().iter().all(|h| h.as_f64().unwrap() > 20.0), "tables laid out");
        let (scroll, inner) = (v["scroll"].as_f64().unwrap(), v["inner"].as_f64().unwrap());
        assert!(scroll <= inner + 1.0, "at {width} px the page is {scroll} px wide (overflows {inner})");
    }
    // A screenshot renders.
    let profile = tempfile::tempdir().unwrap();
    let shot = scratch.path().join("report-screenshot.png");
    let out = std::process::Command::new(&chrome)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--window-size=1280,4000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.display()))
        .output()
        .expect("chromium runs");
    let png =
        std::fs::read(&shot).unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 50_000, "a screenshot with content ({} bytes)", png.len());
}
