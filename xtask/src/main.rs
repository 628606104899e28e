//! `cargo xtask demo` and `cargo xtask test`: the README's two commands.
//!
//! Both first make sure the HDF5 C library and headers are present (on Debian
//! or Ubuntu: `apt-get install -y libhdf5-dev pkg-config`, through `sudo -n`
//! when not root so it never waits at a password prompt; elsewhere the exact
//! command is printed), then run the pipeline or the test suite with cargo.
//! This crate uses only the standard library, so it builds on a machine that
//! has nothing but the Rust toolchain.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <command> [args...]

commands:
  demo [burstscope demo args]   install prerequisites, then run the whole pipeline on a synthetic dataset (out/demo)
  test [cargo test args]        install prerequisites, then run every test of the workspace
  deps                          only install prerequisites (libhdf5-dev)
  bench-detect [--long] [--runs N]
                                whole-program benchmark of `burstscope detect` on generated 300 s,
                                32-channel, 30 kHz sessions (plain and gzip), side by side with
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
    let mut cmds = vec![detect("session300.nwb"), detect("session300-gzip.nwb")];
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

/// True when the HDF5 headers can be found the way hdf5-metno-sys looks for them.
fn hdf5_present() -> bool {
    if env::var_os("HDF5_DIR").is_some() {
        return true;
    }
    if Command::new("pkg-config").args(["--exists", "hdf5"]).status().is_ok_and(|s| s.success()) {
        return true;
    }
    [
        "/usr/include/hdf5/serial/hdf5.h",
        "/usr/include/hdf5.h",
        "/usr/local/include/hdf5.h",
        "/opt/homebrew/include/hdf5.h",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")]).status().is_ok_and(|s| s.success())
}

fn ensure_hdf5() -> Result<(), String> {
    if hdf5_present() {
        return Ok(());
    }
    let packages = ["libhdf5-dev", "pkg-config"];
    if cfg!(target_os = "linux") && have("apt-get") {
        eprintln!("xtask: the HDF5 C library is missing; installing {} with apt-get", packages.join(" "));
        let prefix: Vec<&str> = if is_root() {
            vec![]
        } else if have("sudo") && Command::new("sudo").args(["-n", "true"]).status().is_ok_and(|s| s.success()) {
            vec!["sudo", "-n"]
        } else {
            return Err(format!(
                "the HDF5 C library is missing and this user cannot install it without a password; run:\n  sudo apt-get update && sudo apt-get install -y {}",
                packages.join(" ")
            ));
        };
        let apt = |args: &[&str]| {
            let mut all: Vec<&str> = prefix.clone();
            all.push("apt-get");
            all.extend_from_slice(args);
            let mut c = Command::new(all[0]);
            c.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
            run(c)
        };
        apt(&["update", "-qq"])?;
        apt(&[&["install", "-y", "-qq", "--no-install-recommends"][..], &packages[..]].concat())?;
        if hdf5_present() {
            return Ok(());
        }
        return Err("libhdf5-dev was installed but its headers are still not found".into());
    }
    let hint = if cfg!(target_os = "macos") {
        "brew install hdf5 pkg-config"
    } else if have("dnf") {
        "sudo dnf install -y hdf5-devel pkgconf"
    } else if have("pacman") {
        "sudo pacman -S hdf5 pkgconf"
    } else {
        "install the HDF5 C library (>= 1.10) with headers, or set HDF5_DIR to its prefix"
    };
    Err(format!("the HDF5 C library is missing; run:\n  {hint}"))
}
