//! Symmetric eigendecompositions, exact to rounding and in a fixed sequence
//! of operations (so reproducible, which randomized or threaded solvers are
//! not): cyclic Jacobi rotations for a full decomposition of a small matrix
//! ([`sym_eigen`]), and Householder tridiagonalisation with bisection and
//! inverse iteration for the leading components of a covariance
//! (`top_eigen`).

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

/// The `k` largest eigenpairs of the symmetric `n × n` matrix `a` (row-major,
/// both triangles set), exactly and in a fixed sequence of operations:
///
/// 1. Householder reduction to tridiagonal form, `A = Q T Qᵀ` (Golub & Van
///    Loan, *Matrix Computations*, 4th ed., Alg. 8.3.1), about `4n³/3` flops;
/// 2. the `k` largest eigenvalues of `T` by bisection on Sturm counts
///    (ibid. §8.4.1) to the last bit;
/// 3. their eigenvectors by inverse iteration on `T` (ibid. §8.2.2; as in
///    LAPACK `dstein`, vectors of eigenvalues closer than 10⁻³‖T‖ are kept
///    orthogonal by Gram–Schmidt), mapped back through the reflectors.
///
/// For the top 10 components of a 156-dimensional covariance this is a few
/// milliseconds where a full Jacobi decomposition takes tens. Eigenvectors
/// are rows, signs fixed as in [`sym_eigen`].
pub(crate) fn top_eigen(a: &[f64], n: usize, k: usize) -> SymEigen {
    let k = k.min(n);
    if n <= 8 {
        let e = sym_eigen(a, n);
        return SymEigen { n, values: e.values[..k].to_vec(), vectors: e.vectors[..k * n].to_vec() };
    }
    let t = Tridiagonal::reduce(a, n);
    let norm = t.norm();
    let values: Vec<f64> = (0..k).map(|j| t.eigenvalue(n - 1 - j, norm)).collect();
    let mut ys: Vec<Vec<f64>> = Vec::with_capacity(k);
    for j in 0..k {
        // Earlier vectors whose eigenvalues are this close are orthogonalised against.
        let cluster: Vec<usize> = (0..j).filter(|&i| (values[i] - values[j]).abs() <= 1e-3 * norm).collect();
        let y = t.eigenvector(values[j], norm, j, &cluster.iter().map(|&i| ys[i].as_slice()).collect::<Vec<_>>());
        ys.push(y);
    }
    let mut vectors = Vec::with_capacity(k * n);
    for y in &ys {
        let mut v = t.back_transform(y);
        let big = (0..n).max_by(|&x, &y| v[x].abs().total_cmp(&v[y].abs()).then(y.cmp(&x))).unwrap_or(0);
        if v[big] < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        vectors.extend_from_slice(&v);
    }
    SymEigen { n, values, vectors }
}

/// Sum of `a[i] * b[i]` in eight interleaved partial sums (a fixed order the
/// compiler vectorises).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Rows per block of the scatter accumulation.
const BLOCK: usize = 32;

