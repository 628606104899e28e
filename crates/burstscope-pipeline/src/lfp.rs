//! LFP band powers per channel group and window, for files with a wide-band
//! signal: the group's mean signal is low-passed and decimated while the
//! series streams in blocks (memory: the decimated signal), then Welch spectra
//! per window give the band powers.

use crate::error::{ParamError, Result};
use burstscope_bursts::Window;
use burstscope_core::{ColumnData, Table};
use burstscope_dsp::{Decimator, welch};
use burstscope_io::Recording;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// LFP parameters (`[lfp]` in the bursts config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LfpParams {
    /// Bands as (name, low Hz, high Hz), low inclusive, high exclusive.
    pub bands: Vec<(String, f64, f64)>,
    /// Rate after decimation (Hz, approximate: the factor is an integer).
    pub target_hz: f64,
    /// Welch segment length (s); the resolution is 1/segment.
    pub segment_s: f64,
    /// Highest frequency written to the spectra table (Hz).
    pub max_freq_hz: f64,
}

impl Default for LfpParams {
    fn default() -> Self {
        Self {
            bands: vec![
                ("delta".into(), 0.5, 4.0),
                ("theta".into(), 4.0, 12.0),
                ("beta".into(), 12.0, 30.0),
                ("gamma".into(), 30.0, 80.0),
            ],
            target_hz: 1000.0,
            segment_s: 2.0,
            max_freq_hz: 150.0,
        }
    }
}

impl LfpParams {
    /// Checks the parameters.
    ///
    /// # Errors
    /// The first [`ParamError`].
    pub fn validate(&self) -> Result<(), ParamError> {
        for (field, v) in [
            ("lfp.target_hz", self.target_hz),
            ("lfp.segment_s", self.segment_s),
            ("lfp.max_freq_hz", self.max_freq_hz),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(ParamError::new("bursts", field, v, "a positive number"));
            }
        }
        if self.bands.is_empty() {
            return Err(ParamError::new("bursts", "lfp.bands", "[]", "at least one band"));
        }
        for (name, lo, hi) in &self.bands {
            if !(lo.is_finite() && hi.is_finite() && *lo >= 0.0 && hi > lo) {
                return Err(ParamError::new("bursts", format!("lfp.bands.{name}"), (*lo, *hi), "0 ≤ low < high in Hz"));
            }
        }
        Ok(())
    }
}

/// Band powers and spectra, or `None` when the file has no extracellular series.
pub fn lfp_tables(path: &Path, windows: &[Window], p: &LfpParams) -> Result<Option<(Table, Table)>> {
    let rec = Recording::open(path)?;
    let Some(series) = rec.series()?.into_iter().find(|s| s.kind == burstscope_core::SeriesKind::Electrical) else {
        return Ok(None);
    };
    let scale = crate::detect::to_microvolts(&series)?;
    let factor = ((series.rate_hz / p.target_hz).round() as usize).max(1);
    let fs_d = series.rate_hz / factor as f64;
    let groups = series.channel_groups();
    let mut decs: Vec<Decimator> =
        groups.iter().map(|_| Decimator::new(series.rate_hz, factor)).collect::<Result<_, _>>()?;
    let reader = rec.stream(&series)?;
    let n_ch = series.n_channels;
    let mut buf = Vec::new();
    for (start, len) in reader.block_ranges(1 << 16) {
        reader.read_block(start, len, scale, &mut buf)?;
        let b = &buf;
        decs.par_iter_mut().zip(&groups).for_each(|(d, (_, chans))| {
            let inv = 1.0 / chans.len() as f64;
            let mut mean: Vec<f64> =
                (0..len).map(|t| chans.iter().map(|&c| f64::from(b[t * n_ch + c])).sum::<f64>() * inv).collect();
            d.push(&mut mean);
        });
    }
    let nperseg = (p.segment_s * fs_d).round() as usize;
    let mut bands = Table::new("lfp_bands");
    let mut spectra = Table::new("lfp_spectra");
    let (mut bg, mut bw, mut bn, mut blo, mut bhi, mut bp, mut br) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut sg, mut sw, mut sf, mut sp) = (vec![], vec![], vec![], vec![]);
    for ((gname, _), d) in groups.iter().zip(&decs) {
        for w in windows {
            let a = ((w.start_s - series.starting_time_s) * fs_d).ceil().max(0.0) as usize;
            let z = (((w.stop_s - series.starting_time_s) * fs_d).floor().max(0.0) as usize).min(d.out.len());
            if z <= a || z - a < nperseg {
                continue;
            }
            let x: Vec<f64> = d.out[a..z].iter().map(|&v| f64::from(v)).collect();
            let s = welch(&x, fs_d, nperseg)?;
            let lo_all = p.bands.iter().map(|b| b.1).fold(f64::INFINITY, f64::min);
            let hi_all = p.bands.iter().map(|b| b.2).fold(0.0, f64::max);
            let total = s.band_power(lo_all, hi_all);
            for (name, lo, hi) in &p.bands {
                let pw = s.band_power(*lo, *hi);
                bg.push(gname.clone());
                bw.push(w.name.clone());
                bn.push(name.clone());
                blo.push(*lo);
                bhi.push(*hi);
                bp.push(pw);
                br.push(pw / total);
            }
            for (f, v) in s.freqs_hz.iter().zip(&s.psd).filter(|(f, _)| **f <= p.max_freq_hz) {
                sg.push(gname.clone());
                sw.push(w.name.clone());
                sf.push(*f);
                sp.push(*v);
            }
        }
    }
    bands.push("group", ColumnData::Str(bg));
    bands.push("window", ColumnData::Str(bw));
    bands.push("band", ColumnData::Str(bn));
    bands.push("low_hz", ColumnData::F64(blo));
    bands.push("high_hz", ColumnData::F64(bhi));
    bands.push("power_uv2", ColumnData::F64(bp));
    bands.push("relative_power", ColumnData::F64(br));
    spectra.push("group", ColumnData::Str(sg));
    spectra.push("window", ColumnData::Str(sw));
    spectra.push("freq_hz", ColumnData::F64(sf));
    spectra.push("psd_uv2_per_hz", ColumnData::F64(sp));
    Ok(Some((bands, spectra)))
}
