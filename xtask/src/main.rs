//! `cargo xtask demo` and `cargo xtask test`: the README's two commands.
//!
//! Both first make sure a cmake >= 3.26 is there to build the bundled HDF5 2.x
//! (installing it from PyPI with `pip install --user cmake` when missing;
//! nothing needs root), then run the pipeline or the test suite with cargo.
//! This crate uses only the standard library, so it builds on a machine that
//! has nothing but the Rust toolchain.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <command> [args...]

commands:
  demo [burstscope demo args]   install prerequisites, then run the whole pipeline on a synthetic dataset (out/demo)
  test [cargo test args]        install prerequisites, then run every test of the workspace
  deps                          only install prerequisites (cmake >= 3.26 for the bundled HDF5)
  bench-detect [--long] [--runs N]
                                whole-program benchmark of `burstscope detect` on generated 300 s,
                                32-channel, 30 kHz sessions (plain, plain without waveforms.h5
                                as SpikeInterface writes peaks only, and gzip), side by side with
                                SpikeInterface when ../shared/tools/peer-env is available, with peak
                                memory (and 1200 s with --long); results in target/bench/";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "deps" => ensure_hdf5(),
        "demo" => ensure_hdf5().and_then(|()| demo(rest)),
        "test" => ensure_hdf5().and_then(|()| test(rest)),
        "bench-detect" => ensure_hdf5().and_then(|()| bench_detect(rest)),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command '{other}'\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(workspace_root());
    CHILD_ENV.with_borrow(|e| {
        for (k, v) in e {
            c.env(k, v);
        }
    });
    // `cargo run` gave this process the variables of the xtask package; build
    // scripts that watch them (ring's watches CARGO_MANIFEST_DIR) would see a
    // change and rebuild half the tree (polars with it) whenever a plain
    // `cargo build` or `cargo test` alternates with `cargo xtask`.
    for (k, _) in env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&k.as_ref())
        {
            c.env_remove(k.as_ref());
        }
    }
    c
}

fn run(mut c: Command) -> Result<(), String> {
    let status = c.status().map_err(|e| format!("cannot run {c:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{c:?} failed ({status})")) }
}

fn demo(args: &[String]) -> Result<(), String> {
    let mut c = cargo();
    c.args(["run", "--quiet", "--package", "burstscope", "--bin", "burstscope", "--", "demo"]);
    if !args.iter().any(|a| a == "--out") {
        c.args(["--out", "out/demo"]);
    }
    c.args(args);
    run(c)
}

fn test(args: &[String]) -> Result<(), String> {
    let mut c = cargo();
    c.args(["test", "--workspace"]);
    c.args(args);
    // The pynwb round-trip test uses this Python; `../shared/tools/peer-env` makes one.
    if env::var_os("BURSTSCOPE_PYTHON").is_none()
        && let Some(home) = env::var_os("HOME")
    {
        let py = Path::new(&home).join(".cache/burstscope-peer-env/bin/python");
        if py.exists() {
            c.env("BURSTSCOPE_PYTHON", py);
        }
    }
    run(c)
}

