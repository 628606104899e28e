//! Streaming detection over a fixed block grid.
//!
//! The recording is cut into blocks of `block_samples`; each block is read
//! with a margin of real data on both sides (odd extension at the recording's
//! ends, as `sosfiltfilt`), filtered, optionally re-referenced, searched for
//! spikes, and only events inside the block's own range are kept. Blocks are
//! independent, so they run in parallel and the result is the same whatever
//! the number of threads. Channels are processed in stripes of whole channel
//! groups (at most 64 channels, 8 SIMD vectors per row).

use crate::DetectError;
use crate::kernel::{self, CHUNK, Candidate};
use crate::params::DetectParams;
use burstscope_core::{BlockQuality, BlockSource};
use burstscope_dsp::{Band, LANES, Lane, ZeroPhase, butter, common_reference, mad_sigma, noise_chunk_starts};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Calls the local macro `$go!(G)` with the literal lane-vector count `G`
/// matching the run-time value `$g` (1..=8): monomorphises the hot loops.
macro_rules! dispatch_g {
    ($g:expr, $go:ident) => {
        match $g {
            1 => $go!(1),
            2 => $go!(2),
            3 => $go!(3),
            4 => $go!(4),
            5 => $go!(5),
            6 => $go!(6),
            7 => $go!(7),
            _ => $go!(8),
        }
    };
}

/// Maximum channels per stripe (and per detection group).
pub const MAX_STRIPE_CHANNELS: usize = 64;

/// A channel group (a tetrode, a shank): detection gives one event per spike per group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelGroup {
    /// Group name (e.g. `tetrode0`).
    pub name: String,
    /// Source channel indices, in the group's order.
    pub channels: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Stripe {
    /// Source channel of each column.
    cols: Vec<usize>,
    /// Lane vectors per row.
    g: usize,
    /// (group index, columns of the group within the stripe).
    groups: Vec<(usize, Vec<usize>)>,
}

/// Everything derived from the parameters and the recording's shape.
#[derive(Debug, Clone)]
pub struct Plan {
    params: DetectParams,
    rate_hz: f64,
    n_samples: usize,
    n_channels: usize,
    groups: Vec<ChannelGroup>,
    stripes: Vec<Stripe>,
    filter: ZeroPhase,
    margin: usize,
    excl: usize,
    dead: usize,
    n_before: usize,
    n_after: usize,
    /// Rows either side of a clipped or non-finite sample where the filter
    /// rings (3 / low edge): events there are dropped.
    guard: usize,
    scale: f64,
}

/// Per-channel noise and status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Noise {
    /// Robust σ per source channel, in output units (µV).
    pub sigma: Vec<f64>,
    /// Channels with σ = 0 or not finite: flat or dead, excluded from detection.
    pub dead: Vec<bool>,
}

/// A detected spike.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// 0-based sample index from the series' first sample.
    pub sample: u64,
    /// Index of the group in [`Plan::groups`].
    pub group: usize,
    /// Source channel of the peak.
    pub channel: usize,
    /// Signed filtered value at the peak, output units.
    pub amplitude: f32,
    /// |amplitude| / threshold of that channel.
    pub ratio: f32,
    /// Where the event's values lie in its block's [`BlockOutput::values`]
    /// (read them with [`BlockOutput::peaks`] and [`BlockOutput::waveform`]).
    pub values: std::ops::Range<usize>,
    /// Channels in the group.
    pub group_size: usize,
}

/// What one block produced.
#[derive(Debug, Clone, Default)]
pub struct BlockOutput {
    /// Block index in the grid.
    pub block: usize,
    /// Events sorted by (sample, group).
    pub events: Vec<Event>,
    /// The events' values one after the other, each event's filtered values
    /// at its peak sample then its snippet: one buffer per block rather than
    /// two allocations per spike.
    pub values: Vec<f32>,
    /// Per source channel: clipped samples in the block.
    pub clipped: Vec<u64>,
    /// Per source channel: non-finite samples in the block.
    pub nonfinite: Vec<u64>,
    /// Events dropped because their snippet touched clipped or non-finite samples.
    pub rejected_bad: u64,
}

impl BlockOutput {
    /// Filtered value at `ev`'s peak sample on every channel of its group
    /// (group order).
    #[must_use]
    pub fn peaks(&self, ev: &Event) -> &[f32] {
        &self.values[ev.values.start..ev.values.start + ev.group_size]
    }

