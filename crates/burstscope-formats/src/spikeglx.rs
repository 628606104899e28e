//! SpikeGLX recordings: a `.bin` of interleaved int16 samples with its
//! `.meta` text file beside it (`key=value` lines; keys starting with `~`
//! hold parenthesised lists), read from SpikeGLX's metadata description
//! (`Metadata_30.md`): the stream (`typeThis` = `imec` for a Neuropixels
//! probe's `ap`/`lf` stream, `nidq`, `obx`), `nSavedChans`, the sampling
//! rate (`imSampRate`, `niSampRate`, `obSampRate`), the saved channel subset
//! (`snsSaveChanSubset`), the channel kinds (`snsApLfSy`, `snsMnMaXaDw`,
//! `snsXaDwSy`), names (`~snsChanMap`), shanks (`~snsShankMap`), the
//! scaling to volts (`imAiRangeMax` / `imMaxInt` / the channel's gain from
//! `~imroTbl` or `imChan0apGain`; `niAiRangeMax` / 32768 / `niMNGain`,
//! `niMAGain`; `obAiRangeMax` / `obMaxInt`) and `firstSample`.
//!
//! [`SpikeGlx`] is a [`BlockSource`] in µV with each channel's own gain; the
//! neural channels (AP or LF, or the nidq's analog inputs) come first, the
//! sync word last.
//!
//! ```no_run
//! use burstscope_core::BlockSource;
//! let s = burstscope_formats::spikeglx::SpikeGlx::open("run_g0_t0.imec0.ap.bin".as_ref()).unwrap();
//! println!("{} neural channels at {} Hz, shanks {:?}", s.n_neural, s.rate_hz(), s.shanks);
//! ```

use crate::raw::{RawBinary, RawDtype, RawError, RawParams};
use burstscope_core::{BlockQuality, BlockSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a SpikeGLX recording cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SpikeGlxError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The `.meta` file lacks a key or holds a value that does not fit.
    #[error("{}: {key}: {problem}", path.display())]
    Meta {
        /// The `.meta` file.
        path: PathBuf,
        /// The key.
        key: String,
        /// What was found and what was expected.
        problem: String,
    },
    /// The `.bin` file.
    #[error(transparent)]
    Raw(#[from] RawError),
}

/// An opened SpikeGLX stream.
#[derive(Debug)]
pub struct SpikeGlx {
    /// The `.bin` file.
    pub bin: PathBuf,
    /// The `.meta` file.
    pub meta_path: PathBuf,
    /// Every `key=value` of the `.meta` file (`~` keys without the tilde).
    pub meta: BTreeMap<String, String>,
    /// `imec`, `nidq` or `obx`.
    pub device: String,
    /// `ap`, `lf` or empty (nidq, obx).
    pub stream: String,
    /// Saved channels' names (`AP0`, ..., `SY0`; from `~snsChanMap`).
    pub channel_names: Vec<String>,
    /// Microvolts per stored count, per saved channel.
    pub uv_per_bit: Vec<f64>,
    /// Neural channels (AP or LF; the nidq's MN and MA inputs): the first
    /// `n_neural` saved channels.
    pub n_neural: usize,
    /// Shank of each neural channel (from `~snsShankMap`), when the file says.
    pub shanks: Option<Vec<u32>>,
    /// The first sample's index on the acquisition's clock (`firstSample`).
    pub first_sample: u64,
    /// Odd values that were read anyway.
    pub warnings: Vec<String>,
    raw: RawBinary,
}

/// The `.meta` file beside a `.bin` (or the `.meta` itself).
fn meta_of(path: &Path) -> PathBuf {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("meta")) {
        path.to_path_buf()
    } else {
        path.with_extension("meta")
    }
}

/// Whether `path` is a SpikeGLX `.bin` with its `.meta` beside it (or the `.meta`).
#[must_use]
pub fn is_spikeglx(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    (ext == "bin" || ext == "meta") && meta_of(path).is_file() && path.with_extension("bin").is_file()
}

/// Parses a `.meta` file's text: `key=value` lines; `~key=(a)(b)(c)` keeps
/// its value as written.
#[must_use]
pub fn parse_meta(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            Some((k.trim().trim_start_matches('~').to_string(), v.trim().to_string()))
        })
        .collect()
}

