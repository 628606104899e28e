//! Power spectra: Welch's method (equal to `scipy.signal.welch` defaults) and
//! band powers, plus a streaming low-pass decimator for LFP.

use crate::{Band, DspError, Sos, butter, sosfilt_in_place};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// A one-sided power spectral density.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Frequencies (Hz).
    pub freqs_hz: Vec<f64>,
    /// Density (signal unit² / Hz).
    pub psd: Vec<f64>,
}

impl Spectrum {
    /// Power in [`low_hz`, `high_hz`) by the rectangle rule (density × bin width),
    /// as `psd[mask].sum() * df`.
    #[must_use]
    pub fn band_power(&self, low_hz: f64, high_hz: f64) -> f64 {
        if self.freqs_hz.len() < 2 {
            return f64::NAN;
        }
        let df = self.freqs_hz[1] - self.freqs_hz[0];
        self.freqs_hz.iter().zip(&self.psd).filter(|(f, _)| **f >= low_hz && **f < high_hz).map(|(_, p)| p * df).sum()
    }
}

/// Welch's averaged periodogram with scipy's defaults: periodic Hann window of
/// `nperseg`, 50 % overlap, each segment's mean removed, density scaling,
/// one-sided, mean over segments.
///
/// ```
/// use burstscope_dsp::welch;
/// let fs = 1000.0;
/// let x: Vec<f64> = (0..10_000).map(|i| (2.0 * std::f64::consts::PI * 50.0 * i as f64 / fs).sin()).collect();
/// let s = welch(&x, fs, 1000).unwrap();
/// let peak = s.psd.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
/// assert_eq!(s.freqs_hz[peak], 50.0);
/// assert!((s.band_power(40.0, 60.0) - 0.5).abs() < 0.01); // power of a unit sine
/// ```
///
/// # Errors
/// [`DspError::TooShort`] when `x` is shorter than `nperseg`; [`DspError::Param`] for `nperseg` < 2.
pub fn welch(x: &[f64], fs_hz: f64, nperseg: usize) -> Result<Spectrum, DspError> {
    if nperseg < 2 || !(fs_hz > 0.0) {
        return Err(DspError::Param(format!("welch: nperseg {nperseg} and fs {fs_hz} Hz")));
    }
    if x.len() < nperseg {
        return Err(DspError::TooShort { samples: x.len(), needed: nperseg });
    }
    let n = nperseg;
    let step = n - n / 2;
    let win: Vec<f64> = (0..n).map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()).collect();
    let wss: f64 = win.iter().map(|w| w * w).sum();
    let fft = FftPlanner::new().plan_fft_forward(n);
    let nf = n / 2 + 1;
    let mut acc = vec![0.0f64; nf];
    let mut buf = vec![Complex::new(0.0, 0.0); n];
    let mut segments = 0usize;
    let mut start = 0;
    while start + n <= x.len() {
        let seg = &x[start..start + n];
        let mean = seg.iter().sum::<f64>() / n as f64;
        for (b, (v, w)) in buf.iter_mut().zip(seg.iter().zip(&win)) {
            *b = Complex::new((v - mean) * w, 0.0);
        }
        fft.process(&mut buf);
        for (a, c) in acc.iter_mut().zip(&buf[..nf]) {
            *a += c.norm_sqr();
        }
        segments += 1;
        start += step;
    }
    let scale = 1.0 / (fs_hz * wss * segments as f64);
    let psd: Vec<f64> = acc
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let one_sided = if k == 0 || (n.is_multiple_of(2) && k == n / 2) { 1.0 } else { 2.0 };
            a * scale * one_sided
        })
        .collect();
    let freqs_hz = (0..nf).map(|k| k as f64 * fs_hz / n as f64).collect();
    Ok(Spectrum { freqs_hz, psd })
}

/// Streaming anti-aliased decimation: a Butterworth low-pass at 40 % of the
/// output rate (order 8, causal, state kept across blocks), then every
/// `factor`-th sample.
#[derive(Debug, Clone)]
pub struct Decimator {
    sos: Sos,
    zi: Vec<[f64; 2]>,
    factor: usize,
    phase: usize,
    /// Decimated output so far.
    pub out: Vec<f32>,
}

impl Decimator {
    /// A decimator from `fs_hz` by an integer `factor`.
    ///
    /// # Errors
    /// [`DspError::Param`] for a factor of 0 or a cut-off the design rejects.
    pub fn new(fs_hz: f64, factor: usize) -> Result<Self, DspError> {
        if factor == 0 {
            return Err(DspError::Param("decimation factor 0".into()));
        }
        let cutoff = 0.4 * fs_hz / factor as f64;
        let sos = butter(8, Band::Lowpass(cutoff), fs_hz)?;
        let zi = vec![[0.0; 2]; sos.sections.len()];
        Ok(Self { sos, zi, factor, phase: 0, out: Vec::new() })
    }

    /// Filters and decimates the next block.
    pub fn push(&mut self, block: &mut [f64]) {
        sosfilt_in_place(&self.sos, block, &mut self.zi);
        for v in block.iter() {
            if self.phase == 0 {
                self.out.push(*v as f32);
            }
            self.phase = (self.phase + 1) % self.factor;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_short_is_an_error() {
        assert!(matches!(welch(&[0.0; 10], 100.0, 16), Err(DspError::TooShort { .. })));
    }

    #[test]
    fn decimator_keeps_low_frequencies_and_removes_high_ones() {
        let fs = 30_000.0;
        let mut d = Decimator::new(fs, 30).unwrap();
        let mut x: Vec<f64> = (0..300_000)
            .map(|i| {
                let t = i as f64 / fs;
                (2.0 * std::f64::consts::PI * 8.0 * t).sin() + (2.0 * std::f64::consts::PI * 2000.0 * t).sin()
            })
            .collect();
        for block in x.chunks_mut(7_777) {
            d.push(block);
        }
        assert_eq!(d.out.len(), 10_000);
        let y: Vec<f64> = d.out.iter().map(|&v| f64::from(v)).collect();
        let s = welch(&y[2000..], 1000.0, 1000).unwrap();
        assert!((s.band_power(6.0, 10.0) - 0.5).abs() < 0.02);
        assert!(s.band_power(300.0, 500.0) < 1e-6);
    }
}