    /// `ev`'s snippet, `sample − n_before .. sample + n_after` on every
    /// channel of its group, time-major (`(n_before + n_after) × group size`).
    #[must_use]
    pub fn waveform(&self, ev: &Event) -> &[f32] {
        &self.values[ev.values.start + ev.group_size..ev.values.end]
    }
}

impl Plan {
    /// Builds the plan for a recording of `n_samples × n_channels` at `rate_hz`,
    /// producing values in the source's unit × `scale` (1e6: volts → µV).
    ///
    /// # Errors
    /// Invalid parameters, groups naming missing channels, or a recording
    /// shorter than the filter needs.
    pub fn new(
        params: &DetectParams,
        rate_hz: f64,
        n_samples: usize,
        n_channels: usize,
        groups: &[ChannelGroup],
        scale: f64,
    ) -> Result<Self, DetectError> {
        params.validate(rate_hz).map_err(|e| DetectError::Param(e.message))?;
        let sos = butter(params.filter_order, Band::Bandpass(params.band_hz.0, params.band_hz.1), rate_hz)
            .map_err(|e| DetectError::Param(e.to_string()))?;
        let filter = ZeroPhase::new(&sos);
        if n_samples <= filter.padlen() {
            return Err(DetectError::TooShort { samples: n_samples, needed: filter.padlen() + 1 });
        }
        // Split groups larger than a stripe into consecutive sub-groups.
        let mut gs: Vec<ChannelGroup> = Vec::new();
        for g in groups {
            if let Some(&c) = g.channels.iter().find(|&&c| c >= n_channels) {
                return Err(DetectError::Param(format!(
                    "group {}: channel {c} beyond the {n_channels} channels",
                    g.name
                )));
            }
            if g.channels.is_empty() {
                continue;
            }
            if g.channels.len() <= MAX_STRIPE_CHANNELS {
                gs.push(g.clone());
            } else {
                tracing::warn!(
                    "group {} has {} channels; detecting in sub-groups of {MAX_STRIPE_CHANNELS}",
                    g.name,
                    g.channels.len()
                );
                for (k, part) in g.channels.chunks(MAX_STRIPE_CHANNELS).enumerate() {
                    gs.push(ChannelGroup { name: format!("{}.{k}", g.name), channels: part.to_vec() });
                }
            }
        }
        if gs.is_empty() {
            return Err(DetectError::Param("no channels to detect on".into()));
        }
        // Pack whole groups into stripes.
        let mut stripes: Vec<Stripe> = Vec::new();
        for (gi, g) in gs.iter().enumerate() {
            let fits = stripes.last().is_some_and(|s| s.cols.len() + g.channels.len() <= MAX_STRIPE_CHANNELS);
            if !fits {
                stripes.push(Stripe { cols: Vec::new(), g: 0, groups: Vec::new() });
            }
            let s = stripes.last_mut().expect("a stripe exists");
            let start = s.cols.len();
            s.cols.extend_from_slice(&g.channels);
            s.groups.push((gi, (start..s.cols.len()).collect()));
        }
        for s in &mut stripes {
            s.g = s.cols.len().div_ceil(LANES);
        }
        let ms = |ms: f64| -> usize {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = (ms * rate_hz / 1000.0) as usize;
            n
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let margin = (params.margin() * rate_hz / 1000.0).ceil() as usize;
        let mut plan = Self {
            params: params.clone(),
            rate_hz,
            n_samples,
            n_channels,
            groups: gs,
            stripes,
            filter,
            margin,
            excl: ms(params.exclusion_ms),
            dead: ms(params.dead_time_ms),
            n_before: ms(params.ms_before),
            n_after: ms(params.ms_after),
            guard: ms(3000.0 / params.band_hz.0),
            scale,
        };
        let context = plan.context();
        let needed = context + plan.n_before.max(plan.n_after) + 2 + plan.guard;
        if plan.params.margin_ms.is_none() {
            plan.margin = plan.margin.max(needed);
        }
        if plan.margin < needed {
            return Err(DetectError::Param(format!(
                "margin_ms {}: expected at least {:.2} ms for the detection windows",
                plan.params.margin(),
                needed as f64 * 1000.0 / rate_hz
            )));
        }
        Ok(plan)
    }

    /// The groups detection runs on (large groups split).
    #[must_use]
    pub fn groups(&self) -> &[ChannelGroup] {
        &self.groups
    }

    /// The parameters.
    #[must_use]
    pub fn params(&self) -> &DetectParams {
        &self.params
    }

    /// Number of blocks in the grid.
    #[must_use]
    pub fn n_blocks(&self) -> usize {
        self.n_samples.div_ceil(self.params.block_samples)
    }

    /// Filter margin on each side of a block, samples.
    #[must_use]
    pub fn margin_samples(&self) -> usize {
        self.margin
    }

    /// Samples before and after the peak in waveform snippets.
    #[must_use]
    pub fn snippet(&self) -> (usize, usize) {
        (self.n_before, self.n_after)
    }

    /// Rows of context beyond a block's range that can influence its events.
    fn context(&self) -> usize {
        4 * self.dead.max(1) + 2 * self.excl + 2
    }

    /// Reads and filters samples `a..b` of a stripe with margins; returns the
    /// rows, the sample of row 0 and the bad-row flags (aligned with the rows).
    #[allow(clippy::too_many_arguments)]
    fn filtered<'s, const G: usize, S: BlockSource + ?Sized>(
        &self,
        src: &S,
        stripe: &Stripe,
        a: usize,
        b: usize,
        count: std::ops::Range<usize>,
        q: &mut BlockQuality,
        scratch: &'s mut Scratch,
    ) -> Result<Filtered<'s, G>, DetectError> {
        let lo = a.saturating_sub(self.margin);
        let hi = (b + self.margin).min(self.n_samples);
        let pad = self.filter.padlen();
        let pad_l = if a < self.margin { pad } else { 0 };
        let pad_r = if b + self.margin > self.n_samples { pad } else { 0 };
        let n = hi - lo;
        let n_rows = pad_l + n + pad_r;
        // Reused per thread: every value is overwritten below.
        if scratch.rows.len() < n_rows * G * LANES {
            scratch.rows.resize(n_rows * G * LANES, 0.0);
        }
        let (lanes, _) = scratch.rows[..n_rows * G * LANES].as_chunks_mut::<LANES>();
        let (rows, _) = lanes.as_chunks_mut::<G>();
        {
            let flat = rows[pad_l..pad_l + n].as_flattened_mut().as_flattened_mut();
            let c = count.start.saturating_sub(lo)..count.end.saturating_sub(lo).min(n);
            src.read(lo, n, self.scale, &stripe.cols, G * LANES, flat, c, q).map_err(DetectError::Source)?;
        }
        // Odd extension at the recording's ends (scipy's sosfiltfilt default).
        for i in 0..pad_l {
            let (x0, xi) = (rows[pad_l], rows[pad_l + pad_l - i]);
            rows[i] = odd(x0, xi);
        }
        for i in 0..pad_r {
            let last = pad_l + n - 1;
            let (xn, xi) = (rows[last], rows[last - 1 - i]);
            rows[last + 1 + i] = odd(xn, xi);
        }
        self.filter.filtfilt::<G>(rows);
        if self.params.reference != burstscope_dsp::Reference::None {
            let groups: Vec<Vec<usize>> = stripe.groups.iter().map(|(_, cols)| cols.clone()).collect();
            common_reference(rows.as_flattened_mut().as_flattened_mut(), G * LANES, &groups, self.params.reference);
        }
        // Bad rows, dilated by the filter's ringing on either side.
        let bad = &mut scratch.bad;
        bad.clear();
        bad.resize(n_rows, false);
        for (i, _) in q.bad_rows.iter().enumerate().filter(|(_, b)| **b) {
            let r = pad_l + i;
            bad[r.saturating_sub(self.guard)..(r + self.guard + 1).min(n_rows)].fill(true);
        }
        #[allow(clippy::cast_possible_wrap)]
        let row0 = lo as isize - pad_l as isize;
        Ok((rows, row0, &scratch.bad))
    }

    /// Estimates the robust noise of every channel from `noise_chunks` chunks
    /// at seeded positions (mean of per-chunk MAD/0.6745 of the filtered signal).
    ///
    /// # Errors
    /// Source read errors.
    pub fn noise<S: BlockSource + ?Sized>(&self, src: &S) -> Result<Noise, DetectError> {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let chunk_len = ((self.params.noise_chunk_s * self.rate_hz) as usize).max(1);
        let chunks = noise_chunk_starts(self.n_samples, chunk_len, self.params.noise_chunks, self.params.noise_seed);
        let jobs: Vec<(usize, (usize, usize))> =
            chunks.iter().flat_map(|&c| (0..self.stripes.len()).map(move |s| (s, c))).collect();
        let per: Vec<Vec<(usize, f64)>> = jobs
            .par_iter()
            .map(|&(si, (start, len))| {
                let len = len.min(self.n_samples - start);
                let stripe = &self.stripes[si];
                self.noise_chunk_g(stripe.g, src, stripe, start, len)
            })
            .collect::<Result<_, _>>()?;
        let mut sum = vec![0.0; self.n_channels];
        let mut cnt = vec![0usize; self.n_channels];
        for v in per.iter().flatten() {
            sum[v.0] += v.1;
            cnt[v.0] += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let sigma: Vec<f64> = sum.iter().zip(&cnt).map(|(s, &n)| if n > 0 { s / n as f64 } else { f64::NAN }).collect();
        let dead = sigma.iter().map(|s| !(s.is_finite() && *s > 0.0)).collect();
        Ok(Noise { sigma, dead })
    }

    fn noise_chunk_g<S: BlockSource + ?Sized>(
        &self,
        g: usize,
        src: &S,
        stripe: &Stripe,
        start: usize,
        len: usize,
    ) -> Result<Vec<(usize, f64)>, DetectError> {
        macro_rules! go {
            ($G:literal) => {{
                SCRATCH.with_borrow_mut(|scratch| {
                    let mut q = std::mem::take(&mut scratch.quality);
                    let (rows, row0, _) =
                        self.filtered::<$G, S>(src, stripe, start, start + len, 0..0, &mut q, scratch)?;
                    #[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
                    let r0 = (start as isize - row0) as usize;
                    let mut col = Vec::with_capacity(len);
                    let mut out = Vec::new();
                    for (j, &c) in stripe.cols.iter().enumerate() {
                        col.clear();
                        col.extend(rows[r0..r0 + len].iter().map(|r| r[j / LANES][j % LANES]));
                        out.push((c, mad_sigma(&mut col).unwrap_or(f64::NAN)));
                    }
                    Ok(out)
                })
            }};
        }
        dispatch_g!(g, go)
    }

    /// Detects the spikes of block `b` on every stripe.
    ///
    /// # Errors
    /// Source read errors.
    pub fn detect_block<S: BlockSource + ?Sized>(
        &self,
        src: &S,
        noise: &Noise,
        b: usize,
    ) -> Result<BlockOutput, DetectError> {
        let bs = self.params.block_samples;
        let a = b * bs;
        let e = ((b + 1) * bs).min(self.n_samples);
        let mut out = BlockOutput {
            block: b,
            clipped: vec![0; self.n_channels],
            nonfinite: vec![0; self.n_channels],
            ..BlockOutput::default()
        };
        for stripe in &self.stripes {
            macro_rules! go {
                ($G:literal) => {
                    self.detect_stripe::<$G, S>(src, noise, stripe, a, e, &mut out)?
                };
            }
            dispatch_g!(stripe.g, go)
        }
        out.events.sort_by_key(|ev| (ev.sample, ev.group));
        Ok(out)
    }

    fn detect_stripe<const G: usize, S: BlockSource + ?Sized>(
        &self,
        src: &S,
        noise: &Noise,
        stripe: &Stripe,
        a: usize,
        e: usize,
        out: &mut BlockOutput,
    ) -> Result<(), DetectError> {
        SCRATCH.with_borrow_mut(|scratch| self.detect_stripe_in::<G, S>(src, noise, stripe, a, e, out, scratch))
    }

    #[allow(clippy::too_many_arguments)]
    fn detect_stripe_in<const G: usize, S: BlockSource + ?Sized>(
        &self,
        src: &S,
        noise: &Noise,
        stripe: &Stripe,
        a: usize,
        e: usize,
        out: &mut BlockOutput,
        scratch: &mut Scratch,
    ) -> Result<(), DetectError> {
        let mut q = std::mem::take(&mut scratch.quality);
        let (rows, row0, bad) = self.filtered::<G, S>(src, stripe, a, e, a..e, &mut q, scratch)?;
        let rows: &[[Lane; G]] = rows;
        // a source may hold more channels than the plan reads (a SpikeGLX
        // stream's sync channel): those are never read and count nothing
        for ((o_cl, o_nf), (cl, nf)) in
            out.clipped.iter_mut().zip(out.nonfinite.iter_mut()).zip(q.clipped.iter().zip(&q.nonfinite))
        {
            *o_cl += cl;
            *o_nf += nf;
        }
        // Thresholds per column (infinite for padding and dead channels).
        let mut thr = [[f32::INFINITY; LANES]; G];
        let mut thr_flat = vec![f32::INFINITY; G * LANES];
        for (j, &c) in stripe.cols.iter().enumerate() {
            if !noise.dead[c] {
                #[allow(clippy::cast_possible_truncation)]
                let t = (self.params.threshold * noise.sigma[c]) as f32;
                thr[j / LANES][j % LANES] = t;
                thr_flat[j] = t;
            }
        }
        // Rows whose events we decide: the block plus context either side.
        let ctx = self.context();
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
        let to_row = |s: usize| (s as isize - row0) as usize;
        let scan_lo = to_row(a.saturating_sub(ctx));
        let scan_hi = to_row((e + ctx).min(self.n_samples));
        let mut hits = Vec::new();
        kernel::hit_chunks::<G>(&rows[scan_lo..scan_hi], &thr, self.params.sign, &mut hits);
        let mut cands: Vec<Candidate> = Vec::new();
        let mut cols = Vec::with_capacity(G * LANES);
        for &(k, mask) in &hits {
            // Every candidate lies beyond threshold, so its own chunk's mask
            // has its column: scan only the columns that crossed.
            cols.clear();
            cols.extend((0..stripe.cols.len()).filter(|&j| mask >> j & 1 == 1));
            let r0 = scan_lo + k * CHUNK;
            kernel::scan_peaks::<G>(
                rows,
                &thr_flat,
                &cols,
                self.params.sign,
                r0,
                (r0 + CHUNK).min(scan_hi),
                &mut cands,
            );
        }
        let ns = self.n_before + self.n_after;
        for (gi, gcols) in &stripe.groups {
            // A group whose columns are consecutive within one lane vector (a
            // tetrode in the usual layout) is copied a row at a time.
            let run = gcols
                .first()
                .map(|&j0| (j0 / LANES, j0 % LANES))
                .filter(|&(_, l0)| l0 + gcols.len() <= LANES && gcols.windows(2).all(|w| w[1] == w[0] + 1));
            let mut gc: Vec<Candidate> = cands.iter().filter(|c| gcols.contains(&c.col)).copied().collect();
            gc.sort_by_key(|c| (c.row, c.col));
            for k in kernel::select(&gc, self.excl, self.dead) {
                #[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
                let sample = (k.row as isize + row0) as usize;
                if sample < a || sample >= e {
                    continue;
                }
                // The snippet must lie inside the recording.
                if sample < self.n_before || sample + self.n_after > self.n_samples {
                    continue;
                }
                let (w0, w1) = (k.row - self.n_before, k.row + self.n_after);
                if bad[w0..w1].iter().any(|&x| x) {
                    out.rejected_bad += 1;
                    continue;
                }
                let at = |r: usize, j: usize| rows[r][j / LANES][j % LANES];
                out.values.reserve((ns + 1) * gcols.len());
                let start = out.values.len();
                out.values.extend(gcols.iter().map(|&j| at(k.row, j)));
                if let Some((v, l0)) = run {
                    for row in &rows[w0..w1] {
                        out.values.extend_from_slice(&row[v][l0..l0 + gcols.len()]);
                    }
                } else {
                    for r in w0..w1 {
                        out.values.extend(gcols.iter().map(|&j| at(r, j)));
                    }
                }
                out.events.push(Event {
                    sample: sample as u64,
                    group: *gi,
                    channel: stripe.cols[k.col],
                    amplitude: at(k.row, k.col),
                    ratio: k.ratio,
                    values: start..out.values.len(),
                    group_size: gcols.len(),
                });
            }
        }
        Ok(())
    }

    /// Filtered samples `a..b` of every channel (time-major, `n_channels` per
    /// row) exactly as detection sees them — for tests and inspection.
    ///
    /// # Errors
    /// Source read errors.
    pub fn filtered_range<S: BlockSource + ?Sized>(
        &self,
        src: &S,
        a: usize,
        b: usize,
    ) -> Result<Vec<f32>, DetectError> {
        let b = b.min(self.n_samples);
        let mut out = vec![0f32; (b - a) * self.n_channels];
        for stripe in &self.stripes {
            macro_rules! go {
                ($G:literal) => {{
                    let mut q = BlockQuality::default();
                    let mut scratch = Scratch::default();
                    let (rows, row0, _) = self.filtered::<$G, S>(src, stripe, a, b, 0..0, &mut q, &mut scratch)?;
                    #[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
                    let r0 = (a as isize - row0) as usize;
                    for t in 0..b - a {
                        for (j, &c) in stripe.cols.iter().enumerate() {
                            out[t * self.n_channels + c] = rows[r0 + t][j / LANES][j % LANES];
                        }
                    }
                }};
            }
            dispatch_g!(stripe.g, go)
        }
        Ok(out)
    }
}

