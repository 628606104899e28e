//! Figures: time course.

use super::*;

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
/// cells), with the baseline shaded and the drug marked by a bar from 0; with
/// an empty `event`, a plain time course from the recording's start.
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
            let mut chart = chart(
                area,
                s,
                &Frame {
                    caption: None,
                    margins: [4.0, 14.0, 4.0, 4.0],
                    x_area: if last { 30.0 } else { 14.0 },
                    y_area: 44.0,
                },
                x0..x1,
                y0..y1,
            )?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(match (last, self.event.is_empty()) {
                    (false, _) => String::new(),
                    (true, true) => "Time (min)".to_string(),
                    (true, false) => format!("Time from {} (min)", self.event),
                })
                .y_desc(panel.y_label.as_str())
                .x_label_formatter(&|v| if last { fmt_num(*v) } else { String::new() })
                .y_label_formatter(&|v| fmt_num(*v))
                .x_labels(7)
                .y_labels(5)
                .label_style(font(s, 7.0))
                .axis_desc_style(font(s, 8.0))
                .draw()
                .map_err(e2s)?;
            // baseline shading, drug bar (none without an event)
            let bar = y1 - 0.03 * (y1 - y0);
            if !self.event.is_empty() {
                chart
                    .draw_series(std::iter::once(Rectangle::new([(x0, y0), (0.0f64.min(x1), y1)], LIGHT.filled())))
                    .map_err(e2s)?;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(0.0, bar), (x1, bar)],
                        DARK.stroke_width(px(s, 3.0)),
                    )))
                    .map_err(e2s)?;
            }
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
            if pi == 0 && !self.event.is_empty() {
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