/// The entries of a parenthesised list value `(header)(e1)(e2)...`, header first.
fn paren_list(v: &str) -> Vec<&str> {
    v.trim().trim_start_matches('(').trim_end_matches(')').split(")(").collect()
}

/// Channel ids of `snsSaveChanSubset` (`all`, or `0:3,384` ranges).
fn subset(v: &str, n_total: usize) -> Option<Vec<usize>> {
    if v.trim().eq_ignore_ascii_case("all") {
        return Some((0..n_total).collect());
    }
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if b < a || b - a > 1 << 20 || out.len() > 1 << 20 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

impl SpikeGlx {
    /// Opens a stream from its `.bin` (or `.meta`) path.
    ///
    /// # Errors
    /// A missing or unreadable `.meta` or `.bin`, a key the layout needs
    /// missing or malformed (named), or a `.bin` without a whole frame.
    #[allow(clippy::too_many_lines)]
    pub fn open(path: &Path) -> Result<Self, SpikeGlxError> {
        let meta_path = meta_of(path);
        let bin = path.with_extension("bin");
        let text = std::fs::read_to_string(&meta_path)
            .map_err(|source| SpikeGlxError::Io { path: meta_path.clone(), source })?;
        let meta = parse_meta(&text);
        let bad =
            |key: &str, problem: String| SpikeGlxError::Meta { path: meta_path.clone(), key: key.into(), problem };
        let get = |key: &str| meta.get(key).map(String::as_str);
        let need = |key: &str| get(key).ok_or_else(|| bad(key, "missing".into()));
        let num = |key: &str| -> Result<f64, SpikeGlxError> {
            let v = need(key)?;
            v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| bad(key, format!("{v:?}: expected a number")))
        };
        let n_saved = num("nSavedChans")?;
        if !(1.0..=65_536.0).contains(&n_saved) || n_saved.fract() != 0.0 {
            return Err(bad("nSavedChans", format!("{n_saved}: expected 1 to 65536 channels")));
        }
        let n_saved = n_saved as usize;
        let device = get("typeThis").unwrap_or_default().to_string();
        let name = bin.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let device = if device.is_empty() {
            if name.contains(".imec") {
                "imec".to_string()
            } else if name.contains(".nidq") {
                "nidq".to_string()
            } else {
                return Err(bad("typeThis", "missing, and the file name says neither imec nor nidq".into()));
            }
        } else {
            device
        };
        let stream = if device == "imec" {
            if name.ends_with(".lf.bin") { "lf" } else { "ap" }.to_string()
        } else {
            String::new()
        };
        let rate_key = match device.as_str() {
            "imec" => "imSampRate",
            "nidq" => "niSampRate",
            "obx" => "obSampRate",
            d => return Err(bad("typeThis", format!("{d:?}: expected imec, nidq or obx"))),
        };
        let rate_hz = num(rate_key)?;
        if !(rate_hz > 0.0) {
            return Err(bad(rate_key, format!("{rate_hz}: expected a positive rate in Hz")));
        }
        // channel kinds in acquisition order, and the saved ones
        let counts = |key: &str, n: usize| -> Result<Vec<usize>, SpikeGlxError> {
            let v = need(key)?;
            let c: Vec<usize> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            if c.len() != n || c.iter().sum::<usize>() > 1 << 20 {
                return Err(bad(key, format!("{v:?}: expected {n} comma-separated channel counts")));
            }
            Ok(c)
        };
        // (kind of each acquired channel: 0 neural, 1 other analog, 2 sync/digital), gains
        let (kinds, total): (Vec<u8>, usize) = match device.as_str() {
            "imec" => {
                let c = counts("snsApLfSy", 3)?;
                let mut k = vec![0u8; c[0] + c[1]];
                if c[0] > 0 && c[1] > 0 {
                    // a combined AP+LF file (Phase 3A): the stream's own half is neural
                    let lf = stream == "lf";
                    k.iter_mut().enumerate().for_each(|(i, x)| *x = u8::from((i >= c[0]) != lf));
                }
                k.extend(std::iter::repeat_n(2u8, c[2]));
                let t = k.len();
                (k, t)
            }
            "nidq" => {
                let c = counts("snsMnMaXaDw", 4)?;
                let mut k = vec![0u8; c[0] + c[1]];
                k.extend(std::iter::repeat_n(1u8, c[2]));
                k.extend(std::iter::repeat_n(2u8, c[3]));
                let t = k.len();
                (k, t)
            }
            _ => {
                let c = counts("snsXaDwSy", 3)?;
                let mut k = vec![1u8; c[0]];
                k.extend(std::iter::repeat_n(2u8, c[1] + c[2]));
                let t = k.len();
                (k, t)
            }
        };
        let saved = match get("snsSaveChanSubset") {
            Some(v) => subset(v, total)
                .ok_or_else(|| bad("snsSaveChanSubset", format!("{v:?}: expected all or ranges like 0:383,768")))?,
            None => (0..n_saved).collect(),
        };
        if saved.len() != n_saved || saved.iter().any(|&c| c >= total.max(n_saved)) {
            return Err(bad(
                "snsSaveChanSubset",
                format!("{} channels within {total} acquired for nSavedChans = {n_saved}", saved.len()),
            ));
        }
        let kind_of = |c: usize| kinds.get(c).copied().unwrap_or(2);
        let mut warnings = Vec::new();
        // volts per count, per acquired channel
        let v_per_bit: Vec<f64> = match device.as_str() {
            "imec" => {
                let range = num("imAiRangeMax")?;
                let imro: Vec<Vec<f64>> = get("imroTbl")
                    .map(|v| {
                        paren_list(v)
                            .iter()
                            .skip(1)
                            .map(|e| e.split_whitespace().filter_map(|x| x.parse().ok()).collect())
                            .collect()
                    })
                    .unwrap_or_default();
                // Neuropixels 1.0 tables give each channel's AP and LF gains
                // (6 fields) and a 10-bit ADC (512); 2.0 probes a fixed gain
                // (imChan0apGain, 80 by default) and a 14-bit one (8192)
                let np1 = imro.first().is_some_and(|e| e.len() == 6);
                let max_int =
                    get("imMaxInt").and_then(|v| v.parse::<f64>().ok()).unwrap_or(if np1 { 512.0 } else { 8192.0 });
                let fixed = get("imChan0apGain").and_then(|v| v.parse::<f64>().ok()).unwrap_or(80.0);
                (0..total)
                    .map(|c| {
                        if kind_of(c) == 2 {
                            return range / max_int; // the sync word, at unit gain
                        }
                        let g = if np1 {
                            imro.get(c).and_then(|e| e.get(if stream == "lf" { 4 } else { 3 })).copied().unwrap_or(0.0)
                        } else {
                            fixed
                        };
                        if g > 0.0 { range / max_int / g } else { f64::NAN }
                    })
                    .collect()
            }
            "nidq" => {
                let range = num("niAiRangeMax")?;
                let c = counts("snsMnMaXaDw", 4)?;
                let (mn, ma) = (num("niMNGain").unwrap_or(1.0), num("niMAGain").unwrap_or(1.0));
                (0..total)
                    .map(|k| {
                        let g = if k < c[0] {
                            mn
                        } else if k < c[0] + c[1] {
                            ma
                        } else {
                            1.0
                        };
                        range / 32_768.0 / g
                    })
                    .collect()
            }
            _ => {
                let (range, max_int) = (num("obAiRangeMax")?, num("obMaxInt")?);
                vec![range / max_int; total]
            }
        };
        if let Some(c) = saved.iter().find(|&&c| !v_per_bit.get(c).copied().unwrap_or(1.0).is_finite()) {
            return Err(bad("imroTbl", format!("no gain for channel {c}: expected one entry per acquired channel")));
        }
        let uv_per_bit: Vec<f64> = saved.iter().map(|&c| v_per_bit.get(c).copied().unwrap_or(1.0) * 1e6).collect();
        let n_neural = saved.iter().take_while(|&&c| kind_of(c) == 0).count();
        if saved.iter().skip(n_neural).any(|&c| kind_of(c) == 0) {
            warnings.push("neural channels saved after non-neural ones: only the leading ones are neural here".into());
        }
        let channel_names: Vec<String> = match get("snsChanMap") {
            Some(v) => paren_list(v).iter().skip(1).map(|e| e.split(';').next().unwrap_or("").to_string()).collect(),
            None => Vec::new(),
        };
        let channel_names = if channel_names.len() == n_saved {
            channel_names
        } else {
            if !channel_names.is_empty() {
                warnings.push(format!(
                    "snsChanMap has {} entries for {n_saved} channels: names by index",
                    channel_names.len()
                ));
            }
            saved.iter().map(|c| format!("ch{c}")).collect()
        };
        // shanks: `(nShanks,nCols,nRows)(shank:col:row:used)...` per saved neural channel
        let shanks = get("snsShankMap").and_then(|v| {
            let s: Vec<u32> = paren_list(v)
                .iter()
                .skip(1)
                .filter_map(|e| e.split(':').next().and_then(|x| x.trim().parse().ok()))
                .collect();
            (s.len() >= n_neural && n_neural > 0).then(|| s[..n_neural].to_vec())
        });
        let first_sample = get("firstSample").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let raw = RawBinary::open(
            &bin,
            RawParams { dtype: RawDtype::I16, n_channels: n_saved, rate_hz, offset_bytes: 0, gain_uv: 1.0 },
        )?;
        if let Some(sz) = get("fileSizeBytes").and_then(|v| v.parse::<u64>().ok()) {
            let actual = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
            if sz != actual {
                warnings.push(format!("fileSizeBytes says {sz}, the .bin has {actual}: read what is there"));
            }
        }
        if raw.trailing_bytes > 0 {
            warnings.push(format!("{} bytes after the last whole frame ignored", raw.trailing_bytes));
        }
        Ok(Self {
            bin,
            meta_path,
            meta,
            device,
            stream,
            channel_names,
            uv_per_bit,
            n_neural,
            shanks,
            first_sample,
            warnings,
            raw,
        })
    }

    /// Start on the acquisition's clock, s (`firstSample` / rate).
    #[must_use]
    pub fn start_s(&self) -> f64 {
        self.first_sample as f64 / self.raw.params.rate_hz
    }
}