/// Filtered rows of a stripe, the sample of row 0, and the (dilated) bad-row flags.
type Filtered<'s, const G: usize> = (&'s mut [[Lane; G]], isize, &'s [bool]);

/// Per-thread buffers reused from block to block.
#[derive(Debug, Default)]
struct Scratch {
    rows: Vec<f32>,
    bad: Vec<bool>,
    quality: BlockQuality,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

fn odd<const G: usize>(edge: [Lane; G], x: [Lane; G]) -> [Lane; G] {
    let mut r = [[0f32; LANES]; G];
    for g in 0..G {
        for l in 0..LANES {
            r[g][l] = 2.0 * edge[g][l] - x[g][l];
        }
    }
    r
}

impl RunSummary {
    fn add(&mut self, o: &BlockOutput) {
        for ev in &o.events {
            self.events_per_group[ev.group] += 1;
        }
        for (s, v) in self.clipped.iter_mut().zip(&o.clipped) {
            *s += v;
        }
        for (s, v) in self.nonfinite.iter_mut().zip(&o.nonfinite) {
            *s += v;
        }
        self.rejected_bad += o.rejected_bad;
    }
}

/// Totals over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Events per group (plan order).
    pub events_per_group: Vec<u64>,
    /// Clipped samples per channel.
    pub clipped: Vec<u64>,
    /// Non-finite samples per channel.
    pub nonfinite: Vec<u64>,
    /// Events dropped for touching bad samples.
    pub rejected_bad: u64,
}

