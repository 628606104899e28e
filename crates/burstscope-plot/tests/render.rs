//! Every figure renders to SVG, a 300-dpi PNG and a PDF with the bundled font
//! embedded. Set BURSTSCOPE_FIGURES_DIR to keep the files for inspection.

use burstscope_plot::*;
use std::path::PathBuf;

fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("BURSTSCOPE_FIGURES_DIR") {
        Some(d) => (None, PathBuf::from(d)),
        None => {
            let t = tempfile::tempdir().expect("tempdir");
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

fn check(r: &Rendered, w_in: f64, h_in: f64) {
    let svg = std::fs::read_to_string(&r.svg).expect("svg");
    assert!(svg.contains("<text"), "{}: no text in SVG", r.svg.display());
    let png = std::fs::read(&r.png).expect("png");
    let dec = png::Decoder::new(std::io::Cursor::new(&png));
    let reader = dec.read_info().expect("png header");
    let info = reader.info();
    assert_eq!(info.width, (w_in * 300.0).round() as u32);
    assert_eq!(info.height, (h_in * 300.0).round() as u32);
    let dims = info.pixel_dims.expect("pHYs chunk");
    assert_eq!(dims.xppu, 11811); // 300 dpi
    let pdf = std::fs::read(&r.pdf).expect("pdf");
    assert!(pdf.starts_with(b"%PDF"));
    assert!(pdf.windows(10).any(|w| w == b"DejaVuSans"), "{}: font not embedded", r.pdf.display());
}

fn go<F: Figure>(fig: &F, name: &str) {
    let (_keep, dir) = out_dir();
    let r = render(fig, &dir, name).expect("render");
    let (w, h) = fig.size_in();
    check(&r, w, h);
}

#[test]
fn raster_renders() {
    let rows = (0..6)
        .map(|u| {
            let times: Vec<f64> = (0..200).map(|i| f64::from(i) * 0.1 + 0.013 * f64::from(u)).collect();
            let in_burst = (0..200).map(|i| i % 10 < 3).collect();
            RasterRow { label: format!("unit {u}"), times, in_burst }
        })
        .collect();
    go(&Raster { rows, t0_s: 0.0, t1_s: 20.0, title: "Raster (baseline)".into() }, "raster");
}

#[test]
fn isi_histogram_renders() {
    let isis: Vec<f64> = (1..2000).map(|i| 0.002 * (1.0 + (f64::from(i) * 0.37).sin().abs() * 400.0)).collect();
    go(&IsiHistogram { isis_s: isis, thresholds: vec![(0.02, "lhb 20 ms".into())], title: "ISI".into() }, "isi");
}

#[test]
fn time_course_renders() {
    let x: Vec<f64> = (-10..20).map(|m| f64::from(m) + 0.5).collect();
    let mean: Vec<f64> = x.iter().map(|v| if *v < 0.0 { 8.0 } else { 4.0 }).collect();
    let sem = vec![0.7; x.len()];
    let p = TimeCoursePanel {
        y_label: "Rate (Hz)".into(),
        series: vec![CourseSeries { label: String::new(), mean: mean.clone(), sem: sem.clone() }],
    };
    let lhb: Vec<f64> = mean.iter().map(|v| v * 0.5).collect();
    let q = TimeCoursePanel {
        y_label: "Bursts/min".into(),
        series: vec![
            CourseSeries { label: "LHb".into(), mean: lhb, sem: sem.clone() },
            CourseSeries { label: "CA1".into(), mean, sem },
        ],
    };
    go(
        &TimeCourse { x_min: x, panels: vec![p, q], event: "ketamine".into(), title: "Time course".into() },
        "time_course",
    );
}

#[test]
fn paired_renders() {
    let panel = |l: &str| PairedPanel {
        label: l.into(),
        pre: vec![10.0, 12.0, 8.0, 15.0],
        post: vec![4.0, 6.0, 5.0, 9.0],
        p_value: 0.0123,
        test: "paired t".into(),
    };
    go(
        &PairedPlot {
            panels: vec![panel("Bursts/min"), panel("Spikes in bursts (%)"), panel("Tonic rate (Hz)"), panel("x")],
            conditions: ["baseline".into(), "ketamine".into()],
            title: "Paired".into(),
        },
        "paired",
    );
}

#[test]
fn class_bars_and_groups_and_traces_render() {
    go(
        &ClassBars {
            groups: vec![("baseline".into(), [0.1, 0.3, 0.6]), ("ketamine".into(), [0.2, 0.6, 0.2])],
            title: "Classes".into(),
        },
        "classes",
    );
    go(
        &GroupPoints {
            groups: vec![("LHb".into(), vec![60.0, 55.0, 70.0]), ("CA1".into(), vec![20.0, 25.0, 15.0])],
            y_label: "Block (%)".into(),
            annotation: "p = 0.002 (Welch t)".into(),
            title: "Block".into(),
        },
        "groups",
    );
    let t: Vec<f64> = (0..800).map(|i| f64::from(i) * 0.1).collect();
    let a: Vec<f64> = t.iter().map(|x| if *x > 20.0 { 100.0 * (-(x - 20.0) / 30.0).exp() } else { 0.0 }).collect();
    let b: Vec<f64> = a.iter().map(|v| v * 0.4).collect();
    go(
        &TraceOverlay {
            panels: vec![TraceSet {
                title: "LHb".into(),
                t_ms: t,
                traces: vec![("baseline".into(), a), ("ketamine".into(), b)],
                marks_ms: vec![70.0],
            }],
            y_label: "Current (pA)".into(),
            title: "EPSC".into(),
        },
        "traces",
    );
}

#[test]
fn stimulus_course_renders() {
    let x: Vec<f64> = (1..=40).map(f64::from).collect();
    let lhb: Vec<f64> = x.iter().map(|n| 15.0 + 85.0 * 0.94f64.powf(*n)).collect();
    let ca1: Vec<f64> = x.iter().map(|n| 60.0 + 40.0 * 0.988f64.powf(*n)).collect();
    let series = vec![
        CourseSeries { label: "CA1 (n = 3)".into(), mean: ca1.clone(), sem: vec![3.0; 40] },
        CourseSeries { label: "LHb (n = 3)".into(), mean: lhb, sem: vec![3.0; 40] },
    ];
    go(
        &StimulusCourse {
            stimulus: x,
            series,
            fits: vec![ca1, Vec::new()],
            x_label: "Stimulus number in the drug".into(),
            y_label: "EPSC amplitude (% of baseline)".into(),
            title: "Use-dependent block".into(),
        },
        "stimulus_course",
    );
}

#[test]
fn the_same_figure_gives_the_same_bytes() {
    // Outputs are keyed by content hash: every format must be reproducible.
    let panel = |l: &str| PairedPanel {
        label: l.into(),
        pre: vec![10.0, 12.0, 8.0, 15.0],
        post: vec![4.0, 6.0, 5.0, 9.0],
        p_value: 0.0123,
        test: "Wilcoxon".into(),
    };
    let fig = PairedPlot {
        panels: (0..6).map(|k| panel(&format!("metric {k}"))).collect(),
        conditions: ["baseline".into(), "ketamine".into()],
        title: "Paired".into(),
    };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ra = burstscope_plot::render(&fig, a.path(), "p").unwrap();
    let rb = burstscope_plot::render(&fig, b.path(), "p").unwrap();
    for (x, y) in [(&ra.svg, &rb.svg), (&ra.png, &rb.png), (&ra.pdf, &rb.pdf)] {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap(), "{}", x.display());
    }
}

#[test]
fn a_translucent_scatter_stays_a_small_pdf() {
    // 3 000 spikes on a tetrode: 18 000 translucent points. As one
    // transparency group per point (SVG `opacity`) the PDF was ~650 bytes a
    // point; with fill-opacity it is a plain path each.
    let n = 3000usize;
    let peaks_uv: Vec<f32> = (0..n * 4).map(|q| 20.0 + ((q * 37 % 101) as f32) + (q % 4) as f32 * 10.0).collect();
    let fig = PeakProjections {
        title: "projections".into(),
        channels: (0..4).map(|c| c.to_string()).collect(),
        peaks_uv,
        unit: (0..n).map(|i| (i % 3 > 0).then(|| i % 3 - 1)).collect(),
        units: vec!["unit 0".into(), "unit 1".into()],
    };
    let (_keep, dir) = out_dir();
    let r = render(&fig, &dir, "projections").expect("render");
    let svg = std::fs::read_to_string(&r.svg).unwrap();
    assert!(svg.contains("<circle") && !svg.lines().any(|l| l.starts_with("<circle") && l.contains(" opacity=")));
    assert!(svg.contains("fill-opacity=\"0.35\""), "the grey points keep their alpha");
    let pdf = std::fs::read(&r.pdf).unwrap();
    let groups = pdf.windows(13).filter(|w| w == b"/Transparency").count();
    assert!(groups < 100, "{groups} transparency groups");
    assert!(pdf.len() < 250 * 6 * n, "{} bytes", pdf.len());
    let (w, h) = fig.size_in();
    check(&r, w, h);
}

#[test]
fn animal_paired_and_group_panels_render() {
    let panel = |l: &str| AnimalPanel {
        label: l.into(),
        units: (0..40).map(|u| (10.0 + f64::from(u % 7), 4.0 + f64::from(u % 5))).collect(),
        animals: (0..6).map(|a| (a % 2, 12.0 + f64::from(a as u8), 6.0 + f64::from(a as u8) * 0.5)).collect(),
        annotation: "LMM Δ = −6.1 ± 0.4, p(Holm) = 1e-5; 6 animals, 40 units".into(),
    };
    let fig = AnimalPairedPlot {
        panels: vec![panel("Bursts/min"), panel("Spikes in bursts (%)"), panel("Firing rate (Hz)"), panel("x")],
        conditions: ["baseline".into(), "ketamine".into()],
        groups: vec!["cLH".into(), "control".into()],
        title: "Per animal".into(),
    };
    go(&fig, "animal_paired");
    let svg = to_svg(&fig, "animal_paired").unwrap();
    // The first panel has a legend naming both groups with their animal counts.
    assert!(svg.contains("cLH (n = 3)") && svg.contains("control (n = 3)"), "legend");
    let g = |t: &str| GroupPoints {
        groups: vec![("cLH".into(), vec![6.0, 7.5, 8.0]), ("control".into(), vec![3.0, 2.5, 4.0])],
        y_label: "Bursts/min".into(),
        annotation: "LMM p(Holm) = 0.01".into(),
        title: t.into(),
    };
    go(&GroupPanels { panels: vec![g("a"), g("b"), g("c"), g("d")], title: "Groups".into() }, "group_panels");
}
