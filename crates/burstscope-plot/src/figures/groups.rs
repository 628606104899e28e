//! Figures: group points.

use super::*;

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
        let mut chart = chart(
            root,
            s,
            &Frame { caption: Some((&self.title, 9.0)), margins: [6.0, 10.0, 6.0, 6.0], x_area: 20.0, y_area: 44.0 },
            -0.6f64..(n - 0.4),
            y0..y1,
        )?;
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
            let c = GROUP_COLOURS[i % GROUP_COLOURS.len()];
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
            // backend coordinates, made relative to this (possibly inner) area
            let (px_, py) = chart.backend_coord(&(x, y0));
            let (bx, by) = root.get_base_pixel();
            let (px_, py) = (px_ - bx, py - by);
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

/// Several [`GroupPoints`] panels side by side (e.g. one per metric), three
/// per row.
#[derive(Debug, Clone)]
pub struct GroupPanels {
    /// Panels; each one's title is its caption.
    pub panels: Vec<GroupPoints>,
    /// Title.
    pub title: String,
}

impl Figure for GroupPanels {
    fn size_in(&self) -> (f64, f64) {
        let rows = self.panels.len().div_ceil(3).max(1);
        (PAGE_IN, 0.4 + 2.4 * rows as f64)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let root = root.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 9.0)).map_err(e2s)?;
        let rows = self.panels.len().div_ceil(3).max(1);
        let areas = root.split_evenly((rows, 3));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            panel.draw(area, s)?;
        }
        Ok(())
    }
}