/// Runs detection over every block in parallel and returns the totals.
///
/// Each worker thread claims the next few consecutive blocks, detects their
/// spikes and puts each result in a reorder buffer; whichever worker finds the oldest undelivered
/// block ready hands the consecutive ready blocks to `sink`, in block order,
/// while the other workers go on computing. No worker waits for a batch to
/// end, and a worker only waits when it is `8 × threads` blocks ahead of the
/// delivery, which bounds the memory held in blocks not yet delivered.
/// `progress` is called with 1 after each block is delivered. The sink sees
/// the same blocks in the same order whatever the thread count.
///
/// # Errors
/// Source errors, or the sink's error (as [`DetectError::Sink`]); the first
/// one stops the workers.
pub fn run<S: BlockSource + ?Sized>(
    plan: &Plan,
    src: &S,
    noise: &Noise,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut (dyn FnMut(BlockOutput) -> Result<(), String> + Send),
) -> Result<RunSummary, DetectError> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let n = plan.n_blocks();
    let threads = rayon::current_num_threads().max(1);
    let window = (8 * threads).max(8);
    let summary = RunSummary {
        events_per_group: vec![0; plan.groups.len()],
        clipped: vec![0; plan.n_channels],
        nonfinite: vec![0; plan.n_channels],
        rejected_bad: 0,
    };
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let state = std::sync::Mutex::new(Delivery {
        ready: std::collections::BTreeMap::new(),
        delivered: 0,
        delivering: false,
        error: None,
    });
    // Only the worker that set `delivering` locks this.
    let output = std::sync::Mutex::new((summary, sink));
    let advanced = std::sync::Condvar::new();
    let lock = || state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let fail = |st: &mut Delivery, e: DetectError| {
        if st.error.is_none() {
            st.error = Some(e);
        }
        stop.store(true, Ordering::Release);
        advanced.notify_all();
    };
    // Consecutive blocks are claimed a few at a time (fewer near the end, so
    // that the workers finish together): a block's margins overlap its
    // neighbours' stored chunks, which the worker that read them still has
    // in the decoded-chunk cache of a compressed file.
    let claim = || loop {
        if stop.load(Ordering::Acquire) {
            return None;
        }
        let cur = next.load(Ordering::Relaxed);
        if cur >= n {
            return None;
        }
        let k = ((n - cur) / (4 * threads)).clamp(1, CLAIM_BLOCKS);
        if next.compare_exchange_weak(cur, cur + k, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            return Some(cur..cur + k);
        }
    };
    // Detects block `b`, queues it and delivers what is ready; false when
    // the run has stopped.
    let detect_one = |b: usize| -> bool {
        // Not too far ahead of the delivery.
        {
            let mut st = lock();
            while b >= st.delivered + window && !stop.load(Ordering::Acquire) {
                st = advanced.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
        if stop.load(Ordering::Acquire) {
            return false;
        }
        let out = plan.detect_block(src, noise, b);
        let mut st = lock();
        match out {
            Ok(o) => {
                st.ready.insert(b, o);
            }
            Err(e) => {
                fail(&mut st, e);
                return false;
            }
        }
        if st.delivering {
            // The worker delivering will take this block in turn.
            return true;
        }
        st.delivering = true;
        loop {
            if st.error.is_some() {
                // Nothing is delivered after the first error.
                break;
            }
            let d = st.delivered;
            let Some(o) = st.ready.remove(&d) else { break };
            // The sink runs without the lock, so the others can queue blocks.
            drop(st);
            let r = {
                let mut out = output.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                out.0.add(&o);
                (out.1)(o).map_err(DetectError::Sink)
            };
            if r.is_ok() {
                progress(1);
            }
            st = lock();
            st.delivered = d + 1;
            advanced.notify_all();
            if let Err(e) = r {
                st.delivering = false;
                fail(&mut st, e);
                return false;
            }
        }
        st.delivering = false;
        true
    };
    let worker = || {
        // A panicking worker stops the others, which would otherwise wait
        // for a delivery that never comes; the scope then re-raises the panic.
        let _stop_on_panic = OnPanic(|| {
            let _st = lock();
            stop.store(true, Ordering::Release);
            advanced.notify_all();
        });
        while let Some(run) = claim() {
            for b in run {
                if !detect_one(b) {
                    return;
                }
            }
        }
    };
    rayon::scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| worker());
        }
    });
    let st = state.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    match st.error {
        Some(e) => Err(e),
        None => Ok(output.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).0),
    }
}

