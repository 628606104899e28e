//! Symmetric eigendecomposition by cyclic Jacobi rotations.
//!
//! Jacobi is exact to rounding, needs no starting vector and runs the same
//! sequence of operations every time: for the small covariance matrices of
//! spike features (a channel's 30–90 samples) it is fast and reproducible,
//! which randomized or threaded solvers are not.

/// Eigenvalues (descending) and unit eigenvectors of a symmetric matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SymEigen {
    /// Matrix size.
    pub n: usize,
    /// Eigenvalues, largest first.
    pub values: Vec<f64>,
    /// Eigenvectors as rows: `vectors[k * n..(k + 1) * n]` belongs to `values[k]`;
    /// each has its largest-magnitude entry positive.
    pub vectors: Vec<f64>,
}

impl SymEigen {
    /// The `k`-th eigenvector.
    #[must_use]
    pub fn vector(&self, k: usize) -> &[f64] {
        &self.vectors[k * self.n..(k + 1) * self.n]
    }
}

/// Eigendecomposition of the symmetric `n × n` matrix `a` (row-major; only
/// its upper triangle is read). Sweeps until the off-diagonal mass is below
/// 1e-15 of the total (at most 100 sweeps).
///
/// ```
/// let e = burstscope_sorting::sym_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
/// assert!((e.values[0] - 3.0).abs() < 1e-12 && (e.values[1] - 1.0).abs() < 1e-12);
/// let v = e.vector(0);
/// assert!((v[0] - v[1]).abs() < 1e-12 && v[0] > 0.0);
/// ```
///
/// # Panics
/// When `a.len() != n * n`.
#[must_use]
pub fn sym_eigen(a: &[f64], n: usize) -> SymEigen {
    assert_eq!(a.len(), n * n, "sym_eigen: {} values for a {n}×{n} matrix", a.len());
    // Work on a symmetric copy built from the upper triangle.
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            m[i * n + j] = a[i * n + j];
            m[j * n + i] = a[i * n + j];
        }
    }
    // v: columns are the eigenvectors.
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = m.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum();
        if off <= 1e-30 * total {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                // Rotation angle that zeroes m[p][q] (Golub & Van Loan, Alg. 8.4.1).
                let tau = (aqq - app) / (2.0 * apq);
                let sign = if tau >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (tau.abs() + (1.0 + tau * tau).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    // Descending eigenvalues; ties keep the index order (stable sort).
    order.sort_by(|&x, &y| m[y * n + y].total_cmp(&m[x * n + x]));
    let values: Vec<f64> = order.iter().map(|&k| m[k * n + k]).collect();
    let mut vectors = Vec::with_capacity(n * n);
    for &k in &order {
        let mut col: Vec<f64> = (0..n).map(|i| v[i * n + k]).collect();
        let big = col.iter().copied().fold(0.0f64, |b, x| if x.abs() > b.abs() { x } else { b });
        if big < 0.0 {
            col.iter_mut().for_each(|x| *x = -*x);
        }
        vectors.extend(col);
    }
    SymEigen { n, values, vectors }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstructs_the_matrix_and_is_orthonormal() {
        // A fixed 6×6 symmetric matrix with distinct eigenvalues.
        let n = 6;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = 1.0 / (1.0 + (i as f64 - j as f64).abs()) + if i == j { i as f64 } else { 0.0 };
            }
        }
        let e = sym_eigen(&a, n);
        assert!(e.values.windows(2).all(|w| w[0] >= w[1]));
        for i in 0..n {
            for j in 0..n {
                let r: f64 = (0..n).map(|k| e.values[k] * e.vector(k)[i] * e.vector(k)[j]).sum();
                assert!((r - a[i * n + j]).abs() < 1e-12, "A[{i}][{j}]");
                let d: f64 = (0..n).map(|k| e.vector(i)[k] * e.vector(j)[k]).sum();
                assert!((d - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn diagonal_and_degenerate_matrices() {
        let e = sym_eigen(&[1.0, 0.0, 0.0, 3.0], 2);
        assert_eq!(e.values, vec![3.0, 1.0]);
        assert_eq!(e.vector(0), &[0.0, 1.0]);
        let z = sym_eigen(&[0.0; 9], 3);
        assert_eq!(z.values, vec![0.0; 3]);
    }
}

/// Inverse by Gauss–Jordan elimination with partial pivoting; `None` when a
/// pivot is exactly zero (numpy's `LinAlgError`).
pub(crate) fn invert(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let piv = (col..n).max_by(|&x, &y| m[x * n + col].abs().total_cmp(&m[y * n + col].abs()))?;
        if m[piv * n + col] == 0.0 {
            return None;
        }
        if piv != col {
            for k in 0..n {
                m.swap(piv * n + k, col * n + k);
                inv.swap(piv * n + k, col * n + k);
            }
        }
        let p = m[col * n + col];
        for k in 0..n {
            m[col * n + k] /= p;
            inv[col * n + k] /= p;
        }
        for r in 0..n {
            if r != col {
                let f = m[r * n + col];
                if f != 0.0 {
                    for k in 0..n {
                        m[r * n + k] -= f * m[col * n + k];
                        inv[r * n + k] -= f * inv[col * n + k];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// The `k` largest eigenpairs of the symmetric `n × n` matrix `a` by
/// subspace iteration with Rayleigh–Ritz steps (a fixed start, so the
/// result is the same every run): for the top components of a large
/// covariance this is far cheaper than a full Jacobi decomposition.
/// Eigenvectors are rows, signs fixed as in [`sym_eigen`].
pub(crate) fn top_eigen(a: &[f64], n: usize, k: usize) -> SymEigen {
    let k = k.min(n);
    let m = (k + 6).min(n);
    if m == n || n <= 24 {
        let e = sym_eigen(a, n);
        return SymEigen { n, values: e.values[..k].to_vec(), vectors: e.vectors[..k * n].to_vec() };
    }
    // Columns of q as rows: q[j * n + i].
    let mut q: Vec<f64> = (0..m * n)
        .map(|x| {
            let (j, i) = (x / n, x % n);
            if i == j { 1.0 } else { f64::from(u32::try_from((i * 31 + j * 17) % 23).unwrap_or(0)) / 23.0 - 0.5 }
        })
        .collect();
    let orthonormalise = |q: &mut [f64]| {
        for j in 0..m {
            for p in 0..j {
                let d: f64 = (0..n).map(|i| q[j * n + i] * q[p * n + i]).sum();
                for i in 0..n {
                    q[j * n + i] -= d * q[p * n + i];
                }
            }
            let norm = (0..n).map(|i| q[j * n + i] * q[j * n + i]).sum::<f64>().sqrt().max(1e-300);
            for i in 0..n {
                q[j * n + i] /= norm;
            }
        }
    };
    orthonormalise(&mut q);
    let mut z = vec![0.0f64; m * n];
    let mut prev = vec![f64::INFINITY; k];
    let mut values = vec![0.0f64; m];
    for it in 0..150 {
        for j in 0..m {
            let qj = &q[j * n..(j + 1) * n];
            for i in 0..n {
                z[j * n + i] = a[i * n..(i + 1) * n].iter().zip(qj).map(|(x, y)| x * y).sum();
            }
        }
        std::mem::swap(&mut q, &mut z);
        orthonormalise(&mut q);
        if it % 5 == 4 {
            // Rayleigh–Ritz: rotate q to the eigenvectors of qᵀ A q.
            let mut aq = vec![0.0f64; m * n];
            for j in 0..m {
                for i in 0..n {
                    aq[j * n + i] = a[i * n..(i + 1) * n].iter().zip(&q[j * n..(j + 1) * n]).map(|(x, y)| x * y).sum();
                }
            }
            let mut t = vec![0.0f64; m * m];
            for r in 0..m {
                for c in 0..m {
                    t[r * m + c] = (0..n).map(|i| q[r * n + i] * aq[c * n + i]).sum();
                }
            }
            let e = sym_eigen(&t, m);
            let mut rot = vec![0.0f64; m * n];
            for r in 0..m {
                for c in 0..m {
                    let w = e.vectors[r * m + c];
                    for i in 0..n {
                        rot[r * n + i] += w * q[c * n + i];
                    }
                }
            }
            q = rot;
            values.copy_from_slice(&e.values);
            let scale = values[0].abs().max(1e-300);
            let done = (0..k).all(|j| (values[j] - prev[j]).abs() <= 1e-9 * scale);
            prev.copy_from_slice(&values[..k]);
            if done {
                break;
            }
        }
    }
    let mut vectors = q[..k * n].to_vec();
    for j in 0..k {
        let v = &mut vectors[j * n..(j + 1) * n];
        let big = (0..n).max_by(|&x, &y| v[x].abs().total_cmp(&v[y].abs()).then(y.cmp(&x))).unwrap_or(0);
        if v[big] < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
    }
    SymEigen { n, values: values[..k].to_vec(), vectors }
}

#[cfg(test)]
mod top_tests {
    use super::*;

    #[test]
    fn top_eigen_agrees_with_jacobi() {
        let n = 40;
        let a: Vec<f64> = (0..n * n)
            .map(|x| {
                let (i, j) = (x / n, x % n);
                let (i, j) = (i.min(j) as f64, i.max(j) as f64);
                (-(j - i) / 6.0).exp() * (1.0 + 0.01 * i)
            })
            .collect();
        let full = sym_eigen(&a, n);
        let top = top_eigen(&a, n, 5);
        for k in 0..5 {
            assert!((full.values[k] - top.values[k]).abs() < 1e-7 * full.values[0], "{k}");
            let dot: f64 = full.vector(k).iter().zip(top.vector(k)).map(|(x, y)| x * y).sum();
            assert!(dot.abs() > 1.0 - 1e-4, "{k}: {dot}");
        }
    }
}
