//! A bound on how long a call into the HDF5 library may take.
//!
//! The C library cannot be interrupted: on some malformed files (a corrupt
//! global heap, a cyclic B-tree) it loops forever. [`install`] starts a thread
//! that watches every reader call ([`Recording`](crate::Recording) methods and
//! block reads); when one has not returned within the limit, the handler is
//! called with a description of the call (`FILE: reading /units`). The
//! command line's handler prints one error line, removes unfinished outputs
//! and exits with code 2. Without [`install`], nothing is watched (a library
//! caller that runs readers in worker processes bounds them itself).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

static INSTALLED: AtomicBool = AtomicBool::new(false);
static NEXT: AtomicU64 = AtomicU64::new(0);
static ACTIVE: Mutex<BTreeMap<u64, (Instant, String)>> = Mutex::new(BTreeMap::new());
/// What to do when a call hangs: (limit, handler).
type Handler = (Duration, Box<dyn Fn(&str, Duration) + Send + Sync>);
static HANDLER: OnceLock<Handler> = OnceLock::new();

/// Watches reader calls from now on; `on_hang(what, limit)` is called (once,
/// from the watchdog thread) for a call still running after `limit`.
/// Installing twice keeps the first handler.
pub fn install(limit: Duration, on_hang: impl Fn(&str, Duration) + Send + Sync + 'static) {
    if HANDLER.set((limit, Box::new(on_hang))).is_err() {
        return;
    }
    INSTALLED.store(true, Ordering::Release);
    let tick = (limit / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let spawned = std::thread::Builder::new().name("hdf5-watchdog".into()).spawn(move || {
        loop {
            std::thread::sleep(tick);
            let stuck = ACTIVE
                .lock()
                .ok()
                .and_then(|a| a.values().find(|(t0, _)| t0.elapsed() > limit).map(|(_, what)| what.clone()));
            if let (Some(what), Some((limit, handler))) = (stuck, HANDLER.get()) {
                handler(&what, *limit);
                return;
            }
        }
    });
    if spawned.is_err() {
        INSTALLED.store(false, Ordering::Release);
    }
}

/// A watched call: registered on creation, released on drop.
#[derive(Debug)]
pub(crate) struct Guard(Option<u64>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(id) = self.0
            && let Ok(mut a) = ACTIVE.lock()
        {
            a.remove(&id);
        }
    }
}

/// Starts watching a call described by `what` (only evaluated when watching).
pub(crate) fn guard(what: impl FnOnce() -> String) -> Guard {
    if !INSTALLED.load(Ordering::Acquire) {
        return Guard(None);
    }
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut a) = ACTIVE.lock() {
        a.insert(id, (Instant::now(), what()));
    }
    Guard(Some(id))
}
