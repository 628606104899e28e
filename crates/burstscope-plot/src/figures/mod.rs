//! The figures, one module per family. Each is a data struct; drawing is the
//! same for every backend, with sizes in SVG units (1/96 in) multiplied by the
//! scale `s`. The palette, number formats and the chart frame live here once.

pub(crate) use crate::{COLUMN_IN, Figure, PAGE_IN};
use plotters::coord::Shift;
use plotters::coord::combinators::IntoLogRange;
use plotters::coord::ranged1d::AsRangedCoord;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod classes;
mod groups;
mod isi;
mod paired;
mod raster;
mod sorting;
mod stimulus;
mod time_course;
mod traces;

pub use classes::*;
pub use groups::*;
pub use isi::*;
pub use paired::*;
pub use raster::*;
pub use sorting::*;
pub use stimulus::*;
pub use time_course::*;
pub use traces::*;

/// Okabe–Ito colour-blind-safe palette.
const BLUE: RGBColor = RGBColor(0, 114, 178);
const VERMILLION: RGBColor = RGBColor(213, 94, 0);
const GREEN: RGBColor = RGBColor(0, 158, 115);
const GREY: RGBColor = RGBColor(150, 150, 150);
const LIGHT: RGBColor = RGBColor(235, 235, 235);
const DARK: RGBColor = RGBColor(80, 80, 80);
/// Colours of groups (treatment arms, regions) in across-animal figures.
const GROUP_COLOURS: [RGBColor; 4] = [BLUE, VERMILLION, GREEN, RGBColor(0, 0, 0)];
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
    let t = burstscope_stats::format_p(p);
    if t.starts_with('<') { format!("p {t}") } else { format!("p = {t}") }
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

/// The frame every chart shares, in SVG units: an optional caption (text,
/// size in pt), margins (top, right, bottom, left) and the label areas.
struct Frame<'t> {
    caption: Option<(&'t str, f64)>,
    margins: [f64; 4],
    x_area: f64,
    y_area: f64,
}

/// A chart on `area` with axes of types `X` and `Y`.
type Chart<'a, DB, X, Y> =
    ChartContext<'a, DB, Cartesian2d<<X as AsRangedCoord>::CoordDescType, <Y as AsRangedCoord>::CoordDescType>>;

/// A chart on `area` framed by `f`, with axes `x` and `y`.
fn chart<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
    area: &'a DrawingArea<DB, Shift>,
    s: f64,
    f: &Frame<'_>,
    x: X,
    y: Y,
) -> Result<Chart<'a, DB, X, Y>, String> {
    let mut b = ChartBuilder::on(area);
    if let Some((text, pt)) = f.caption {
        b.caption(text, font(s, pt));
    }
    // A zero margin stays zero (`px` never rounds below one pixel).
    let m = |v: f64| if v > 0.0 { px(s, v) } else { 0 };
    let [top, right, bottom, left] = f.margins;
    b.margin_top(m(top))
        .margin_right(m(right))
        .margin_bottom(m(bottom))
        .margin_left(m(left))
        .x_label_area_size(px(s, f.x_area))
        .y_label_area_size(px(s, f.y_area))
        .build_cartesian_2d(x, y)
        .map_err(e2s)
}