fn bench_detect(args: &[String]) -> Result<(), String> {
    let long = args.iter().any(|a| a == "--long");
    let runs =
        args.iter().position(|a| a == "--runs").and_then(|i| args.get(i + 1)).map_or("5".to_string(), Clone::clone);
    let root = workspace_root();
    let mut c = cargo();
    c.args(["build", "--release", "--package", "burstscope", "--bin", "burstscope"]);
    run(c)?;
    let bin = root.join("target/release/burstscope");
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut sessions = vec![("session300.nwb", "300", "0"), ("session300-gzip.nwb", "300", "4")];
    if long {
        sessions.push(("session1200.nwb", "1200", "0"));
    }
    for (name, secs, gzip) in &sessions {
        let p = dir.join(name);
        if !p.exists() {
            let mut g = Command::new(&bin);
            g.args([
                "generate",
                "tetrode",
                "--tetrodes",
                "8",
                "--duration",
                secs,
                "--gzip",
                gzip,
                "--seed",
                "1",
                "--out",
            ])
            .arg(&p);
            run(g)?;
        }
        // Page cache warm, as for the reference figures.
        let _ = std::fs::read(&p);
    }
    let detect = |name: &str| {
        format!("{} detect {} --out {}", bin.display(), dir.join(name).display(), dir.join("out").display())
    };
    // 2 threads (the default on this machine) and 1 pinned to one core (the
    // hashing thread shares it), for the scaling figures
    let one_core = |name: &str| {
        let pin = if have("taskset") { "taskset -c 0 " } else { "" };
        format!("{pin}{} --threads 1", detect(name))
    };
    if !have("taskset") {
        eprintln!("xtask: taskset not found (Debian: util-linux); the 1-thread runs are not pinned to one core");
    }
    // Like for like with SpikeInterface's script, which writes the peaks only:
    // the spikes table and the record, no waveforms.h5.
    let peaks_only = format!(
        "{} detect {} --out {} --no-waveforms",
        bin.display(),
        dir.join("session300.nwb").display(),
        dir.join("out-peaks").display()
    );
    let mut cmds = vec![
        detect("session300.nwb"),
        peaks_only,
        one_core("session300.nwb"),
        detect("session300-gzip.nwb"),
        one_core("session300-gzip.nwb"),
    ];
    let peer = root.join("../shared/tools/peer-env");
    let si_script = root.join("../shared/tools/spikeinterface_detect.py");
    if peer.exists() && si_script.exists() {
        match Command::new("bash").arg(&peer).output() {
            Ok(o) if o.status.success() => {
                let py = format!("{}/bin/python", String::from_utf8_lossy(&o.stdout).trim());
                cmds.push(format!(
                    "{py} {} {} {} --jobs 2",
                    si_script.display(),
                    dir.join("session300.nwb").display(),
                    dir.join("si_peaks.csv").display()
                ));
            }
            _ => eprintln!("xtask: peer environment unavailable; benchmarking burstscope alone"),
        }
    }
    if have("hyperfine") {
        let mut h = Command::new("hyperfine");
        h.args(["-N", "--warmup", "1", "--runs", &runs, "--export-markdown"]).arg(dir.join("detect.md"));
        h.args(&cmds);
        run(h)?;
    } else {
        eprintln!("xtask: hyperfine not found (Debian: apt-get install hyperfine); timing once each");
        for cmd in &cmds {
            let t = std::time::Instant::now();
            let mut parts = cmd.split_whitespace();
            let mut r = Command::new(parts.next().unwrap_or_default());
            r.args(parts);
            run(r)?;
            println!("{:.3} s  {cmd}", t.elapsed().as_secs_f64());
        }
    }
    let memory: Vec<&str> = sessions.iter().filter(|s| s.2 == "0").map(|s| s.0).collect();
    if Path::new("/usr/bin/time").exists() {
        for name in memory {
            let out = Command::new("/usr/bin/time")
                .args(["-f", "%e s wall, %M KB peak RSS"])
                .args(detect(name).split_whitespace())
                .output()
                .map_err(|e| format!("/usr/bin/time: {e}"))?;
            let err = String::from_utf8_lossy(&out.stderr);
            println!("{name}: {}", err.lines().last().unwrap_or_default());
        }
    } else {
        eprintln!("xtask: /usr/bin/time not found (Debian: apt-get install time); peak memory not measured");
    }
    println!("results: {}", dir.join("detect.md").display());
    Ok(())
}

/// The version `cmake --version` prints, as (major, minor).
fn cmake_version(cmake: &str) -> Option<(u32, u32)> {
    let out = Command::new(cmake).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.split_whitespace().nth(2)?;
    let mut it = v.split('.').map(|x| x.parse::<u32>().ok());
    Some((it.next()??, it.next()??))
}

/// A cmake new enough to build the bundled HDF5 2.x (>= 3.26): the one on
/// PATH, `$CMAKE`, or one installed now from PyPI (`pip install --user cmake`).
/// Returns the path to pass to the build as `CMAKE`.
fn ensure_cmake() -> Result<String, String> {
    let ok = |c: &str| cmake_version(c).is_some_and(|v| v >= (3, 26));
    if let Ok(c) = env::var("CMAKE")
        && ok(&c)
    {
        return Ok(c);
    }
    let home = env::var("HOME").unwrap_or_default();
    let user = format!("{home}/.local/bin/cmake");
    for c in ["cmake", user.as_str()] {
        if ok(c) {
            return Ok(c.to_string());
        }
    }
    eprintln!("xtask: building HDF5 2.x needs cmake >= 3.26; installing it from PyPI (pip install --user cmake)");
    for py in ["python3", "python"] {
        let status = Command::new(py)
            .args(["-m", "pip", "install", "--user", "--quiet", "--disable-pip-version-check", "cmake>=3.26"])
            .status();
        if status.is_ok_and(|s| s.success()) {
            break;
        }
    }
    // pip's scripts go to ~/.local/bin, or beside the interpreter in a venv/pyenv.
    let mut candidates = vec![user.clone(), "cmake".to_string()];
    if let Ok(o) =
        Command::new("python3").args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"]).output()
    {
        candidates.push(format!("{}/cmake", String::from_utf8_lossy(&o.stdout).trim()));
    }
    candidates.into_iter().find(|c| ok(c)).ok_or_else(|| {
        "building HDF5 2.x needs cmake >= 3.26 and it could not be installed; run `pip install cmake` \
         (or install cmake >= 3.26 another way and set CMAKE=/path/to/cmake), or build against the \
         system libhdf5 with `--no-default-features` on burstscope-io"
            .to_string()
    })
}

fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")]).status().is_ok_and(|s| s.success())
}

/// Prerequisites of the build: a cmake for the bundled HDF5 (and a C
/// compiler, which the Rust toolchain's machines have). Sets `CMAKE` for the
/// cargo processes started from here.
fn ensure_hdf5() -> Result<(), String> {
    let cmake = ensure_cmake()?;
    child_env("CMAKE", &cmake);
    Ok(())
}

/// Records a variable for the cargo commands this process starts.
fn child_env(key: &str, value: &str) {
    CHILD_ENV.with_borrow_mut(|e| e.push((key.to_string(), value.to_string())));
}

thread_local! {
    static CHILD_ENV: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
}
