//! Figures: raster.

use super::*;

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
        let mut chart = chart(
            root,
            s,
            &Frame { caption: Some((&self.title, 9.0)), margins: [6.0, 14.0, 0.0, 6.0], x_area: 30.0, y_area: 56.0 },
            self.t0_s..self.t1_s,
            0.0..n,
        )?;
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
