//! Synthetic spike trains of Cotterill et al. 2016 (§2.8 of the reference
//! docs): non-bursting Poisson and gamma trains, a non-stationary train, and
//! Poisson bursting trains with and without noise — 300 s each, with the
//! generated bursts as truth. Deterministic for a seed.

/// A small deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct SimpleRng(u64);

impl SimpleRng {
    /// Seeded generator (seed 0 is remapped).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponential with the given rate.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -(1.0 - self.uniform()).ln() / rate
    }

    /// Poisson count (Knuth; fine for small means).
    pub fn poisson(&mut self, mean: f64) -> usize {
        let l = (-mean).exp();
        let (mut k, mut p) = (0usize, 1.0);
        loop {
            p *= self.uniform();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
}

/// A synthetic train and the bursts it was built with (start, end in s).
#[derive(Debug, Clone)]
pub struct SyntheticTrain {
    /// Sorted spike times (s).
    pub times: Vec<f64>,
    /// Generated bursts (first, last spike time).
    pub bursts: Vec<(f64, f64)>,
}

/// The Cotterill families used in tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// D4/D5: homogeneous Poisson at `rate` Hz, smallest 10 % of ISIs removed.
    NonBursting {
        /// Rate (Hz).
        rate: f64,
    },
    /// D6: inhomogeneous Poisson λ(t) = 1 + t/300, smallest 10 % of ISIs removed.
    NonStationary,
    /// D7–D9: bursts at Poisson times (`lambda` Hz) of Poisson(`n`) spikes spread
    /// uniformly over `width` s; overlapping bursts keep the first.
    Bursting {
        /// Burst rate (Hz).
        lambda: f64,
        /// Mean spikes per burst.
        n: f64,
        /// Burst width (s).
        width: f64,
    },
    /// D10: bursting (λ 0.5, n 8, r 0.8) plus gamma noise spikes at `noise_rate`,
    /// noise dropped within 0.5 s of a burst.
    Noisy {
        /// Noise rate (Hz).
        noise_rate: f64,
    },
}

fn drop_smallest_isis(mut t: Vec<f64>, frac: f64) -> Vec<f64> {
    if t.len() < 3 {
        return t;
    }
    let mut isi: Vec<(f64, usize)> = t.windows(2).enumerate().map(|(i, w)| (w[1] - w[0], i + 1)).collect();
    isi.sort_by(|a, b| a.0.total_cmp(&b.0));
    let k = (frac * isi.len() as f64) as usize;
    let mut drop: Vec<usize> = isi[..k].iter().map(|x| x.1).collect();
    drop.sort_unstable();
    drop.dedup();
    for i in drop.into_iter().rev() {
        t.remove(i);
    }
    t
}

fn bursting(rng: &mut SimpleRng, duration: f64, lambda: f64, n: f64, width: f64) -> SyntheticTrain {
    let mut times = Vec::new();
    let mut bursts: Vec<(f64, f64)> = Vec::new();
    let mut c = rng.exponential(lambda);
    while c < duration {
        let k = rng.poisson(n).max(3);
        let mut sp: Vec<f64> =
            (0..k).map(|_| c - width / 2.0 + width * rng.uniform()).filter(|t| *t >= 0.0 && *t < duration).collect();
        sp.sort_by(f64::total_cmp);
        sp.dedup();
        if sp.len() >= 3 {
            let (a, b) = (sp[0], sp[sp.len() - 1]);
            if bursts.last().is_none_or(|l| a > l.1) {
                bursts.push((a, b));
                times.extend(sp);
            }
        }
        c += rng.exponential(lambda);
    }
    SyntheticTrain { times, bursts }
}

/// Generates a `duration`-second train of a family.
///
/// ```
/// use burstscope_bursts::synthetic::{Family, generate};
/// let t = generate(Family::Bursting { lambda: 0.2, n: 5.0, width: 0.3 }, 300.0, 1);
/// assert!(t.bursts.len() > 40);
/// assert!(t.times.windows(2).all(|w| w[1] > w[0]));
/// ```
#[must_use]
pub fn generate(family: Family, duration: f64, seed: u64) -> SyntheticTrain {
    let mut rng = SimpleRng::new(seed);
    match family {
        Family::NonBursting { rate } => {
            let mut t = Vec::new();
            let mut now = rng.exponential(rate);
            while now < duration {
                t.push(now);
                now += rng.exponential(rate);
            }
            SyntheticTrain { times: drop_smallest_isis(t, 0.1), bursts: vec![] }
        }
        Family::NonStationary => {
            let max = 2.0;
            let mut t = Vec::new();
            let mut now = rng.exponential(max);
            while now < duration {
                if rng.uniform() < (1.0 + now / 300.0) / max {
                    t.push(now);
                }
                now += rng.exponential(max);
            }
            SyntheticTrain { times: drop_smallest_isis(t, 0.1), bursts: vec![] }
        }
        Family::Bursting { lambda, n, width } => bursting(&mut rng, duration, lambda, n, width),
        Family::Noisy { noise_rate } => {
            let mut tr = bursting(&mut rng, duration, 0.5, 8.0, 0.8);
            let mut now = rng.exponential(noise_rate);
            while now < duration {
                let near = tr.bursts.iter().any(|(a, b)| now > a - 0.5 && now < b + 0.5);
                if !near {
                    tr.times.push(now);
                }
                now += rng.exponential(noise_rate);
            }
            tr.times.sort_by(f64::total_cmp);
            tr.times.dedup();
            tr
        }
    }
}
