//! Figures: what a tetrode user looks at before trusting a unit — the six
//! peak-amplitude projections of a tetrode, each unit's waveforms,
//! autocorrelogram, ISI histogram and amplitude over time, and the
//! cross-correlograms of a tetrode's units.

use super::*;

/// Unit colours (Okabe–Ito and darker tones), cycled.
const UNIT_COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 60, 20),
    RGBColor(0, 0, 0),
];

/// Colour of unit `k`.
fn unit_colour(k: usize) -> RGBColor {
    UNIT_COLOURS[k % UNIT_COLOURS.len()]
}

/// Peak amplitudes of a group's spikes in every channel pair.
#[derive(Debug, Clone)]
pub struct PeakProjections {
    /// Title.
    pub title: String,
    /// Channel names (e.g. electrode rows).
    pub channels: Vec<String>,
    /// Per spike and channel: |peak| (µV), spike-major.
    pub peaks_uv: Vec<f32>,
    /// Per spike: unit index into `units` (None: unassigned, drawn grey).
    pub unit: Vec<Option<usize>>,
    /// Unit names.
    pub units: Vec<String>,
}

impl Figure for PeakProjections {
    fn size_in(&self) -> (f64, f64) {
        (PAGE_IN, 4.6)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let root = root.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 9.0)).map_err(e2s)?;
        let nc = self.channels.len();
        let pairs: Vec<(usize, usize)> = (0..nc).flat_map(|a| (a + 1..nc).map(move |b| (a, b))).collect();
        let cols = 3usize;
        let rows = pairs.len().div_ceil(cols).max(1);
        let areas = root.split_evenly((rows, cols));
        let n = self.unit.len();
        let max_of = |c: usize| (0..n).map(|i| f64::from(self.peaks_uv[i * nc + c])).fold(1.0, f64::max) * 1.05;
        for ((a, b), area) in pairs.iter().zip(&areas) {
            let mut ch = chart(
                area,
                s,
                &Frame { caption: None, margins: [4.0, 8.0, 2.0, 2.0], x_area: 26.0, y_area: 34.0 },
                0.0..max_of(*a),
                0.0..max_of(*b),
            )?;
            ch.configure_mesh()
                .disable_mesh()
                .x_desc(format!("ch {} |peak| (µV)", self.channels[*a]))
                .y_desc(format!("ch {} (µV)", self.channels[*b]))
                .x_labels(4)
                .y_labels(4)
                .x_label_formatter(&|v| fmt_num(*v))
                .y_label_formatter(&|v| fmt_num(*v))
                .label_style(font(s, 6.0))
                .axis_desc_style(font(s, 6.5))
                .draw()
                .map_err(e2s)?;
            // Unassigned first, in grey, underneath.
            for pass in [true, false] {
                ch.draw_series((0..n).filter(|&i| self.unit[i].is_none() == pass).map(|i| {
                    let c = self.unit[i].map_or(GREY.mix(0.35), |k| unit_colour(k).mix(0.6));
                    Circle::new(
                        (f64::from(self.peaks_uv[i * nc + a]), f64::from(self.peaks_uv[i * nc + b])),
                        px(s, 0.8),
                        c.filled(),
                    )
                }))
                .map_err(e2s)?;
            }
        }
        if let Some(area) = areas.get(pairs.len().saturating_sub(1)) {
            for (k, name) in self.units.iter().enumerate() {
                area.draw(&Text::new(
                    format!("● {name}"),
                    (area.dim_in_pixel().0 as i32 - px(s, 46.0) as i32, px(s, 6.0 + 8.0 * k as f64) as i32),
                    font(s, 6.0).color(&unit_colour(k)),
                ))
                .map_err(e2s)?;
            }
        }
        Ok(())
    }
}

/// One unit's summary: waveforms, autocorrelogram, ISI histogram, amplitude over time.
#[derive(Debug, Clone)]
pub struct UnitSheet {
    /// Title (unit, group, label, key metrics).
    pub title: String,
    /// Colour index.
    pub colour: usize,
    /// Mean waveform, samples × channels (µV).
    pub mean_uv: Vec<f64>,
    /// SD waveform (µV).
    pub sd_uv: Vec<f64>,
    /// Channels.
    pub n_channels: usize,
    /// Sampling rate, Hz.
    pub rate_hz: f64,
    /// Spike times, s.
    pub times_s: Vec<f64>,
    /// Amplitude of each spike, µV.
    pub amplitudes_uv: Vec<f64>,
    /// Refractory period marked on the autocorrelogram, ms.
    pub refractory_ms: f64,
}

impl Figure for UnitSheet {
    fn size_in(&self) -> (f64, f64) {
        (PAGE_IN, 4.2)
    }

