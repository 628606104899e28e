//! `burstscope batch slurm --submit` against a real single-node SLURM: the
//! test starts `munged`, `slurmctld` and `slurmd` in a temporary folder (its
//! own munge socket and key, its own ports, no system state touched),
//! submits the array and merge jobs for a small generated study, waits for
//! them and compares the dataset with a local `--jobs 2` run, byte for byte.
//!
//! It runs under CI (which installs `slurm-wlm` and `munge`) or when
//! `BURSTSCOPE_SLURM_TEST` is set, as root (slurmd starts jobs as their
//! user); elsewhere it says it was skipped.

use crate::util::bin;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn which(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/bin", "/sbin"].map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The daemons of one test cluster; stopped when dropped.
struct Cluster {
    conf: PathBuf,
    children: Vec<Child>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // slurmctld and slurmd stop on `scontrol shutdown`; munged on SIGTERM.
        let _ = Command::new("scontrol").arg("shutdown").env("SLURM_CONF", &self.conf).output();
        let until = Instant::now() + Duration::from_secs(10);
        // slurmd and slurmctld first (they need munged to shut down), munged last.
        for (i, c) in self.children.iter_mut().enumerate().rev() {
            while i > 0 && Instant::now() < until && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

fn spawn(dir: &Path, name: &str, cmd: &mut Command) -> Child {
    let log = std::fs::File::create(dir.join(format!("{name}.out"))).unwrap();
    cmd.stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn slurm_env<'a>(cmd: &'a mut Command, conf: &Path) -> &'a mut Command {
    cmd.env("SLURM_CONF", conf)
}

/// Starts a one-node cluster in `dir`.
fn start(dir: &Path) -> Cluster {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A fresh munge key (munged wants it private to its user).
    let key = dir.join("munge.key");
    let mut bytes = vec![0u8; 128];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut bytes).unwrap();
    std::fs::write(&key, &bytes).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let socket = dir.join("munge.sock");
    let mut children = Vec::new();
    children.push(spawn(
        dir,
        "munged",
        Command::new(which("munged").unwrap())
            .args(["--foreground", "--force"])
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--key-file={}", key.display()))
            .arg(format!("--pid-file={}", dir.join("munged.pid").display()))
            .arg(format!("--log-file={}", dir.join("munged.log").display()))
            .arg(format!("--seed-file={}", dir.join("munged.seed").display())),
    ));
    let until = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(
            Instant::now() < until,
            "munged did not start: {}",
            std::fs::read_to_string(dir.join("munged.out")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    for d in ["state", "spool"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let p = |f: &str| dir.join(f).display().to_string();
    let conf = dir.join("slurm.conf");
    std::fs::write(
        &conf,
        format!(
            "ClusterName=burstscope-test\nSlurmctldHost=localhost\nSlurmUser=root\nSlurmdUser=root\n\
             AuthType=auth/munge\nAuthInfo=socket={}\nSlurmctldPort=16817\nSlurmdPort=16818\n\
             StateSaveLocation={}\nSlurmdSpoolDir={}\nSlurmctldPidFile={}\nSlurmdPidFile={}\n\
             SlurmctldLogFile={}\nSlurmdLogFile={}\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSchedulerType=sched/backfill\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\nReturnToService=2\nMpiDefault=none\n\
             JobAcctGatherType=jobacct_gather/none\n\
             NodeName=localhost CPUs={cpus} RealMemory=2000 State=UNKNOWN\n\
             PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n",
            socket.display(),
            p("state"),
            p("spool"),
            p("slurmctld.pid"),
            p("slurmd.pid"),
            p("slurmctld.log"),
            p("slurmd.log"),
        ),
    )
    .unwrap();
    children.push(spawn(dir, "slurmctld", slurm_env(Command::new(which("slurmctld").unwrap()).arg("-D"), &conf)));
    children.push(spawn(dir, "slurmd", slurm_env(Command::new(which("slurmd").unwrap()).arg("-D"), &conf)));
    let cluster = Cluster { conf, children };
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let o = slurm_env(Command::new("sinfo").args(["-h", "-o", "%t"]), &cluster.conf).output().unwrap();
        if String::from_utf8_lossy(&o.stdout).trim() == "idle" {
            break;
        }
        assert!(
            Instant::now() < until,
            "the node never became idle: {} {}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(dir.join("slurmd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    cluster
}

#[test]
fn a_slurm_array_and_its_merge_equal_a_local_run() {
    if std::env::var_os("CI").is_none() && std::env::var_os("BURSTSCOPE_SLURM_TEST").is_none() {
        eprintln!("slurm: skipped (set BURSTSCOPE_SLURM_TEST=1 to start a test cluster; CI always does)");
        return;
    }
    let missing: Vec<&str> = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol"]
        .into_iter()
        .filter(|b| which(b).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "SLURM test: {missing:?} not installed (apt-get install slurm-wlm munge; .ci/run does)"
    );
    assert!(rustix::process::geteuid().is_root(), "SLURM test: slurmd must run as root");
    let dir = tempfile::tempdir().unwrap();
    let cluster_dir = dir.path().join("cluster");
    std::fs::create_dir_all(&cluster_dir).unwrap();
    let cluster = start(&cluster_dir);
    let study = dir.path().join("study");
    let g = bin()
        .args(["generate", "dataset", "--out"])
        .arg(&study)
        .args(["--animals", "4", "--sessions", "1", "--duration", "300", "--tetrodes", "1", "--slice-animals", "1"])
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let manifest = study.join("manifest.csv");
    let shared = dir.path().join("shared");
    let s = bin()
        .env("SLURM_CONF", &cluster.conf)
        .args(["batch", "slurm"])
        .arg(&manifest)
        .arg("--out")
        .arg(&shared)
        .args(["--array", "3", "--cpus", "1", "--mem", "500M", "--time", "00:10:00", "--submit"])
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let ids = String::from_utf8_lossy(&s.stdout).trim().to_string();
    let (array, merge) = ids.split_once('\t').unwrap_or_else(|| panic!("job ids: {ids:?}"));
    // Wait for both jobs to leave the queue.
    let until = Instant::now() + Duration::from_secs(600);
    loop {
        let q = slurm_env(
            Command::new("squeue").args(["-h", "-o", "%i %T", "-j"]).arg(format!("{array},{merge}")),
            &cluster.conf,
        )
        .output()
        .unwrap();
        let text = String::from_utf8_lossy(&q.stdout).to_string();
        if text.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < until, "jobs still queued after 10 min: {text}");
        std::thread::sleep(Duration::from_millis(500));
    }
    // Every task ran its shard; the merge ran after them.
    for i in 0..3 {
        let status = shared.join(format!("batch-shard-{i}-of-3.json"));
        let log = std::fs::read_to_string(shared.join(format!("slurm/task-{i}.log"))).unwrap_or_default();
        assert!(status.is_file(), "task {i} wrote no status: {log}");
    }
    let merge_log = std::fs::read_to_string(shared.join("slurm/merge.log")).unwrap_or_default();
    assert!(shared.join("dataset/dataset.json").is_file(), "the merge job ran: {merge_log}");
    let counts = merge_log
        .split("batch merge: ")
        .nth(1)
        .and_then(|r| r.split(" session stages complete").next())
        .unwrap_or_else(|| panic!("merge log: {merge_log}"));
    let (done, total) = counts.split_once(" of ").unwrap();
    assert!(done == total && done != "0", "every session stage completed before the merge: {counts}");
    // The same study on one machine.
    let local = dir.path().join("local");
    let l = bin().arg("batch").arg(&manifest).arg("--out").arg(&local).args(["--jobs", "2"]).output().unwrap();
    assert!(l.status.success(), "{}", String::from_utf8_lossy(&l.stderr));
    for t in ["unit_metrics", "bursts", "time_course", "epsc_cells", "epsc_sweeps", "stats"] {
        let f = format!("dataset/{t}.parquet");
        let (a, b) = (std::fs::read(shared.join(&f)).unwrap(), std::fs::read(local.join(&f)).unwrap());
        assert!(a == b, "{t}: the SLURM run differs from the local run");
    }
    assert_eq!(
        std::fs::read(shared.join("dataset/report.html")).unwrap(),
        std::fs::read(local.join("dataset/report.html")).unwrap(),
        "report"
    );
    drop(cluster);
}
