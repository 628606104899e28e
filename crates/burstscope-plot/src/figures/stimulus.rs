//! Figures: stimulus course.

use super::*;

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
    /// x-axis label with unit (e.g. "Stimulus number in the drug").
    pub x_label: String,
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
        let mut chart = chart(
            root,
            s,
            &Frame { caption: Some((&self.title, 9.0)), margins: [6.0, 12.0, 6.0, 6.0], x_area: 30.0, y_area: 44.0 },
            x0..x1,
            y0..y1,
        )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label.as_str())
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
