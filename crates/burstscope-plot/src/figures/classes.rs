//! Figures: class bars.

use super::*;

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
        // wider when there are many bars, so that their labels fit
        (COLUMN_IN.max(1.4 + 0.8 * self.groups.len() as f64), 2.6)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let n = self.groups.len().max(1) as f64;
        let mut chart = chart(
            root,
            s,
            &Frame { caption: Some((&self.title, 9.0)), margins: [6.0, 78.0, 6.0, 6.0], x_area: 20.0, y_area: 40.0 },
            -0.5f64..(n - 0.5),
            0.0f64..100.0,
        )?;
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