    #[allow(clippy::too_many_lines)]
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let root = root.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 8.0)).map_err(e2s)?;
        let areas = root.split_evenly((2, 2));
        let col = unit_colour(self.colour);
        let nc = self.n_channels.max(1);
        let ns = self.mean_uv.len() / nc;
        // Waveforms: the channels side by side, mean ± SD.
        let lo = self.mean_uv.iter().zip(&self.sd_uv).map(|(m, d)| m - d).fold(0.0, f64::min);
        let hi = self.mean_uv.iter().zip(&self.sd_uv).map(|(m, d)| m + d).fold(0.0, f64::max);
        let span = ns as f64 + 6.0;
        let mut ch = chart(
            &areas[0],
            s,
            &Frame {
                caption: Some(("Mean ± SD waveform per channel", 7.0)),
                margins: [2.0, 6.0, 2.0, 2.0],
                x_area: 18.0,
                y_area: 34.0,
            },
            0.0..span * nc as f64,
            lo * 1.05..hi * 1.05 + 1.0,
        )?;
        ch.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc("µV")
            .y_labels(5)
            .y_label_formatter(&|v| fmt_num(*v))
            .label_style(font(s, 6.0))
            .axis_desc_style(font(s, 6.5))
            .draw()
            .map_err(e2s)?;
        for c in 0..nc {
            let x0 = c as f64 * span;
            let band: Vec<(f64, f64)> = (0..ns)
                .map(|t| (x0 + t as f64, self.mean_uv[t * nc + c] + self.sd_uv[t * nc + c]))
                .chain((0..ns).rev().map(|t| (x0 + t as f64, self.mean_uv[t * nc + c] - self.sd_uv[t * nc + c])))
                .collect();
            ch.draw_series(std::iter::once(Polygon::new(band, col.mix(0.2).filled()))).map_err(e2s)?;
            ch.draw_series(LineSeries::new(
                (0..ns).map(|t| (x0 + t as f64, self.mean_uv[t * nc + c])),
                col.stroke_width(px(s, 1.0)),
            ))
            .map_err(e2s)?;
        }
        // Autocorrelogram ±50 ms, 1 ms bins.
        let (bins, half) = (100usize, 0.05f64);
        let mut acg = vec![0usize; bins];
        for (i, &t) in self.times_s.iter().enumerate() {
            for &u in &self.times_s[i + 1..] {
                let d = u - t;
                if d >= half {
                    break;
                }
                for dd in [d, -d] {
                    let k = ((dd + half) / (2.0 * half) * bins as f64).floor();
                    if k >= 0.0 && (k as usize) < bins {
                        acg[k as usize] += 1;
                    }
                }
            }
        }
        let ymax = acg.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut ch = chart(
            &areas[1],
            s,
            &Frame {
                caption: Some(("Autocorrelogram", 7.0)),
                margins: [2.0, 8.0, 2.0, 2.0],
                x_area: 24.0,
                y_area: 30.0,
            },
            -50.0..50.0,
            0.0..ymax,
        )?;
        ch.configure_mesh()
            .disable_mesh()
            .x_desc("Lag (ms)")
            .y_desc("Spikes")
            .x_labels(5)
            .y_labels(4)
            .y_label_formatter(&|v| fmt_num(*v))
            .label_style(font(s, 6.0))
            .axis_desc_style(font(s, 6.5))
            .draw()
            .map_err(e2s)?;
        ch.draw_series(acg.iter().enumerate().map(|(k, &c)| {
            let x = -50.0 + k as f64;
            Rectangle::new([(x, 0.0), (x + 1.0, c as f64)], col.mix(0.7).filled())
        }))
        .map_err(e2s)?;
        let r = self.refractory_ms;
        ch.draw_series(std::iter::once(Rectangle::new([(-r, 0.0), (r, ymax)], VERMILLION.mix(0.15).filled())))
            .map_err(e2s)?;
        // ISI histogram, log bins 0.1 ms–10 s.
        let isis: Vec<f64> = self.times_s.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).collect();
        let (lo_dec, per) = (-4.0f64, 10.0f64);
        let nb = 50usize;
        let edge = |k: usize| 10f64.powf(lo_dec + k as f64 / per);
        let mut h = vec![0usize; nb];
        for d in &isis {
            let k = ((d.log10() - lo_dec) * per).floor();
            if k >= 0.0 && (k as usize) < nb {
                h[k as usize] += 1;
            }
        }
        let ymax = h.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut ch = chart(
            &areas[2],
            s,
            &Frame { caption: Some(("ISI histogram", 7.0)), margins: [2.0, 8.0, 2.0, 2.0], x_area: 24.0, y_area: 30.0 },
            (edge(0)..edge(nb)).log_scale(),
            0.0..ymax,
        )?;
        ch.configure_mesh()
            .disable_mesh()
            .x_desc("ISI (s)")
            .y_desc("Count")
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .y_labels(4)
            .label_style(font(s, 6.0))
            .axis_desc_style(font(s, 6.5))
            .draw()
            .map_err(e2s)?;
        ch.draw_series(
            h.iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(k, &c)| Rectangle::new([(edge(k), 0.0), (edge(k + 1), c as f64)], col.mix(0.7).filled())),
        )
        .map_err(e2s)?;
        ch.draw_series(DashedLineSeries::new(
            vec![(r * 1e-3, 0.0), (r * 1e-3, ymax)],
            px(s, 3.0),
            px(s, 2.0),
            VERMILLION.stroke_width(px(s, 1.0)),
        ))
        .map_err(e2s)?;
        // Amplitude over time.
        let (a_lo, a_hi) = range_of(self.amplitudes_uv.iter());
        let t_hi = self.times_s.iter().copied().fold(1.0, f64::max);
        let mut ch = chart(
            &areas[3],
            s,
            &Frame {
                caption: Some(("Amplitude over time", 7.0)),
                margins: [2.0, 8.0, 2.0, 2.0],
                x_area: 24.0,
                y_area: 30.0,
            },
            0.0..t_hi,
            a_lo..a_hi,
        )?;
        ch.configure_mesh()
            .disable_mesh()
            .x_desc("Time (s)")
            .y_desc("µV")
            .x_labels(5)
            .y_labels(4)
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .label_style(font(s, 6.0))
            .axis_desc_style(font(s, 6.5))
            .draw()
            .map_err(e2s)?;
        ch.draw_series(
            self.times_s
                .iter()
                .zip(&self.amplitudes_uv)
                .map(|(&t, &a)| Circle::new((t, a), px(s, 0.7), col.mix(0.5).filled())),
        )
        .map_err(e2s)?;
        Ok(())
    }
}