impl BlockSource for SpikeGlx {
    fn n_samples(&self) -> usize {
        self.raw.n_samples
    }
    fn n_channels(&self) -> usize {
        self.raw.params.n_channels
    }
    fn rate_hz(&self) -> f64 {
        self.raw.params.rate_hz
    }
    fn read(
        &self,
        start: usize,
        len: usize,
        scale: f64,
        cols: &[usize],
        stride: usize,
        out: &mut [f32],
        count: std::ops::Range<usize>,
        quality: &mut BlockQuality,
    ) -> Result<(), String> {
        self.raw.read(start, len, scale, cols, stride, out, count, quality)?;
        let g: Vec<f32> = cols.iter().map(|&c| self.uv_per_bit.get(c).copied().unwrap_or(1.0) as f32).collect();
        for row in out.chunks_exact_mut(stride).take(len) {
            for (v, g) in row.iter_mut().zip(&g) {
                *v *= g;
            }
        }
        Ok(())
    }
    fn feeds_hash_tap(&self) -> bool {
        self.raw.feeds_hash_tap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_and_lists_parse() {
        assert_eq!(subset("all", 3), Some(vec![0, 1, 2]));
        assert_eq!(subset("0:2,384", 385), Some(vec![0, 1, 2, 384]));
        assert_eq!(subset("3:1", 385), None);
        assert_eq!(
            paren_list("(0,384)(0 0 0 500 250 1)(1 0 0 500 250 1)"),
            vec!["0,384", "0 0 0 500 250 1", "1 0 0 500 250 1"]
        );
        let m = parse_meta("nSavedChans=385\n~snsChanMap=(384,384,1)(AP0;0:0)\nbad line\n");
        assert_eq!(m["nSavedChans"], "385");
        assert_eq!(m["snsChanMap"], "(384,384,1)(AP0;0:0)");
    }
}
