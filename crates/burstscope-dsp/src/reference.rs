//! Common reference within channel groups: subtract, at every time step, the
//! median (or mean) of the group's channels.

use serde::{Deserialize, Serialize};

/// How to form the common reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// No re-referencing.
    None,
    /// Subtract the group median (robust to a spike on one channel).
    Median,
    /// Subtract the group mean.
    Average,
}

/// Re-references `rows` (time-major, `stride` values per row) in place; each
/// group lists its column indices. Columns of excluded (dead) channels should
/// be left out of the groups.
///
/// ```
/// use burstscope_dsp::{Reference, common_reference};
/// let mut rows = vec![1.0f32, 2.0, 3.0, 10.0, /* row 2 */ 0.0, 0.0, 4.0, 0.0];
/// common_reference(&mut rows, 4, &[vec![0, 1, 2, 3]], Reference::Median);
/// assert_eq!(&rows[..4], &[-1.5, -0.5, 0.5, 7.5]);
/// ```
pub fn common_reference(rows: &mut [f32], stride: usize, groups: &[Vec<usize>], kind: Reference) {
    if kind == Reference::None || stride == 0 {
        return;
    }
    let mut scratch = Vec::new();
    for row in rows.chunks_exact_mut(stride) {
        for g in groups {
            if g.len() < 2 {
                continue;
            }
            let r = match kind {
                Reference::Average => {
                    #[allow(clippy::cast_precision_loss)]
                    let m = g.iter().map(|&c| row[c]).sum::<f32>() / g.len() as f32;
                    m
                }
                _ => {
                    scratch.clear();
                    scratch.extend(g.iter().map(|&c| row[c]));
                    #[allow(clippy::cast_possible_truncation)]
                    let m = crate::noise::median_in_place(&mut scratch).unwrap_or(0.0) as f32;
                    m
                }
            };
            for &c in g {
                row[c] -= r;
            }
        }
    }
}