/// Most consecutive blocks a worker of [`run`] claims at a time.
const CLAIM_BLOCKS: usize = 4;

/// Runs its closure when dropped during a panic.
struct OnPanic<F: Fn()>(F);

impl<F: Fn()> Drop for OnPanic<F> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.0)();
        }
    }
}

/// The ordered hand-over of [`run`]: blocks computed but not yet delivered.
struct Delivery {
    ready: std::collections::BTreeMap<usize, BlockOutput>,
    delivered: usize,
    delivering: bool,
    error: Option<DetectError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use burstscope_core::ArraySource;

    /// Four channels of noise with a spike every 1 000 samples, 30 kHz.
    fn source() -> ArraySource {
        let (n, nch) = (60_000usize, 4usize);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut data = Vec::with_capacity(n * nch);
        for i in 0..n {
            for c in 0..nch {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                #[allow(clippy::cast_precision_loss)]
                let noise = (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                let spike = if i % 1000 == 500 { -8.0 * (1.0 + c as f32) } else { 0.0 };
                data.push(20.0 * noise + spike * 10.0);
            }
        }
        ArraySource { data, n_channels: nch, rate_hz: 30_000.0 }
    }

    fn plan(src: &ArraySource) -> Plan {
        let params = DetectParams { block_samples: 2048, ..DetectParams::default() };
        let groups = [ChannelGroup { name: "t0".into(), channels: vec![0, 1, 2, 3] }];
        Plan::new(&params, src.rate_hz, src.n_samples(), src.n_channels, &groups, 1.0).unwrap()
    }

    /// Blocks reach the sink once each, in order, with the same events and
    /// totals whatever the thread count.
    #[test]
    fn blocks_are_delivered_in_order_whatever_the_thread_count() {
        let src = source();
        let plan = plan(&src);
        let noise = plan.noise(&src).unwrap();
        let n = plan.n_blocks();
        assert!(n > 20, "{n} blocks");
        let run_with = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let (mut order, mut events) = (Vec::new(), Vec::new());
                let ticks = std::sync::atomic::AtomicU64::new(0);
                let progress = |k: u64| {
                    ticks.fetch_add(k, std::sync::atomic::Ordering::Relaxed);
                };
                let summary = run(&plan, &src, &noise, &progress, &mut |o| {
                    order.push(o.block);
                    events.extend(o.events.iter().map(|e| (e.sample, e.channel)));
                    Ok(())
                })
                .unwrap();
                (order, events, summary, ticks.into_inner())
            })
        };
        let (order, events, summary, ticks) = run_with(1);
        assert_eq!(order, (0..n).collect::<Vec<_>>());
        assert_eq!(ticks, n as u64);
        assert!(events.len() >= 50, "{} events", events.len());
        for threads in [2, 3, 5] {
            let (o, e, s, t) = run_with(threads);
            assert_eq!(o, order, "{threads} threads");
            assert_eq!(e, events, "{threads} threads");
            assert_eq!(s, summary, "{threads} threads");
            assert_eq!(t, ticks, "{threads} threads");
        }
    }

    /// Snippets are the same values whether a group's columns are copied a
    /// row at a time (consecutive channels) or one by one (any order): the
    /// groups [1, 0] and [3, 2] give the events of [0, 1] and [2, 3] with
    /// their two channels swapped.
    #[test]
    fn snippets_of_consecutive_and_scattered_groups_agree() {
        let src = source();
        let events = |groups: [[usize; 2]; 2]| {
            let params = DetectParams { block_samples: 2048, ..DetectParams::default() };
            let groups: Vec<ChannelGroup> = groups
                .iter()
                .enumerate()
                .map(|(i, c)| ChannelGroup { name: format!("g{i}"), channels: c.to_vec() })
                .collect();
            let plan = Plan::new(&params, src.rate_hz, src.n_samples(), src.n_channels, &groups, 1.0).unwrap();
            let noise = plan.noise(&src).unwrap();
            let mut out = Vec::new();
            run(&plan, &src, &noise, &|_| {}, &mut |o| {
                for e in &o.events {
                    out.push((e.sample, e.group, o.peaks(e).to_vec(), o.waveform(e).to_vec()));
                }
                Ok(())
            })
            .unwrap();
            out
        };
        let straight = events([[0, 1], [2, 3]]);
        let swapped = events([[1, 0], [3, 2]]);
        assert!(straight.len() >= 50, "{} events", straight.len());
        assert_eq!(straight.len(), swapped.len());
        let swap = |v: &[f32]| v.chunks(2).flat_map(|p| [p[1], p[0]]).collect::<Vec<f32>>();
        for (a, b) in straight.iter().zip(&swapped) {
            assert_eq!((a.0, a.1), (b.0, b.1));
            assert_eq!(swap(&a.2), b.2);
            assert_eq!(swap(&a.3), b.3);
        }
    }

    /// A panic in the sink reaches the caller instead of leaving the other
    /// workers waiting for a delivery.
    #[test]
    fn a_panicking_sink_does_not_hang_the_run() {
        let src = source();
        let plan = plan(&src);
        let noise = plan.noise(&src).unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                run(&plan, &src, &noise, &|_| {}, &mut |o| {
                    assert!(o.block != 2, "sink bug");
                    Ok(())
                })
            })
        }));
        assert!(r.is_err());
    }

    /// The sink's first error ends the run: nothing is delivered after it
    /// and the error comes back as `DetectError::Sink`.
    #[test]
    fn a_sink_error_stops_the_run() {
        let src = source();
        let plan = plan(&src);
        let noise = plan.noise(&src).unwrap();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut seen = Vec::new();
            let r = pool.install(|| {
                run(&plan, &src, &noise, &|_| {}, &mut |o| {
                    seen.push(o.block);
                    if o.block == 5 { Err("disk full".into()) } else { Ok(()) }
                })
            });
            assert!(matches!(r, Err(DetectError::Sink(ref m)) if m == "disk full"), "{r:?}");
            assert_eq!(seen, (0..=5).collect::<Vec<_>>(), "{threads} threads");
        }
    }
}
