//! Figures: ISI histogram.

use super::*;

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
        let mut chart = chart(
            root,
            s,
            &Frame { caption: Some((&self.title, 9.0)), margins: [6.0, 16.0, 6.0, 6.0], x_area: 30.0, y_area: 42.0 },
            (edge(0)..edge(nb)).log_scale(),
            0.0..ymax,
        )?;
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
