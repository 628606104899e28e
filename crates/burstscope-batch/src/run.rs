//! Scheduling session stages: each session's stages run in order (each one
//! consumes the one before), sessions run in parallel on a fixed number of
//! workers, and a failed stage skips the rest of its session and nothing
//! else. Sharding splits the sessions deterministically among machines.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How a session stage ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Computed now.
    Done,
    /// Reused from the cache.
    Cached,
    /// Failed, and why (exit status, signal, timeout, the stage's error).
    Failed(String),
    /// Not run because an earlier stage of the session failed.
    Skipped(String),
}

impl Outcome {
    /// `done`, `cached`, `failed`, `skipped`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Cached => "cached",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// Whether later stages can use this stage's output.
    #[must_use]
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::Cached)
    }
}

/// One session stage's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageResult {
    /// Index of the session in the manifest.
    pub session: usize,
    /// Stage name.
    pub stage: &'static str,
    /// How it ended.
    pub outcome: Outcome,
}

/// The sessions of shard `i` of `n` (0-based `i`): every `n`-th session of
/// the manifest starting at `i`, so the shards partition the sessions and
/// each session's chain of stages stays on one worker.
///
/// ```
/// let all: Vec<usize> = (0..3).flat_map(|i| burstscope_batch::run::shard(7, i, 3)).collect();
/// let mut sorted = all.clone();
/// sorted.sort();
/// assert_eq!(sorted, (0..7).collect::<Vec<_>>());
/// assert_eq!(burstscope_batch::run::shard(7, 1, 3), vec![1, 4]);
/// ```
#[must_use]
pub fn shard(n_sessions: usize, i: usize, n: usize) -> Vec<usize> {
    if n == 0 || i >= n {
        return Vec::new();
    }
    (i..n_sessions).step_by(n).collect()
}

/// Runs the stages of each of `sessions` (`stages(s)`, in order) with
/// `exec(s, stage)`, sessions in parallel on `workers` threads; after a
/// stage that is not [`Outcome::ok`], the session's later stages are
/// [`Outcome::Skipped`]. `on_result` sees every result as it happens. The
/// results come back in session order, then stage order, whatever the
/// number of workers.
pub fn run_sessions<E, P>(
    sessions: &[usize],
    stages: &(dyn Fn(usize) -> &'static [&'static str] + Sync),
    workers: usize,
    exec: &E,
    on_result: &P,
) -> Vec<StageResult>
where
    E: Fn(usize, &'static str) -> Outcome + Sync,
    P: Fn(&StageResult) + Sync,
{
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, sessions.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&s) = sessions.get(k) else { break };
                    let mut failed: Option<&'static str> = None;
                    for &stage in stages(s) {
                        let outcome = match failed {
                            Some(f) => Outcome::Skipped(format!("{f} failed")),
                            None => exec(s, stage),
                        };
                        if failed.is_none() && !outcome.ok() {
                            failed = Some(stage);
                        }
                        let r = StageResult { session: s, stage, outcome };
                        on_result(&r);
                        if let Ok(mut v) = results.lock() {
                            v.push((k, r));
                        }
                    }
                }
            });
        }
    });
    let mut v = results.into_inner().unwrap_or_default();
    // Session order, then stage order (pushed in order within a session).
    v.sort_by_key(|(k, _)| *k);
    v.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_skips_its_session_only_and_order_is_fixed() {
        let stages = |s: usize| -> &'static [&'static str] {
            if s.is_multiple_of(2) { &["detect", "sort", "bursts"] } else { &["epsc"] }
        };
        let sessions: Vec<usize> = (0..7).collect();
        let exec = |s: usize, stage: &'static str| -> Outcome {
            std::thread::sleep(std::time::Duration::from_millis(((7 - s) * 3) as u64));
            match (s, stage) {
                (2, "sort") => Outcome::Failed("exit status 2".into()),
                (3, _) => Outcome::Failed("killed by signal 9".into()),
                (4, "detect") => Outcome::Cached,
                _ => Outcome::Done,
            }
        };
        let seen = AtomicUsize::new(0);
        let count = |_: &StageResult| {
            seen.fetch_add(1, Ordering::Relaxed);
        };
        let one = run_sessions(&sessions, &stages, 1, &exec, &count);
        let three = run_sessions(&sessions, &stages, 3, &exec, &count);
        assert_eq!(one, three);
        assert_eq!(seen.load(Ordering::Relaxed), 2 * one.len());
        let of = |s: usize, st: &str| one.iter().find(|r| r.session == s && r.stage == st).unwrap().outcome.clone();
        assert_eq!(of(2, "detect"), Outcome::Done);
        assert_eq!(of(2, "sort"), Outcome::Failed("exit status 2".into()));
        assert_eq!(of(2, "bursts"), Outcome::Skipped("sort failed".into()));
        assert_eq!(of(3, "epsc"), Outcome::Failed("killed by signal 9".into()));
        assert_eq!(of(4, "detect"), Outcome::Cached);
        assert_eq!(of(4, "bursts"), Outcome::Done);
        assert_eq!(of(6, "bursts"), Outcome::Done);
        assert_eq!(one.len(), 4 * 3 + 3);
        assert!(one.windows(2).all(|w| w[0].session <= w[1].session));
    }

    #[test]
    fn shards_partition_the_sessions() {
        for n in 1..5 {
            let mut all: Vec<usize> = (0..n).flat_map(|i| shard(10, i, n)).collect();
            all.sort_unstable();
            assert_eq!(all, (0..10).collect::<Vec<_>>());
        }
        assert!(shard(10, 3, 3).is_empty() && shard(10, 0, 0).is_empty());
    }
}
