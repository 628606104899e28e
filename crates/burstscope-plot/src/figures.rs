//! The figures. Each is a data struct; drawing is the same for every backend,
//! with sizes in SVG units (1/96 in) multiplied by the scale `s`.

use crate::{COLUMN_IN, Figure, PAGE_IN};
use plotters::coord::Shift;
use plotters::coord::combinators::IntoLogRange;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Okabe–Ito colour-blind-safe palette.
const BLUE: RGBColor = RGBColor(0, 114, 178);
const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const GREY: RGBColor = RGBColor(150, 150, 150);
const LIGHT: RGBColor = RGBColor(235, 235, 235);
const DARK: RGBColor = RGBColor(80, 80, 80);
/// Colours for successive series (baseline black, then drug colours).
const SERIES: [RGBColor; 4] = [RGBColor(0, 0, 0), VERMILLION, BLUE, GREEN];

fn font(s: f64, pt: f64) -> TextStyle<'static> {
    // pt → SVG px (1 pt = 4/3 px)
    ("sans-serif", pt * 4.0 / 3.0 * s).into_font().color(&BLACK)
}

fn px(s: f64, v: f64) -> u32 {
    (v * s).round().max(1.0) as u32
}

fn e2s<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Compact number for tick labels: no trailing zeros, no exponent for usual ranges.
fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let s = if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        return format!("{v:.0e}");
    };
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    s.replace('-', "−")
}

/// p-value as papers print it ("p = 0.012", "p = 1.2e-5").
#[must_use]
pub fn fmt_p(p: f64) -> String {
    format!("p = {}", burstscope_stats::format_p(p))
}

fn range_of<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let pad = if hi.abs() > 0.0 { hi.abs() * 0.1 } else { 1.0 };
        return (lo - pad, hi + pad);
    }
    let pad = 0.08 * (hi - lo);
    (lo - pad, hi + pad)
}

/// The legend in the figures' style at `pos`.
fn draw_legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    s: f64,
    pos: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .label_font(font(s, 6.5))
        .position(pos)
        .background_style(WHITE.mix(0.8))
        .border_style(WHITE)
        .draw()
        .map_err(e2s)
}

/// The y range of means ± SEMs (a non-finite SEM counts as 0).
fn mean_sem_range<'a>(pairs: impl Iterator<Item = (&'a f64, &'a f64)>) -> (f64, f64) {
    let lohi: Vec<f64> = pairs
        .flat_map(|(m, e)| {
            let e = if e.is_finite() { *e } else { 0.0 };
            [m - e, m + e]
        })
        .collect();
    range_of(lohi.iter())
}

fn mean_sem(v: &[f64]) -> (f64, f64) {
    let x: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if x.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (m, 0.0);
    }
    let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (m, sd / n.sqrt())
}

// ---------------------------------------------------------------- raster

/// One unit's row in a raster.
#[derive(Debug, Clone)]
pub struct RasterRow {
    /// Unit label.
    pub label: String,
    /// Spike times (s), sorted.
    pub times: Vec<f64>,
    /// Whether each spike is in a burst.
    pub in_burst: Vec<bool>,
}

/// Spike raster with burst spikes coloured.
#[derive(Debug, Clone)]
pub struct Raster {
    /// Rows, top to bottom.
    pub rows: Vec<RasterRow>,
    /// Start of the shown time (s).
    pub t0_s: f64,
    /// End of the shown time (s).
    pub t1_s: f64,
    /// Title.
    pub title: String,
}

