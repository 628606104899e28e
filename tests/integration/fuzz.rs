//! The mutation harness: seeded byte-level corruptions of the fixtures (bit
//! flips in the HDF5 superblock and object headers, truncations, zeroed and
//! duplicated 4 KiB pages), each run through `inspect` and an analysis
//! command in a child process. A case fails on a signal (a crash), a panic, a
//! hang (no exit within the limit), an exit code other than 0/1/2, or an
//! output table left behind by a run that failed.
//!
//! `cargo test` runs `BURSTSCOPE_FUZZ_CASES` cases (default 500) from seed
//! `BURSTSCOPE_FUZZ_SEED` (default 1); `BURSTSCOPE_FUZZ_ONLY=3,17` reruns
//! chosen cases; failing inputs are kept in `target/fuzz-failures/`.
//! `docs/robustness.md` gives the long run.

use crate::util::{bin_std, fixture};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// SplitMix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// How a file is corrupted.
#[derive(Debug, Clone, Copy)]
enum Mutation {
    HeaderBits,
    AnyBits,
    Truncate,
    ZeroPage,
    DuplicatePage,
}

fn mutate(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    let mut b = bytes.to_vec();
    let kind = [
        Mutation::HeaderBits,
        Mutation::HeaderBits,
        Mutation::AnyBits,
        Mutation::Truncate,
        Mutation::ZeroPage,
        Mutation::DuplicatePage,
    ][rng.below(6)];
    let page = 4096;
    let pages = b.len().div_ceil(page);
    let what = match kind {
        Mutation::HeaderBits => {
            // The superblock and the root group's object headers live in the
            // first pages; metadata elsewhere is reached from them.
            let span = b.len().min(4 * page);
            let n = 1 + rng.below(8);
            for _ in 0..n {
                let i = rng.below(span);
                b[i] ^= 1 << rng.below(8);
            }
            format!("{n} bit flips in the first {span} bytes")
        }
        Mutation::AnyBits => {
            let n = 1 + rng.below(32);
            for _ in 0..n {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            format!("{n} bit flips anywhere")
        }
        Mutation::Truncate => {
            let at = rng.below(b.len());
            b.truncate(at);
            format!("truncated to {at} bytes")
        }
        Mutation::ZeroPage => {
            let p = rng.below(pages);
            let end = ((p + 1) * page).min(b.len());
            b[p * page..end].fill(0);
            format!("page {p} zeroed")
        }
        Mutation::DuplicatePage => {
            let (from, to) = (rng.below(pages), rng.below(pages));
            let src: Vec<u8> = b[from * page..((from + 1) * page).min(b.len())].to_vec();
            let end = (to * page + src.len()).min(b.len());
            let n = end - to * page;
            b[to * page..end].copy_from_slice(&src[..n]);
            format!("page {from} copied over page {to}")
        }
    };
    (b, what)
}

/// One command to run on a mutated file.
struct Target {
    fixture: &'static str,
    command: &'static [&'static str],
}

const TARGETS: [Target; 4] = [
    Target { fixture: "tetrode_raw.nwb", command: &["detect", "--no-waveforms"] },
    Target { fixture: "lhb_units_ketamine.nwb", command: &["bursts", "--no-figures"] },
    Target { fixture: "slices/LHb_cell01.nwb", command: &["epsc", "--no-figures"] },
    Target { fixture: "bad/variants.nwb", command: &["inspect"] },
];

/// Waits for `child` up to `limit`; kills it after.
fn wait(mut child: Child, limit: Duration) -> Option<std::process::Output> {
    let t0 = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().ok(),
            Ok(None) if t0.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn spawn(args: &[&std::ffi::OsStr]) -> Child {
    let mut c = bin_std();
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped()).stdin(Stdio::null());
    // The reader watchdog's limit, well inside the harness's own.
    c.env("BURSTSCOPE_HDF5_TIMEOUT_S", "10");
    c.spawn().expect("spawn burstscope")
}

