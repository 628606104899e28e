//! Figures: paired plots.

use super::*;

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
            let mut chart = chart(
                area,
                s,
                &Frame {
                    caption: Some((&panel.label, 8.0)),
                    margins: [6.0, 10.0, 6.0, 6.0],
                    x_area: 18.0,
                    y_area: 40.0,
                },
                -0.5f64..1.5f64,
                y0..y1,
            )?;
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

/// One metric before vs after across animals: each unit's pair faint, each
/// animal's mean pair bold in its group's colour.
#[derive(Debug, Clone)]
pub struct AnimalPanel {
    /// Metric label with unit.
    pub label: String,
    /// (before, after) per unit.
    pub units: Vec<(f64, f64)>,
    /// (group index into [`AnimalPairedPlot::groups`], before, after) per animal: its units' means.
    pub animals: Vec<(usize, f64, f64)>,
    /// Annotation, e.g. the mixed model's estimate and p-value.
    pub annotation: String,
}

/// Paired before/after plots with animals as the unit, one panel per metric.
#[derive(Debug, Clone)]
pub struct AnimalPairedPlot {
    /// Panels.
    pub panels: Vec<AnimalPanel>,
    /// Names of the two conditions.
    pub conditions: [String; 2],
    /// Group names (legend), indexed by [`AnimalPanel::animals`].
    pub groups: Vec<String>,
    /// Title.
    pub title: String,
}

/// The units' lines: opaque light grey, not a translucent one (PDF would
/// wrap every translucent line in a transparency group of its own).
const FAINT: RGBColor = RGBColor(212, 212, 212);

impl Figure for AnimalPairedPlot {
    fn size_in(&self) -> (f64, f64) {
        let cols = self.panels.len().clamp(1, 3);
        let rows = self.panels.len().div_ceil(cols).max(1);
        (PAGE_IN, 0.4 + 2.2 * rows as f64)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let full = root;
        let root = full.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 9.0)).map_err(e2s)?;
        let cols = self.panels.len().clamp(1, 3);
        let rows = self.panels.len().div_ceil(cols).max(1);
        let areas = root.split_evenly((rows, cols));
        for (pi, (panel, area)) in self.panels.iter().zip(areas.iter()).enumerate() {
            let finite = |a: &f64, b: &f64| a.is_finite() && b.is_finite();
            let units: Vec<(f64, f64)> = panel.units.iter().copied().filter(|(a, b)| finite(a, b)).collect();
            let animals: Vec<(usize, f64, f64)> =
                panel.animals.iter().copied().filter(|(_, a, b)| finite(a, b)).collect();
            let (mut y0, mut y1) = range_of(units.iter().flat_map(|(a, b)| [a, b]));
            if y0 > 0.0 && y0 < 0.5 * y1 {
                y0 = 0.0;
            }
            y1 += 0.2 * (y1 - y0); // room for the annotation
            let mut chart = chart(
                area,
                s,
                &Frame {
                    caption: Some((&panel.label, 8.0)),
                    margins: [6.0, 10.0, 6.0, 6.0],
                    x_area: 18.0,
                    y_area: 40.0,
                },
                -0.4f64..1.4f64,
                y0..y1,
            )?;
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
                    units
                        .iter()
                        .map(|(a, b)| PathElement::new(vec![(0.0, *a), (1.0, *b)], FAINT.stroke_width(px(s, 0.5)))),
                )
                .map_err(e2s)?;
            for (g, name) in self.groups.iter().enumerate() {
                let c = GROUP_COLOURS[g % GROUP_COLOURS.len()];
                let mine: Vec<(f64, f64)> = animals.iter().filter(|x| x.0 == g).map(|&(_, a, b)| (a, b)).collect();
                if mine.is_empty() {
                    continue;
                }
                let lines = chart
                    .draw_series(
                        mine.iter()
                            .map(|(a, b)| PathElement::new(vec![(0.0, *a), (1.0, *b)], c.stroke_width(px(s, 1.6)))),
                    )
                    .map_err(e2s)?;
                if pi == 0 && self.groups.len() > 1 {
                    lines
                        .label(format!("{name} (n = {})", mine.len()))
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(2)));
                }
                chart
                    .draw_series(
                        mine.iter()
                            .flat_map(|(a, b)| [(0.0, *a), (1.0, *b)])
                            .map(|p| Circle::new(p, px(s, 2.2), c.filled())),
                    )
                    .map_err(e2s)?;
            }
            if pi == 0 && self.groups.len() > 1 {
                draw_legend(&mut chart, s, SeriesLabelPosition::LowerRight)?;
            }
            // one text per line of the annotation, from the top of the panel
            let (ax, ay) = chart.backend_coord(&(0.5, y1));
            let (bx, by) = area.get_base_pixel();
            for (k, line) in panel.annotation.lines().enumerate() {
                area.draw(&Text::new(
                    line.to_string(),
                    (ax - bx, ay - by + (k as f64 * 9.0 * s).round() as i32),
                    font(s, 6.0).pos(Pos::new(HPos::Center, VPos::Top)),
                ))
                .map_err(e2s)?;
            }
        }
        Ok(())
    }
}
