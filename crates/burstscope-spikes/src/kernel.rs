//! The per-block hot loops on a filtered stripe (rows of `G` lane vectors):
//! a branch-free block reduction that finds the 16-row chunks holding any
//! threshold crossing, then an exact scan of those chunks for peaks.

use crate::params::Sign;
use burstscope_dsp::{LANES, Lane};
use multiversion::multiversion;

/// Rows per reduction chunk.
pub(crate) const CHUNK: usize = 16;

/// A peak candidate on one stripe column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    /// Row in the block buffer.
    pub(crate) row: usize,
    /// Column in the stripe.
    pub(crate) col: usize,
    /// |x| / threshold.
    pub(crate) ratio: f32,
}

/// Bit mask of the columns of `chunk` that reach their threshold after `v`
/// (0: none): the running maximum of each lane over the chunk, compared once
/// (max is exact, so this is "any sample ≥ threshold"). One max per sample,
/// branch-free and vectorised.
#[inline(always)]
fn chunk_hits<const G: usize, F: Fn(f32) -> f32>(chunk: &[[Lane; G]], thr: &[Lane; G], v: &F) -> u64 {
    let mut acc = [[f32::NEG_INFINITY; LANES]; G];
    for row in chunk {
        for g in 0..G {
            for l in 0..LANES {
                let x = v(row[g][l]);
                acc[g][l] = if x > acc[g][l] { x } else { acc[g][l] };
            }
        }
    }
    let mut m = 0u64;
    for g in 0..G {
        for l in 0..LANES {
            m |= u64::from(acc[g][l] >= thr[g][l]) << (g * LANES + l);
        }
    }
    m
}

#[inline(always)]
fn reduce_with<const G: usize, F: Fn(f32) -> f32>(
    rows: &[[Lane; G]],
    thr: &[Lane; G],
    v: F,
    out: &mut Vec<(usize, u64)>,
) {
    let mut it = rows.chunks_exact(CHUNK);
    let mut k = 0;
    for chunk in it.by_ref() {
        let m = chunk_hits::<G, F>(chunk, thr, &v);
        if m != 0 {
            out.push((k, m));
        }
        k += 1;
    }
    if !it.remainder().is_empty() {
        let m = chunk_hits::<G, F>(it.remainder(), thr, &v);
        if m != 0 {
            out.push((k, m));
        }
    }
}

/// The `CHUNK`-row chunks of `rows` (chunk k covers rows `k·CHUNK ..`) where
/// some column's |signed value| reaches its threshold, with the mask of those
/// columns. Columns with an infinite threshold (padding, dead channels) never hit.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2", "aarch64+neon"))]
pub(crate) fn hit_chunks<const G: usize>(rows: &[[Lane; G]], thr: &[Lane; G], sign: Sign, out: &mut Vec<(usize, u64)>) {
    out.clear();
    match sign {
        Sign::Neg => reduce_with::<G, _>(rows, thr, |x: f32| -x, out),
        Sign::Pos => reduce_with::<G, _>(rows, thr, |x: f32| x, out),
        Sign::Both => reduce_with::<G, _>(rows, thr, f32::abs, out),
    }
}

/// Appends the peaks in rows `r0..r1` (within `1..rows.len()-1`) of the listed
/// columns: negative troughs `x ≤ −thr`, `x < x[t−1]`, `x ≤ x[t+1]`, and/or
/// positive peaks mirrored (SpikeInterface's peak test).
pub(crate) fn scan_peaks<const G: usize>(
    rows: &[[Lane; G]],
    thr: &[f32],
    cols: &[usize],
    sign: Sign,
    r0: usize,
    r1: usize,
    out: &mut Vec<Candidate>,
) {
    let r0 = r0.max(1);
    let r1 = r1.min(rows.len().saturating_sub(1));
    let at = |r: usize, c: usize| rows[r][c / LANES][c % LANES];
    for r in r0..r1 {
        for &c in cols {
            let t = thr[c];
            let x = at(r, c);
            let neg = matches!(sign, Sign::Neg | Sign::Both) && x <= -t && x < at(r - 1, c) && x <= at(r + 1, c);
            let pos = matches!(sign, Sign::Pos | Sign::Both) && x >= t && x > at(r - 1, c) && x >= at(r + 1, c);
            if neg || pos {
                out.push(Candidate { row: r, col: c, ratio: x.abs() / t });
            }
        }
    }
}

