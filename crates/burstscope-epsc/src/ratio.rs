//! Ratios of a cell's EPSCs: NMDA/AMPA across holding potentials, and the
//! paired-pulse ratio within trains.

use serde::{Deserialize, Serialize};

/// A cell's NMDA/AMPA ratio: the AMPA EPSC's peak at a negative holding
/// potential (e.g. −70 mV, where the NMDA receptor is blocked by Mg²⁺ and the
/// fast inward peak is AMPA), and the NMDA EPSC's amplitude at a fixed
/// latency (e.g. 50 ms) at a positive one (e.g. +40 mV, where the AMPA
/// current has decayed by then), each the mean over its sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NmdaAmpa {
    /// Mean AMPA peak (signed, pA; inward negative).
    pub ampa_peak_pa: f64,
    /// Mean NMDA amplitude at the fixed latency (signed, pA; outward positive).
    pub nmda_latency_pa: f64,
    /// `|NMDA| / |AMPA|`.
    pub ratio: f64,
    /// AMPA sweeps averaged.
    pub n_ampa: usize,
    /// NMDA sweeps averaged.
    pub n_nmda: usize,
}

/// The NMDA/AMPA ratio from the AMPA sweeps' peaks and the NMDA sweeps'
/// amplitudes at the fixed latency (non-finite values are left out). `None`
/// unless both sides have a sweep and the AMPA peak is not zero.
///
/// ```
/// use burstscope_epsc::nmda_ampa_ratio;
/// let r = nmda_ampa_ratio(&[-210.0, -190.0], &[58.0, 62.0, f64::NAN]).unwrap();
/// assert_eq!((r.ampa_peak_pa, r.nmda_latency_pa, r.n_ampa, r.n_nmda), (-200.0, 60.0, 2, 2));
/// assert!((r.ratio - 0.3).abs() < 1e-12);
/// assert!(nmda_ampa_ratio(&[], &[60.0]).is_none());
/// ```
#[must_use]
pub fn nmda_ampa_ratio(ampa_peaks_pa: &[f64], nmda_latency_pa: &[f64]) -> Option<NmdaAmpa> {
    let mean = |v: &[f64]| -> Option<(f64, usize)> {
        let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        (!f.is_empty()).then(|| (f.iter().sum::<f64>() / f.len() as f64, f.len()))
    };
    let (ampa, n_ampa) = mean(ampa_peaks_pa)?;
    let (nmda, n_nmda) = mean(nmda_latency_pa)?;
    (ampa != 0.0).then(|| NmdaAmpa {
        ampa_peak_pa: ampa,
        nmda_latency_pa: nmda,
        ratio: nmda.abs() / ampa.abs(),
        n_ampa,
        n_nmda,
    })
}

/// The paired-pulse ratio: the mean second-pulse amplitude over the mean
/// first-pulse amplitude, over the sweeps where both were measured (the
/// ratio of means, less biased by noise than the mean of per-sweep ratios;
/// Kim & Alger 2001). `None` without such a sweep or with a zero first mean.
///
/// ```
/// use burstscope_epsc::paired_pulse_ratio;
/// let r = paired_pulse_ratio(&[-100.0, -120.0, -90.0], &[-150.0, -180.0, f64::NAN]).unwrap();
/// assert!((r - 1.5).abs() < 1e-12);
/// ```
#[must_use]
pub fn paired_pulse_ratio(first_pa: &[f64], second_pa: &[f64]) -> Option<f64> {
    let (mut a, mut b, mut n) = (0.0, 0.0, 0usize);
    for (x, y) in first_pa.iter().zip(second_pa) {
        if x.is_finite() && y.is_finite() {
            a += x;
            b += y;
            n += 1;
        }
    }
    (n > 0 && a != 0.0).then(|| b / a)
}