impl Figure for Raster {
    fn size_in(&self) -> (f64, f64) {
        (PAGE_IN, (1.0 + 0.16 * self.rows.len() as f64).clamp(1.8, 6.0))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let n = self.rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(s, 9.0))
            .margin_top(px(s, 6.0))
            .margin_right(px(s, 14.0))
            .margin_left(px(s, 6.0))
            .x_label_area_size(px(s, 30.0))
            .y_label_area_size(px(s, 56.0))
            .build_cartesian_2d(self.t0_s..self.t1_s, 0.0..n)
            .map_err(e2s)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("Time (s)")
            .x_labels(8)
            .y_labels(0)
            .x_label_formatter(&|v| fmt_num(*v))
            .label_style(font(s, 7.0))
            .axis_desc_style(font(s, 8.0))
            .draw()
            .map_err(e2s)?;
        for (i, row) in self.rows.iter().enumerate() {
            let y0 = n - i as f64 - 0.85;
            let y1 = n - i as f64 - 0.15;
            let lo = row.times.partition_point(|&t| t < self.t0_s);
            let hi = row.times.partition_point(|&t| t < self.t1_s);
            let tonic = (lo..hi).filter(|&k| !row.in_burst[k]).map(|k| {
                PathElement::new(
                    vec![(row.times[k], y0 + 0.15), (row.times[k], y1 - 0.15)],
                    GREY.stroke_width(px(s, 0.6)),
                )
            });
            chart.draw_series(tonic).map_err(e2s)?;
            let burst = (lo..hi)
                .filter(|&k| row.in_burst[k])
                .map(|k| PathElement::new(vec![(row.times[k], y0), (row.times[k], y1)], BLUE.stroke_width(px(s, 0.9))));
            chart.draw_series(burst).map_err(e2s)?;
            let (x, y) = chart.backend_coord(&(self.t0_s, n - i as f64 - 0.5));
            root.draw(&Text::new(
                row.label.clone(),
                (x - px(s, 4.0) as i32, y),
                font(s, 7.0).pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(e2s)?;
        }
        // legend
        let (x, y) = chart.backend_coord(&(self.t1_s, n));
        let lx = x - px(s, 120.0) as i32;
        let ly = y - px(s, 10.0) as i32;
        for (k, (c, label)) in [(GREY, "single spike"), (BLUE, "burst spike")].iter().enumerate() {
            let xx = lx + k as i32 * px(s, 62.0) as i32;
            root.draw(&PathElement::new(
                vec![(xx, ly - px(s, 4.0) as i32), (xx, ly + px(s, 4.0) as i32)],
                c.stroke_width(px(s, 1.2)),
            ))
            .map_err(e2s)?;
            root.draw(&Text::new(
                *label,
                (xx + px(s, 4.0) as i32, ly),
                font(s, 7.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(e2s)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- ISI histogram

/// Log-binned ISI histogram with the burst threshold.
#[derive(Debug, Clone)]
pub struct IsiHistogram {
    /// ISIs (s).
    pub isis_s: Vec<f64>,
    /// Threshold lines: (value in s, label).
    pub thresholds: Vec<(f64, String)>,
    /// Title.
    pub title: String,
}

impl Figure for IsiHistogram {
    fn size_in(&self) -> (f64, f64) {
        (COLUMN_IN, 2.6)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let pos: Vec<f64> = self.isis_s.iter().copied().filter(|v| *v > 0.0 && v.is_finite()).collect();
        let max = pos.iter().copied().fold(1e-2f64, f64::max);
        let (lo_dec, hi_dec) = (-3i32, max.log10().ceil().max(-1.0) as i32);
        let per = 10;
        let nb = (hi_dec - lo_dec) as usize * per;
        let edge = |k: usize| 10f64.powf(f64::from(lo_dec) + k as f64 / per as f64);
        let mut counts = vec![0usize; nb];
        for &v in &pos {
            let k = ((v.log10() - f64::from(lo_dec)) * per as f64).floor();
            if k >= 0.0 && (k as usize) < nb {
                counts[k as usize] += 1;
            }
        }
        let total = pos.len().max(1) as f64;
        let ymax = counts.iter().map(|&c| c as f64 / total).fold(0.0, f64::max).max(1e-3) * 1.15;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(s, 9.0))
            .margin(px(s, 6.0))
            .margin_right(px(s, 16.0))
            .x_label_area_size(px(s, 30.0))
            .y_label_area_size(px(s, 42.0))
            .build_cartesian_2d((edge(0)..edge(nb)).log_scale(), 0.0..ymax)
            .map_err(e2s)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("Inter-spike interval (s)")
            .y_desc("Fraction of ISIs")
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .y_labels(5)
            .label_style(font(s, 7.0))
            .axis_desc_style(font(s, 8.0))
            .draw()
            .map_err(e2s)?;
        chart
            .draw_series(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(k, &c)| {
                Rectangle::new([(edge(k), 0.0), (edge(k + 1), c as f64 / total)], GREY.mix(0.8).filled())
            }))
            .map_err(e2s)?;
        for (i, (th, label)) in self.thresholds.iter().enumerate() {
            if !(th.is_finite() && *th > edge(0) && *th < edge(nb)) {
                continue;
            }
            let c = SERIES[(i + 1) % SERIES.len()];
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(*th, 0.0), (*th, ymax * 0.92)],
                    px(s, 4.0),
                    px(s, 3.0),
                    c.stroke_width(px(s, 1.2)),
                ))
                .map_err(e2s)?;
            chart
                .plotting_area()
                .draw(&Text::new(
                    label.clone(),
                    (*th, ymax * (1.0 - 0.08 * i as f64)),
                    font(s, 7.0).color(&c).pos(Pos::new(HPos::Left, VPos::Top)),
                ))
                .map_err(e2s)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- time course

/// One line of a time-course panel: mean ± SEM per bin.
#[derive(Debug, Clone)]
pub struct CourseSeries {
    /// Legend label (empty: no legend).
    pub label: String,
    /// Mean per bin.
    pub mean: Vec<f64>,
    /// SEM per bin.
    pub sem: Vec<f64>,
}

/// One panel of a time course: one or more series (e.g. LHb and CA1).
#[derive(Debug, Clone)]
pub struct TimeCoursePanel {
    /// y-axis label with unit.
    pub y_label: String,
    /// Series drawn in order (blue, vermillion, green, black).
    pub series: Vec<CourseSeries>,
}

/// A time course around a drug application (mean ± SEM across units or
/// cells), with the baseline shaded and the drug marked by a bar from 0.
#[derive(Debug, Clone)]
pub struct TimeCourse {
    /// Bin centres relative to the drug (min).
    pub x_min: Vec<f64>,
    /// Stacked panels sharing the x axis.
    pub panels: Vec<TimeCoursePanel>,
    /// Label of the event at 0 (e.g. "ketamine").
    pub event: String,
    /// Title.
    pub title: String,
}

impl Figure for TimeCourse {
    fn size_in(&self) -> (f64, f64) {
        (COLUMN_IN, 0.6 + 1.6 * self.panels.len() as f64)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let root = root.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 9.0)).map_err(e2s)?;
        let areas = root.split_evenly((self.panels.len().max(1), 1));
        let (x0, x1) = range_of(self.x_min.iter());
        for (pi, (panel, area)) in self.panels.iter().zip(areas.iter()).enumerate() {
            let last = pi + 1 == self.panels.len();
            let (mut y0, mut y1) = mean_sem_range(panel.series.iter().flat_map(|se| se.mean.iter().zip(&se.sem)));
            if y0 > 0.0 && y0 < 0.5 * y1 {
                y0 = 0.0;
            }
            y1 += 0.08 * (y1 - y0); // room for the drug bar
            let mut chart = ChartBuilder::on(area)
                .margin(px(s, 4.0))
                .margin_right(px(s, 14.0))
                .x_label_area_size(px(s, if last { 30.0 } else { 14.0 }))
                .y_label_area_size(px(s, 44.0))
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(e2s)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(if last { format!("Time from {} (min)", self.event) } else { String::new() })
                .y_desc(panel.y_label.as_str())
                .x_label_formatter(&|v| if last { fmt_num(*v) } else { String::new() })
                .y_label_formatter(&|v| fmt_num(*v))
                .x_labels(7)
                .y_labels(5)
                .label_style(font(s, 7.0))
                .axis_desc_style(font(s, 8.0))
                .draw()
                .map_err(e2s)?;
            // baseline shading, drug bar
            chart
                .draw_series(std::iter::once(Rectangle::new([(x0, y0), (0.0f64.min(x1), y1)], LIGHT.filled())))
                .map_err(e2s)?;
            let bar = y1 - 0.03 * (y1 - y0);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, bar), (x1, bar)],
                    DARK.stroke_width(px(s, 3.0)),
                )))
                .map_err(e2s)?;
            let colours = [BLUE, VERMILLION, GREEN, BLACK];
            for (k, se) in panel.series.iter().enumerate() {
                let c = colours[k % colours.len()];
                // SEM bands per run of bins with data
                let mut bands: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new()];
                for (x, (m, e)) in self.x_min.iter().zip(se.mean.iter().zip(&se.sem)) {
                    if m.is_finite() && e.is_finite() {
                        if let Some(r) = bands.last_mut() {
                            r.push((*x, m + e, m - e));
                        }
                    } else if bands.last().is_some_and(|r| !r.is_empty()) {
                        bands.push(Vec::new());
                    }
                }
                for run in bands.into_iter().filter(|r| r.len() >= 2) {
                    let mut poly: Vec<(f64, f64)> = run.iter().map(|p| (p.0, p.1)).collect();
                    poly.extend(run.iter().rev().map(|p| (p.0, p.2)));
                    chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.2).filled()))).map_err(e2s)?;
                }
                // one line per run of bins with data, so gaps (e.g. a wash-in without stimulation) stay gaps
                let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
                for (x, m) in self.x_min.iter().zip(&se.mean) {
                    if m.is_finite() {
                        if let Some(r) = runs.last_mut() {
                            r.push((*x, *m));
                        }
                    } else if runs.last().is_some_and(|r| !r.is_empty()) {
                        runs.push(Vec::new());
                    }
                }
                for (ri, run) in runs.into_iter().filter(|r| !r.is_empty()).enumerate() {
                    let line = chart.draw_series(LineSeries::new(run, c.stroke_width(px(s, 1.3)))).map_err(e2s)?;
                    if ri == 0 && !se.label.is_empty() {
                        line.label(se.label.clone())
                            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(2)));
                    }
                }
            }
            if panel.series.iter().any(|se| !se.label.is_empty()) {
                draw_legend(&mut chart, s, SeriesLabelPosition::LowerLeft)?;
            }
            if pi == 0 {
                chart
                    .plotting_area()
                    .draw(&Text::new(
                        self.event.clone(),
                        (0.0, bar - 0.02 * (y1 - y0)),
                        font(s, 7.0).color(&DARK).pos(Pos::new(HPos::Left, VPos::Top)),
                    ))
                    .map_err(e2s)?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- paired plots

/// One metric before vs after, with each unit's pair joined.
#[derive(Debug, Clone)]
pub struct PairedPanel {
    /// Metric label with unit.
    pub label: String,
    /// Values before (one per unit).
    pub pre: Vec<f64>,
    /// Values after (same units, same order).
    pub post: Vec<f64>,
    /// p-value of the paired test.
    pub p_value: f64,
    /// Test name for the annotation.
    pub test: String,
}

/// Paired before/after plots, one panel per metric.
#[derive(Debug, Clone)]
pub struct PairedPlot {
    /// Panels.
    pub panels: Vec<PairedPanel>,
    /// Names of the two conditions.
    pub conditions: [String; 2],
    /// Title.
    pub title: String,
}

impl PairedPlot {
    fn cols(&self) -> usize {
        self.panels.len().clamp(1, 3)
    }
}

impl Figure for PairedPlot {
    fn size_in(&self) -> (f64, f64) {
        let rows = self.panels.len().div_ceil(self.cols()).max(1);
        (PAGE_IN, 0.4 + 2.1 * rows as f64)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let full = root;
        let root = full.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 9.0)).map_err(e2s)?;
        let cols = self.cols();
        let rows = self.panels.len().div_ceil(cols).max(1);
        let areas = root.split_evenly((rows, cols));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            let pairs: Vec<(f64, f64)> = panel
                .pre
                .iter()
                .zip(&panel.post)
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|(a, b)| (*a, *b))
                .collect();
            let (mut y0, mut y1) = range_of(pairs.iter().flat_map(|(a, b)| [a, b]));
            if y0 > 0.0 && y0 < 0.5 * y1 {
                y0 = 0.0;
            }
            y1 += 0.12 * (y1 - y0); // room for the p-value
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.label, font(s, 8.0))
                .margin(px(s, 6.0))
                .margin_right(px(s, 10.0))
                .x_label_area_size(px(s, 18.0))
                .y_label_area_size(px(s, 40.0))
                .build_cartesian_2d(-0.5f64..1.5f64, y0..y1)
                .map_err(e2s)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(0)
                .y_labels(5)
                .y_label_formatter(&|v| fmt_num(*v))
                .label_style(font(s, 7.0))
                .draw()
                .map_err(e2s)?;
            for (k, name) in self.conditions.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(k as f64, y0));
                full.draw(&Text::new(
                    name.clone(),
                    (x, y + px(s, 4.0) as i32),
                    font(s, 7.0).pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(e2s)?;
            }
            chart
                .draw_series(
                    pairs.iter().map(|(a, b)| {
                        PathElement::new(vec![(0.0, *a), (1.0, *b)], GREY.mix(0.7).stroke_width(px(s, 0.7)))
                    }),
                )
                .map_err(e2s)?;
            chart
                .draw_series(
                    pairs
                        .iter()
                        .flat_map(|(a, b)| [(0.0, *a), (1.0, *b)])
                        .map(|p| Circle::new(p, px(s, 1.6), GREY.filled())),
                )
                .map_err(e2s)?;
            let pre: Vec<f64> = pairs.iter().map(|p| p.0).collect();
            let post: Vec<f64> = pairs.iter().map(|p| p.1).collect();
            for (k, v, c) in [(0.0, &pre, SERIES[0]), (1.0, &post, VERMILLION)] {
                let (m, e) = mean_sem(v);
                if m.is_finite() {
                    chart
                        .draw_series(std::iter::once(ErrorBar::new_vertical(
                            k,
                            m - e,
                            m,
                            m + e,
                            c.stroke_width(px(s, 1.4)),
                            px(s, 6.0),
                        )))
                        .map_err(e2s)?;
                    chart.draw_series(std::iter::once(Circle::new((k, m), px(s, 2.6), c.filled()))).map_err(e2s)?;
                }
            }
            chart
                .plotting_area()
                .draw(&Text::new(
                    format!("{} ({}, n = {})", fmt_p(panel.p_value), panel.test, pairs.len()),
                    (0.5, y1),
                    font(s, 6.5).pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(e2s)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- class bars

/// Stacked bars of silent / tonic / bursting fractions per group.
#[derive(Debug, Clone)]
pub struct ClassBars {
    /// (group, [silent, tonic, bursting] fractions summing to 1).
    pub groups: Vec<(String, [f64; 3])>,
    /// Title.
    pub title: String,
}

impl Figure for ClassBars {
    fn size_in(&self) -> (f64, f64) {
        (COLUMN_IN, 2.6)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let n = self.groups.len().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(s, 9.0))
            .margin(px(s, 6.0))
            .margin_right(px(s, 78.0))
            .x_label_area_size(px(s, 20.0))
            .y_label_area_size(px(s, 40.0))
            .build_cartesian_2d(-0.5f64..(n - 0.5), 0.0f64..100.0)
            .map_err(e2s)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|v| fmt_num(*v))
            .y_desc("Units (%)")
            .label_style(font(s, 7.0))
            .axis_desc_style(font(s, 8.0))
            .draw()
            .map_err(e2s)?;
        let colours = [GREY, GREEN, BLUE];
        for (i, (name, f)) in self.groups.iter().enumerate() {
            let x = i as f64;
            let mut base = 0.0;
            for (k, v) in f.iter().enumerate() {
                if !(*v > 0.0) {
                    continue;
                }
                let top = base + 100.0 * v;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.32, base), (x + 0.32, top)],
                        colours[k].filled(),
                    )))
                    .map_err(e2s)?;
                base = top;
            }
            let (px_, py) = chart.backend_coord(&(x, 0.0));
            root.draw(&Text::new(
                name.clone(),
                (px_, py + px(s, 4.0) as i32),
                font(s, 7.0).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(e2s)?;
        }
        let (lx, ly) = chart.backend_coord(&(n - 0.5, 100.0));
        for (k, label) in ["bursting", "tonic", "silent"].iter().enumerate() {
            let c = colours[2 - k];
            let y = ly + (k as f64 * 14.0 * s) as i32;
            let x = lx + px(s, 8.0) as i32;
            root.draw(&Rectangle::new([(x, y), (x + px(s, 8.0) as i32, y + px(s, 8.0) as i32)], c.filled()))
                .map_err(e2s)?;
            root.draw(&Text::new(
                *label,
                (x + px(s, 12.0) as i32, y + px(s, 4.0) as i32),
                font(s, 7.0).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(e2s)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- group points

/// Values per group as points with mean ± SEM and the between-group p-value
/// (e.g. % block per region).
#[derive(Debug, Clone)]
pub struct GroupPoints {
    /// (group, values).
    pub groups: Vec<(String, Vec<f64>)>,
    /// y-axis label with unit.
    pub y_label: String,
    /// Annotation, e.g. "p = 0.002 (Welch t)".
    pub annotation: String,
    /// Title.
    pub title: String,
}

impl Figure for GroupPoints {
    fn size_in(&self) -> (f64, f64) {
        (COLUMN_IN * 0.75, 2.6)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let n = self.groups.len().max(1) as f64;
        let (mut y0, mut y1) = range_of(self.groups.iter().flat_map(|g| g.1.iter()));
        if y0 > 0.0 {
            y0 = 0.0;
        }
        y1 += 0.12 * (y1 - y0);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(s, 9.0))
            .margin(px(s, 6.0))
            .margin_right(px(s, 10.0))
            .x_label_area_size(px(s, 20.0))
            .y_label_area_size(px(s, 44.0))
            .build_cartesian_2d(-0.6f64..(n - 0.4), y0..y1)
            .map_err(e2s)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_desc(self.y_label.as_str())
            .y_label_formatter(&|v| fmt_num(*v))
            .label_style(font(s, 7.0))
            .axis_desc_style(font(s, 8.0))
            .draw()
            .map_err(e2s)?;
        for (i, (name, v)) in self.groups.iter().enumerate() {
            let x = i as f64;
            let c = SERIES[(i + 1) % SERIES.len()];
            let nv = v.len().max(1) as f64;
            chart
                .draw_series(v.iter().enumerate().filter(|(_, y)| y.is_finite()).map(|(k, y)| {
                    // deterministic spread
                    let dx = 0.18 * ((k as f64 + 0.5) / nv - 0.5);
                    Circle::new((x + dx, *y), px(s, 2.2), c.mix(0.7).filled())
                }))
                .map_err(e2s)?;
            let (m, e) = mean_sem(v);
            if m.is_finite() {
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        x + 0.25,
                        m - e,
                        m,
                        m + e,
                        BLACK.stroke_width(px(s, 1.3)),
                        px(s, 6.0),
                    )))
                    .map_err(e2s)?;
                chart
                    .draw_series(std::iter::once(Circle::new((x + 0.25, m), px(s, 2.6), BLACK.filled())))
                    .map_err(e2s)?;
            }
            let (px_, py) = chart.backend_coord(&(x, y0));
            root.draw(&Text::new(
                format!("{name} (n = {})", v.iter().filter(|y| y.is_finite()).count()),
                (px_, py + px(s, 4.0) as i32),
                font(s, 7.0).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(e2s)?;
        }
        chart
            .plotting_area()
            .draw(&Text::new(
                self.annotation.clone(),
                ((n - 1.0) / 2.0, y1),
                font(s, 7.0).pos(Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(e2s)?;
        Ok(())
    }
}

// ---------------------------------------------------------------- stimulus course

/// Normalised amplitude against stimulus number in the drug (use-dependent
/// block), groups overlaid: points with SEM bars and the fitted curve.
#[derive(Debug, Clone)]
pub struct StimulusCourse {
    /// Stimulus numbers (1, 2, …).
    pub stimulus: Vec<f64>,
    /// Groups (mean ± SEM per stimulus number), drawn in order (vermillion,
    /// blue, green, black).
    pub series: Vec<CourseSeries>,
    /// Per group, a fitted curve at the same stimulus numbers (empty for none).
    pub fits: Vec<Vec<f64>>,
    /// y-axis label with unit.
    pub y_label: String,
    /// Title.
    pub title: String,
}

impl Figure for StimulusCourse {
    fn size_in(&self) -> (f64, f64) {
        (COLUMN_IN, 2.4)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let (x0, x1) = range_of(self.stimulus.iter());
        let (mut y0, y1) = mean_sem_range(self.series.iter().flat_map(|se| se.mean.iter().zip(&se.sem)));
        if y0 > 0.0 {
            y0 = 0.0;
        }
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, font(s, 9.0))
            .margin(px(s, 6.0))
            .margin_right(px(s, 12.0))
            .x_label_area_size(px(s, 30.0))
            .y_label_area_size(px(s, 44.0))
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e2s)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("Stimulus number in the drug")
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .x_labels(8)
            .y_labels(6)
            .label_style(font(s, 7.0))
            .axis_desc_style(font(s, 8.0))
            .draw()
            .map_err(e2s)?;
        let colours = [VERMILLION, BLUE, GREEN, BLACK];
        for (k, se) in self.series.iter().enumerate() {
            let c = colours[k % colours.len()];
            let pts: Vec<(f64, f64, f64)> = self
                .stimulus
                .iter()
                .zip(se.mean.iter().zip(&se.sem))
                .filter(|(_, (m, _))| m.is_finite())
                .map(|(x, (m, e))| (*x, *m, if e.is_finite() { *e } else { 0.0 }))
                .collect();
            chart
                .draw_series(pts.iter().map(|&(x, m, e)| {
                    ErrorBar::new_vertical(x, m - e, m, m + e, c.mix(0.6).stroke_width(px(s, 0.8)), px(s, 2.0))
                }))
                .map_err(e2s)?;
            let dots = chart
                .draw_series(pts.iter().map(|&(x, m, _)| Circle::new((x, m), px(s, 1.8), c.filled())))
                .map_err(e2s)?;
            if !se.label.is_empty() {
                dots.label(se.label.clone()).legend(move |(x, y)| Circle::new((x + 6, y), 3, c.filled()));
            }
            let fit: Vec<(f64, f64)> = self
                .stimulus
                .iter()
                .zip(self.fits.get(k).map_or(&[][..], Vec::as_slice))
                .filter(|(_, y)| y.is_finite())
                .map(|(x, y)| (*x, *y))
                .collect();
            if fit.len() >= 2 {
                chart.draw_series(LineSeries::new(fit, c.stroke_width(px(s, 1.3)))).map_err(e2s)?;
            }
        }
        if self.series.iter().any(|se| !se.label.is_empty()) {
            draw_legend(&mut chart, s, SeriesLabelPosition::LowerLeft)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- trace overlays

/// Traces sharing a time axis, overlaid (e.g. averaged EPSCs baseline vs drug).
#[derive(Debug, Clone)]
pub struct TraceSet {
    /// Panel title.
    pub title: String,
    /// Time of each sample (ms).
    pub t_ms: Vec<f64>,
    /// (label, values) — the first is drawn black, the next in colour.
    pub traces: Vec<(String, Vec<f64>)>,
    /// Vertical marks (ms), e.g. the +50 ms measurement point.
    pub marks_ms: Vec<f64>,
}

/// Panels of overlaid traces.
#[derive(Debug, Clone)]
pub struct TraceOverlay {
    /// Panels (laid out in up to 3 columns).
    pub panels: Vec<TraceSet>,
    /// y-axis label with unit.
    pub y_label: String,
    /// Title.
    pub title: String,
}

impl Figure for TraceOverlay {
    fn size_in(&self) -> (f64, f64) {
        let cols = self.panels.len().clamp(1, 3);
        let rows = self.panels.len().div_ceil(cols).max(1);
        (if cols == 1 { COLUMN_IN } else { PAGE_IN }, 0.4 + 2.0 * rows as f64)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let root = root.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 9.0)).map_err(e2s)?;
        let cols = self.panels.len().clamp(1, 3);
        let rows = self.panels.len().div_ceil(cols).max(1);
        let areas = root.split_evenly((rows, cols));
        for (p, area) in self.panels.iter().zip(areas.iter()) {
            let (x0, x1) = range_of(p.t_ms.iter());
            let (y0, y1) = range_of(p.traces.iter().flat_map(|t| t.1.iter()));
            let mut chart = ChartBuilder::on(area)
                .caption(&p.title, font(s, 8.0))
                .margin(px(s, 5.0))
                .margin_right(px(s, 12.0))
                .x_label_area_size(px(s, 28.0))
                .y_label_area_size(px(s, 44.0))
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(e2s)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("Time (ms)")
                .y_desc(self.y_label.as_str())
                .x_labels(5)
                .y_labels(5)
                .x_label_formatter(&|v| fmt_num(*v))
                .y_label_formatter(&|v| fmt_num(*v))
                .label_style(font(s, 7.0))
                .axis_desc_style(font(s, 8.0))
                .draw()
                .map_err(e2s)?;
            for m in &p.marks_ms {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(*m, y0), (*m, y1)],
                        px(s, 3.0),
                        px(s, 3.0),
                        GREY.stroke_width(px(s, 0.8)),
                    ))
                    .map_err(e2s)?;
            }
            for (k, (label, v)) in p.traces.iter().enumerate() {
                let c = SERIES[k % SERIES.len()];
                chart
                    .draw_series(LineSeries::new(
                        p.t_ms.iter().zip(v).filter(|(_, y)| y.is_finite()).map(|(x, y)| (*x, *y)),
                        c.stroke_width(px(s, 1.0)),
                    ))
                    .map_err(e2s)?
                    .label(label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(2)));
            }
            draw_legend(&mut chart, s, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(fmt_num(0.001), "1e-3");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(10.0), "10");
        assert_eq!(fmt_num(-2.5), "−2.5");
        assert_eq!(fmt_p(0.0123), "p = 0.012");
        assert_eq!(fmt_p(1.2e-5), "p = 1.2e-5");
    }
}