/// True when `a` beats `b`: larger ratio; ties → earlier; then lower column.
fn beats(a: &Candidate, b: &Candidate) -> bool {
    a.ratio > b.ratio || (a.ratio == b.ratio && (a.row < b.row || (a.row == b.row && a.col < b.col)))
}

/// One event per spike per group: (1) SpikeInterface's locally-exclusive rule
/// — a candidate is dropped when another candidate of the group within
/// `excl` rows beats it; (2) dead time — survivors are taken in order of
/// ratio and kept unless a kept event lies closer than `dead` rows.
/// `cands` must be sorted by row; returns the kept events sorted by row.
pub(crate) fn select(cands: &[Candidate], excl: usize, dead: usize) -> Vec<Candidate> {
    let mut survivors = Vec::with_capacity(cands.len());
    let mut lo = 0;
    for (i, c) in cands.iter().enumerate() {
        while cands[lo].row + excl < c.row {
            lo += 1;
        }
        let mut keep = true;
        for (j, o) in cands.iter().enumerate().skip(lo) {
            if o.row > c.row + excl {
                break;
            }
            if j != i && beats(o, c) {
                keep = false;
                break;
            }
        }
        if keep {
            survivors.push(*c);
        }
    }
    if dead == 0 {
        return survivors;
    }
    let mut order: Vec<usize> = (0..survivors.len()).collect();
    order.sort_by(|&a, &b| {
        if beats(&survivors[a], &survivors[b]) {
            std::cmp::Ordering::Less
        } else if beats(&survivors[b], &survivors[a]) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let mut kept_rows: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    let mut kept = Vec::new();
    for i in order {
        let r = survivors[i].row;
        let lo = r.saturating_sub(dead - 1);
        if kept_rows.range(lo..r + dead).next().is_none() {
            kept_rows.insert(r);
            kept.push(survivors[i]);
        }
    }
    kept.sort_by_key(|c| (c.row, c.col));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(row: usize, col: usize, ratio: f32) -> Candidate {
        Candidate { row, col, ratio }
    }

    #[test]
    fn largest_ratio_in_the_group_wins_and_ties_go_to_the_earlier() {
        let cands = vec![c(100, 0, 1.2), c(102, 1, 2.0), c(103, 2, 1.5), c(200, 3, 1.1), c(205, 0, 1.1)];
        let kept = select(&cands, 15, 0);
        let rows: Vec<_> = kept.iter().map(|k| (k.row, k.col)).collect();
        assert_eq!(rows, vec![(102, 1), (200, 3)]);
    }

    #[test]
    fn dead_time_keeps_the_larger_and_allows_events_at_the_dead_time() {
        // 20 rows apart, exclusion 15 → both survive stage 1; dead time 30 keeps the larger.
        let kept = select(&[c(100, 0, 1.2), c(120, 1, 3.0)], 15, 30);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].row, 120);
        // Exactly the dead time apart: both kept.
        assert_eq!(select(&[c(100, 0, 1.2), c(130, 1, 3.0)], 15, 30).len(), 2);
        // A chain: A beats B, B would beat C, but B is gone so C stays.
        let kept = select(&[c(100, 0, 3.0), c(125, 0, 2.0), c(150, 0, 1.5)], 15, 30);
        assert_eq!(kept.iter().map(|k| k.row).collect::<Vec<_>>(), vec![100, 150]);
    }

    #[test]
    fn reduction_and_scan_find_exact_troughs() {
        let mut rows = vec![[[0f32; LANES]; 1]; 100];
        rows[40][0][3] = -6.0;
        rows[41][0][3] = -5.5;
        rows[70][0][5] = 9.0;
        let mut thr = [[f32::INFINITY; LANES]; 1];
        thr[0][3] = 5.0;
        thr[0][5] = 5.0;
        let mut hits = Vec::new();
        hit_chunks::<1>(&rows, &thr, Sign::Neg, &mut hits);
        assert_eq!(hits, vec![(2, 1 << 3)]);
        hit_chunks::<1>(&rows, &thr, Sign::Both, &mut hits);
        assert_eq!(hits, vec![(2, 1 << 3), (4, 1 << 5)]);
        let flat = [f32::INFINITY, 1.0, 1.0, 5.0, 1.0, 5.0, 1.0, 1.0];
        let mut out = Vec::new();
        scan_peaks::<1>(&rows, &flat, &[3, 5], Sign::Neg, 32, 48, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].row, out[0].col), (40, 3));
        assert!((out[0].ratio - 1.2).abs() < 1e-6);
    }
}
