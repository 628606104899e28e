//! Figures: trace overlays.

use super::*;

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
            let mut chart = chart(
                area,
                s,
                &Frame { caption: Some((&p.title, 8.0)), margins: [5.0, 12.0, 5.0, 5.0], x_area: 28.0, y_area: 44.0 },
                x0..x1,
                y0..y1,
            )?;
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