/// Cross-correlograms (±50 ms, 1 ms bins) of the units of one group.
#[derive(Debug, Clone)]
pub struct CrossCorrelograms {
    /// Title.
    pub title: String,
    /// Unit names.
    pub units: Vec<String>,
    /// Spike times per unit, s (sorted).
    pub times_s: Vec<Vec<f64>>,
}

impl Figure for CrossCorrelograms {
    fn size_in(&self) -> (f64, f64) {
        let k = self.units.len().max(1) as f64;
        (PAGE_IN, (1.0 * k + 0.4).min(9.0))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: f64) -> Result<(), String> {
        root.fill(&WHITE).map_err(e2s)?;
        let root = root.margin(px(s, 4.0), 0, 0, 0).titled(&self.title, font(s, 9.0)).map_err(e2s)?;
        let k = self.units.len().max(1);
        let areas = root.split_evenly((k, k));
        let (bins, half) = (100usize, 0.05f64);
        for a in 0..self.units.len() {
            for b in 0..self.units.len() {
                let mut h = vec![0usize; bins];
                let (ta, tb) = (&self.times_s[a], &self.times_s[b]);
                let mut lo = 0usize;
                for &t in ta {
                    while lo < tb.len() && tb[lo] < t - half {
                        lo += 1;
                    }
                    for &u in &tb[lo..] {
                        let d = u - t;
                        if d >= half {
                            break;
                        }
                        if a == b && d == 0.0 {
                            continue;
                        }
                        let kk = ((d + half) / (2.0 * half) * bins as f64).floor();
                        if kk >= 0.0 && (kk as usize) < bins {
                            h[kk as usize] += 1;
                        }
                    }
                }
                let ymax = h.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
                let area = &areas[a * k + b];
                let mut ch = chart(
                    area,
                    s,
                    &Frame {
                        caption: Some((&format!("{} × {}", self.units[a], self.units[b]), 5.5)),
                        margins: [1.0, 3.0, 1.0, 1.0],
                        x_area: 10.0,
                        y_area: 14.0,
                    },
                    -50.0..50.0,
                    0.0..ymax,
                )?;
                ch.configure_mesh()
                    .disable_mesh()
                    .x_labels(3)
                    .y_labels(2)
                    .y_label_formatter(&|v| fmt_num(*v))
                    .label_style(font(s, 4.5))
                    .draw()
                    .map_err(e2s)?;
                let c = if a == b { unit_colour(a) } else { DARK };
                ch.draw_series(h.iter().enumerate().map(|(kk, &n)| {
                    let x = -50.0 + kk as f64;
                    Rectangle::new([(x, 0.0), (x + 1.0, n as f64)], c.mix(0.7).filled())
                }))
                .map_err(e2s)?;
            }
        }
        Ok(())
    }
}