/// Mean and scatter matrix (the sum of outer products about the mean, both
/// triangles, `dim × dim`) of `n` rows that `row(i, out)` writes. Two passes
/// (the mean first, for accuracy); the scatter in blocks of [`BLOCK`] rows,
/// each centred and transposed so that every entry is a contiguous dot
/// product. The order of operations is fixed.
pub(crate) fn mean_and_scatter(n: usize, dim: usize, row: impl Fn(usize, &mut [f64])) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0f64; dim];
    let mut x = vec![0.0f64; dim];
    for i in 0..n {
        row(i, &mut x);
        for (m, v) in mean.iter_mut().zip(&x) {
            *m += v;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let inv = 1.0 / n.max(1) as f64;
    mean.iter_mut().for_each(|m| *m *= inv);
    let mut scatter = vec![0.0f64; dim * dim];
    // Zero rows pad to a multiple of 4 (and one more for odd dim) for the kernel.
    let mut buf = vec![0.0f64; (dim.div_ceil(4) * 4).max(dim + 1) * BLOCK];
    for start in (0..n).step_by(BLOCK) {
        let len = BLOCK.min(n - start);
        for b in 0..len {
            row(start + b, &mut x);
            for (i, (v, m)) in x.iter().zip(&mean).enumerate() {
                buf[i * BLOCK + b] = v - m;
            }
        }
        for i in 0..dim {
            buf[i * BLOCK + len..(i + 1) * BLOCK].fill(0.0);
        }
        scatter_block(&buf, dim, &mut scatter);
    }
    for i in 0..dim {
        for j in 0..i {
            scatter[i * dim + j] = scatter[j * dim + i];
        }
    }
    (mean, scatter)
}

/// Upper triangle of `scatter += buf bufᵀ`, `buf` being `dim` rows of
/// [`BLOCK`] values padded with zero rows to a multiple of 4. Four rows
/// against two at a time, in 4-lane partial sums held in registers; compiled
/// for AVX-512 and AVX2 as well (no FMA, and the lanes fixed here: the same
/// roundings on every machine).
#[multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2", "aarch64+neon"))]
fn scatter_block(buf: &[f64], dim: usize, scatter: &mut [f64]) {
    let row = |r: usize| -> &[f64] { &buf[r * BLOCK..(r + 1) * BLOCK] };
    for i0 in (0..dim).step_by(4) {
        let bi = [row(i0), row(i0 + 1), row(i0 + 2), row(i0 + 3)];
        for j0 in (i0..dim).step_by(2) {
            let (y0, y1) = (row(j0), row(j0 + 1));
            let mut acc = [[[0.0f64; 4]; 2]; 4];
            for c in (0..BLOCK).step_by(4) {
                for (q, x) in bi.iter().enumerate() {
                    for l in 0..4 {
                        acc[q][0][l] += x[c + l] * y0[c + l];
                        acc[q][1][l] += x[c + l] * y1[c + l];
                    }
                }
            }
            for (q, aq) in acc.iter().enumerate() {
                let i = i0 + q;
                for (p, a) in aq.iter().enumerate() {
                    let j = j0 + p;
                    if i < dim && j < dim && j >= i {
                        scatter[i * dim + j] += (a[0] + a[2]) + (a[1] + a[3]);
                    }
                }
            }
        }
    }
}

/// `A = Q T Qᵀ`: the tridiagonal `T` and the Householder reflectors of `Q`.
struct Tridiagonal {
    n: usize,
    /// Diagonal of `T`.
    d: Vec<f64>,
    /// Off-diagonal of `T`: `e[i] = T[i][i + 1]`.
    e: Vec<f64>,
    /// Reflector `k` acts on entries `k + 1..n`: `I - beta vvᵀ`.
    reflectors: Vec<(f64, Vec<f64>)>,
}

impl Tridiagonal {
    fn reduce(a: &[f64], n: usize) -> Self {
        let mut m = a.to_vec();
        let mut d = vec![0.0f64; n];
        let mut e = vec![0.0f64; n.saturating_sub(1)];
        let mut reflectors = Vec::with_capacity(n.saturating_sub(2));
        let mut p = vec![0.0f64; n];
        for k in 0..n.saturating_sub(2) {
            let len = n - k - 1;
            // x = column k below the diagonal.
            let mut v: Vec<f64> = (k + 1..n).map(|i| m[i * n + k]).collect();
            let sigma: f64 = dot(&v[1..], &v[1..]);
            let alpha = (v[0] * v[0] + sigma).sqrt();
            d[k] = m[k * n + k];
            if sigma == 0.0 {
                // Already tridiagonal in this column.
                e[k] = v[0];
                reflectors.push((0.0, Vec::new()));
                continue;
            }
            // v = x - (-sign(x0) alpha) e1, so (I - beta vvᵀ) x = -sign(x0) alpha e1.
            let s = if v[0] >= 0.0 { 1.0 } else { -1.0 };
            v[0] += s * alpha;
            let beta = 2.0 / dot(&v, &v);
            e[k] = -s * alpha;
            // p = beta * A22 v; w = p - (beta pᵀv / 2) v; A22 -= v wᵀ + w vᵀ.
            let p = &mut p[..len];
            for (i, pi) in p.iter_mut().enumerate() {
                let row = &m[(k + 1 + i) * n + k + 1..(k + 2 + i) * n];
                *pi = beta * dot(row, &v);
            }
            let c = 0.5 * beta * dot(p, &v);
            for (pi, vi) in p.iter_mut().zip(&v) {
                *pi -= c * vi;
            }
            for i in 0..len {
                let (vi, wi) = (v[i], p[i]);
                let row = &mut m[(k + 1 + i) * n + k + 1..(k + 2 + i) * n];
                for ((r, vj), wj) in row.iter_mut().zip(&v).zip(&*p) {
                    *r -= vi * wj + wi * vj;
                }
            }
            reflectors.push((beta, v));
        }
        if n >= 2 {
            d[n - 2] = m[(n - 2) * n + n - 2];
            e[n - 2] = m[(n - 1) * n + n - 2];
        }
        if n >= 1 {
            d[n - 1] = m[(n - 1) * n + n - 1];
        }
        Self { n, d, e, reflectors }
    }

    /// Largest row sum of |T| (bounds every eigenvalue).
    fn norm(&self) -> f64 {
        (0..self.n)
            .map(|i| {
                let l = if i > 0 { self.e[i - 1].abs() } else { 0.0 };
                let r = if i + 1 < self.n { self.e[i].abs() } else { 0.0 };
                self.d[i].abs() + l + r
            })
            .fold(0.0, f64::max)
    }

    /// Eigenvalues of `T` below `x` (the negative pivots of `T - xI = LDLᵀ`).
    fn count_below(&self, x: f64, tiny: f64) -> usize {
        let mut count = 0;
        let mut q = 1.0f64;
        for i in 0..self.n {
            let e2 = if i > 0 { self.e[i - 1] * self.e[i - 1] } else { 0.0 };
            q = self.d[i] - x - if i > 0 { e2 / q } else { 0.0 };
            if q.abs() < tiny {
                q = -tiny;
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    }

    /// The `m`-th smallest eigenvalue (0-based) by bisection within ±`norm` ([`Tridiagonal::norm`]).
    fn eigenvalue(&self, m: usize, norm: f64) -> f64 {
        let tiny = f64::MIN_POSITIVE.sqrt() * norm.max(f64::MIN_POSITIVE);
        let (mut lo, mut hi) = (-norm - tiny, norm + tiny);
        // Invariant: count_below(lo) <= m < count_below(hi).
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if self.count_below(mid, tiny) > m {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// A unit eigenvector of `T` for the eigenvalue `lambda`, by inverse
    /// iteration from a fixed start; orthogonal to `against`.
    fn eigenvector(&self, lambda: f64, norm: f64, seed: usize, against: &[&[f64]]) -> Vec<f64> {
        let n = self.n;
        // Pivots below eps are set to eps (the matrix is singular at an exact eigenvalue).
        let eps = if norm > 0.0 { f64::EPSILON * norm } else { 1.0 };
        // Gaussian elimination with partial pivoting of T - lambda I (tridiagonal:
        // U has up to two super-diagonals).
        let mut u0 = vec![0.0f64; n];
        let mut u1 = vec![0.0f64; n];
        let mut u2 = vec![0.0f64; n];
        let mut mult = vec![0.0f64; n];
        let mut swapped = vec![false; n];
        {
            let mut diag = self.d[0] - lambda;
            let mut sup = if n > 1 { self.e[0] } else { 0.0 };
            for i in 0..n {
                if i + 1 == n {
                    u0[i] = if diag.abs() < eps { eps } else { diag };
                    break;
                }
                let sub = self.e[i];
                let next_diag = self.d[i + 1] - lambda;
                let next_sup = if i + 2 < n { self.e[i + 1] } else { 0.0 };
                if sub.abs() > diag.abs() {
                    // Swap rows i and i + 1.
                    swapped[i] = true;
                    u0[i] = sub;
                    u1[i] = next_diag;
                    u2[i] = next_sup;
                    let l = diag / sub;
                    mult[i] = l;
                    diag = sup - l * next_diag;
                    sup = -l * next_sup;
                } else {
                    let piv = if diag.abs() < eps { eps } else { diag };
                    u0[i] = piv;
                    u1[i] = sup;
                    u2[i] = 0.0;
                    let l = sub / piv;
                    mult[i] = l;
                    diag = next_diag - l * sup;
                    sup = next_sup;
                }
            }
        }
        // Fixed pseudo-random start (a plain vector of ones is orthogonal to
        // the antisymmetric eigenvectors of symmetric matrices).
        let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (seed as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let mut x: Vec<f64> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                #[allow(clippy::cast_precision_loss)]
                let r = (state >> 11) as f64 / (1u64 << 53) as f64;
                r - 0.5
            })
            .collect();
        let project_out = |x: &mut Vec<f64>| {
            for a in against {
                let c = dot(x, a);
                for (xi, ai) in x.iter_mut().zip(a.iter()) {
                    *xi -= c * ai;
                }
            }
        };
        let orthonormalise = |x: &mut Vec<f64>| {
            project_out(x);
            let s = dot(x, x).sqrt();
            if s > 0.0 && s.is_finite() {
                x.iter_mut().for_each(|v| *v /= s);
                return;
            }
            // Degenerate (a zero or overflowing solve): the first unit vector
            // not spanned by `against`.
            for t in 0..n {
                x.iter_mut().for_each(|v| *v = 0.0);
                x[(seed + t) % n] = 1.0;
                project_out(x);
                let s = dot(x, x).sqrt();
                if s > 0.5 {
                    x.iter_mut().for_each(|v| *v /= s);
                    return;
                }
            }
        };
        orthonormalise(&mut x);
        for _ in 0..3 {
            // Forward: apply the row operations to x.
            for i in 0..n - 1 {
                if swapped[i] {
                    x.swap(i, i + 1);
                }
                x[i + 1] -= mult[i] * x[i];
            }
            // Back substitution with U.
            for i in (0..n).rev() {
                let mut s = x[i];
                if i + 1 < n {
                    s -= u1[i] * x[i + 1];
                }
                if i + 2 < n {
                    s -= u2[i] * x[i + 2];
                }
                x[i] = s / u0[i];
            }
            // Rescale before orthogonalising: the solve can grow x by 1/eps.
            let big = x.iter().fold(0.0f64, |b, v| b.max(v.abs()));
            if big > 0.0 && big.is_finite() {
                x.iter_mut().for_each(|v| *v /= big);
            }
            orthonormalise(&mut x);
        }
        x
    }

    /// `Q y`: the eigenvector of `A` from that of `T`.
    fn back_transform(&self, y: &[f64]) -> Vec<f64> {
        let mut z = y.to_vec();
        for (k, (beta, v)) in self.reflectors.iter().enumerate().rev() {
            if *beta == 0.0 {
                continue;
            }
            let tail = &mut z[k + 1..];
            let c = beta * dot(v, tail);
            for (zi, vi) in tail.iter_mut().zip(v) {
                *zi -= c * vi;
            }
        }
        z
    }
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
            assert!(dot.abs() > 1.0 - 1e-10, "{k}: {dot}");
        }
    }

    /// ‖A v − λ v‖ and the orthonormality of the vectors.
    fn check(a: &[f64], n: usize, e: &SymEigen, tol: f64) {
        let scale = a.iter().fold(0.0f64, |b, x| b.max(x.abs())).max(1e-300);
        for j in 0..e.values.len() {
            let v = e.vector(j);
            for i in 0..n {
                let av: f64 = (0..n).map(|c| a[i * n + c] * v[c]).sum();
                assert!(
                    (av - e.values[j] * v[i]).abs() <= tol * scale,
                    "pair {j}, row {i}: {av} vs {}",
                    e.values[j] * v[i]
                );
            }
            for l in 0..=j {
                let d: f64 = v.iter().zip(e.vector(l)).map(|(x, y)| x * y).sum();
                let want = if l == j { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-10, "vectors {j}, {l}: {d}");
            }
        }
        assert!(e.values.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn exact_on_covariances_of_every_shape() {
        // A scatter matrix of 100 pseudo-random points in 156 dimensions with a
        // strong low-rank part, as the sorter's window covariances are.
        let (n, rows) = (156, 100);
        let mut state = 12345u64;
        let mut rnd = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let x: Vec<f64> = (0..rows * n)
            .map(|q| {
                let (r, i) = (q / n, q % n);
                let r = r as f64;
                (r * 0.1).sin() * ((i as f64) * 0.2).cos() * 5.0 + (r * 0.37).cos() * ((i as f64) * 0.05).sin() * 3.0
            })
            .zip(std::iter::repeat_with(&mut rnd))
            .map(|(a, b)| a + b)
            .collect();
        let mut a = vec![0.0; n * n];
        for r in 0..rows {
            for i in 0..n {
                for j in 0..n {
                    a[i * n + j] += x[r * n + i] * x[r * n + j];
                }
            }
        }
        let e = top_eigen(&a, n, 12);
        check(&a, n, &e, 1e-11);
        let full = sym_eigen(&a, n);
        for k in 0..12 {
            assert!((full.values[k] - e.values[k]).abs() <= 1e-10 * full.values[0], "{k}");
        }
        // Rank-deficient: more dimensions than points.
        let t = Tridiagonal::reduce(&a, n);
        let all: Vec<f64> = (0..n).map(|m| t.eigenvalue(m, t.norm())).collect();
        assert!(all[..n - rows].iter().all(|v| v.abs() < 1e-9 * all[n - 1]));
        let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
        assert!((all.iter().sum::<f64>() - trace).abs() < 1e-10 * trace);
    }

    #[test]
    fn repeated_eigenvalues_diagonal_and_zero_matrices() {
        // Identity plus a rank-one bump: one eigenvalue 11, the rest 1 (repeated).
        let n = 20;
        let u: Vec<f64> = (0..n).map(|i| ((i + 1) as f64).sqrt()).collect();
        let uu: f64 = u.iter().map(|x| x * x).sum();
        let a: Vec<f64> = (0..n * n)
            .map(|q| {
                let (i, j) = (q / n, q % n);
                f64::from(u8::from(i == j)) + 10.0 * u[i] * u[j] / uu
            })
            .collect();
        let e = top_eigen(&a, n, 6);
        assert!((e.values[0] - 11.0).abs() < 1e-12 && e.values[1..].iter().all(|v| (v - 1.0).abs() < 1e-12));
        check(&a, n, &e, 1e-12);
        // Diagonal, already tridiagonal: vectors are unit vectors.
        let d: Vec<f64> = (0..n * n).map(|q| if q / n == q % n { (q / n) as f64 } else { 0.0 }).collect();
        let e = top_eigen(&d, n, 3);
        assert_eq!(e.values, vec![19.0, 18.0, 17.0]);
        check(&d, n, &e, 1e-12);
        // Zero: any orthonormal vectors, zero values, no NaN.
        let z = vec![0.0; n * n];
        let e = top_eigen(&z, n, 4);
        assert!(e.values.iter().all(|v| *v == 0.0) && e.vectors.iter().all(|v| v.is_finite()));
        check(&z, n, &e, 1e-12);
        // Symmetric Toeplitz: antisymmetric eigenvectors are found too.
        let t: Vec<f64> = (0..n * n).map(|q| 1.0 / (1.0 + ((q / n) as f64 - (q % n) as f64).abs())).collect();
        check(&t, n, &top_eigen(&t, n, n), 1e-11);
    }

    #[test]
    fn same_result_every_run() {
        let n = 30;
        let a: Vec<f64> = (0..n * n).map(|q| (((q / n) * (q % n)) as f64 * 0.01).cos()).collect();
        assert_eq!(top_eigen(&a, n, 5), top_eigen(&a, n, 5));
    }
}