/// Runs one case; `Err` describes a failure.
fn run_case(dir: &Path, case: usize, rng: &mut Rng, originals: &[Vec<u8>], limit: Duration) -> Result<(), String> {
    let t = case % TARGETS.len();
    let target = &TARGETS[t];
    let (bytes, what) = mutate(&originals[t], rng);
    let file = dir.join(format!("case{case}.nwb"));
    std::fs::write(&file, &bytes).map_err(|e| e.to_string())?;
    let out = dir.join(format!("out{case}"));
    let mut runs: Vec<Vec<&std::ffi::OsStr>> = vec![vec!["inspect".as_ref(), file.as_os_str()]];
    if target.command[0] != "inspect" {
        let mut a: Vec<&std::ffi::OsStr> =
            vec![target.command[0].as_ref(), file.as_os_str(), "--out".as_ref(), out.as_os_str()];
        a.extend(target.command[1..].iter().map(|s| std::ffi::OsStr::new(*s)));
        runs.push(a);
    }
    let keep = |why: String| -> String {
        // Keep the failing file for a look (target/fuzz-failures/).
        let dest = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dest);
        let _ = std::fs::write(dest.join(format!("case{case}-{}", target.fixture.replace('/', "_"))), &bytes);
        why
    };
    for args in runs {
        let label = format!("case {case} ({}, {what}): burstscope {:?}", target.fixture, args[0]);
        let Some(o) = wait(spawn(&args), limit) else {
            return Err(keep(format!("{label}: hung for more than {} s", limit.as_secs())));
        };
        let err = String::from_utf8_lossy(&o.stderr);
        if let Some(sig) = o.status.signal() {
            return Err(keep(format!("{label}: killed by signal {sig}; stderr: {err}")));
        }
        if err.contains("panicked") || err.contains("(panic)") {
            return Err(keep(format!("{label}: panicked: {err}")));
        }
        match o.status.code() {
            Some(0 | 1) => {}
            Some(2) => {
                if err.trim().is_empty() {
                    return Err(keep(format!("{label}: exit 2 without a message")));
                }
                if out.exists() && std::fs::read_dir(&out).map(|mut d| d.next().is_some()).unwrap_or(false) {
                    return Err(keep(format!("{label}: failed but left {} behind", out.display())));
                }
            }
            other => return Err(keep(format!("{label}: exit code {other:?}; stderr: {err}"))),
        }
    }
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_dir_all(&out);
    // Staging folders of a failed run must be gone too.
    let mine = format!(".out{case}{}", burstscope_core::TEMP_MARKER);
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        if e.file_name().to_string_lossy().starts_with(&mine) {
            return Err(format!("case {case}: temporary {} left behind", e.path().display()));
        }
    }
    Ok(())
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn mutated_fixtures_never_crash_hang_or_panic() {
    let cases = env_usize("BURSTSCOPE_FUZZ_CASES", 500);
    let seed = env_usize("BURSTSCOPE_FUZZ_SEED", 1) as u64;
    let limit = Duration::from_secs(env_usize("BURSTSCOPE_FUZZ_TIMEOUT_S", 60) as u64);
    let originals: Vec<Vec<u8>> = TARGETS.iter().map(|t| std::fs::read(fixture(t.fixture)).unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let originals = &originals;
                let dir: PathBuf = dir.path().to_path_buf();
                s.spawn(move || {
                    let mut failed = Vec::new();
                    let only: Option<Vec<usize>> = std::env::var("BURSTSCOPE_FUZZ_ONLY")
                        .ok()
                        .map(|v| v.split(',').filter_map(|c| c.trim().parse().ok()).collect());
                    for case in (w..cases).step_by(workers) {
                        if only.as_ref().is_some_and(|o| !o.contains(&case)) {
                            continue;
                        }
                        // Each case has its own stream, so results do not depend on the worker count.
                        let mut rng = Rng(seed.wrapping_mul(1_000_003).wrapping_add(case as u64));
                        if let Err(e) = run_case(&dir, case, &mut rng, originals, limit) {
                            failed.push(e);
                        }
                    }
                    failed
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n"));
}
