//! `burstscope batch`: every session of a manifest through its stages, each
//! stage in a worker process of its own (this program, run as that stage's
//! subcommand), reusing what the cache says is done, so a rerun redoes only
//! what changed and one failing session never stops the others.

use crate::Outcome as Exit;
use crate::args::{BatchAction, BatchArgs, BatchSlurmArgs};
use anyhow::{Context, Result, bail};
use burstscope_batch::cache::{Lock, StageKey, Status, mark_done, mark_failed, status};
use burstscope_batch::report::NotDone;
use burstscope_batch::run::{Outcome, StageResult, run_sessions, shard};
use burstscope_batch::worker::run_process;
use burstscope_batch::{Kind, Manifest, Session};
use burstscope_core::InputIdentity;
use burstscope_pipeline::{
    BURSTS_STAGE, BurstsConfig, DETECT_STAGE, DetectConfig, EPSC_STAGE, EpscConfig, SORT_STAGE, SortConfig, Stage,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Sections a dataset config may have: one per stage.
const SECTIONS: [&str; 4] = ["detect", "sort", "bursts", "epsc"];

/// How long a lock may go untouched before its worker counts as dead.
const LOCK_STALE: Duration = Duration::from_secs(120);

/// One session stage, planned.
struct Planned {
    stage: Stage,
    /// The stage's config, validated, as TOML for the worker.
    config_toml: String,
    /// Its cache key digest.
    key: String,
    /// Input the worker reads.
    input: PathBuf,
    /// Output folder.
    dir: PathBuf,
    status: Status,
    /// `--force` applies: recompute even if cached.
    forced: bool,
}

fn stage_of(name: &str) -> Stage {
    match name {
        "detect" => DETECT_STAGE,
        "sort" => SORT_STAGE,
        "bursts" => BURSTS_STAGE,
        _ => EPSC_STAGE,
    }
}

/// Tables merged: the session's value wins, key by key, at every depth.
fn merge_tables(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn parse_toml(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))
}

/// A dataset config: only stage tables.
fn check_sections(path: &Path, t: toml::Table) -> Result<toml::Table> {
    if let Some(k) = t.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        bail!("{}: unknown section {k:?}; expected [detect], [sort], [bursts] or [epsc]", path.display());
    }
    Ok(t)
}

fn read_table(path: &Path) -> Result<toml::Table> {
    check_sections(path, parse_toml(path)?)
}

/// A session's config: a dataset config (stage tables), or — for a session
/// with one stage (units: bursts; slice: epsc) — that stage's own settings
/// file, as its command's --config takes it.
fn session_table(path: &Path, s: &Session) -> Result<toml::Table> {
    let ctx = || format!("session {} (line {})", s.session, s.line);
    let t = parse_toml(path).with_context(ctx)?;
    let sectioned = t.keys().any(|k| SECTIONS.contains(&k.as_str()));
    match s.kind.stages() {
        [only] if !sectioned => Ok(toml::Table::from_iter([((*only).to_string(), toml::Value::Table(t))])),
        _ => check_sections(path, t).with_context(ctx),
    }
}

/// Content hashes of a file, or of every file under a folder (sorted by path).
fn content(path: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).with_context(|| format!("{}: cannot read", p.display()))? {
                stack.push(e?.path());
            }
        } else {
            files.push(p);
        }
    }
    files.sort();
    files
        .iter()
        .map(|f| {
            InputIdentity::of(f)
                .map(|i| format!("{}:{}", f.strip_prefix(path).unwrap_or(f).display(), i.content_hash))
                .with_context(|| format!("{}: cannot read", f.display()))
        })
        .collect()
}

/// Validates a stage's section and returns (config JSON for the key, TOML for the worker).
fn stage_config(stage: &str, mut section: toml::Table, s: &Session) -> Result<(serde_json::Value, String)> {
    if stage == "bursts"
        && let Some(t) = s.drug_at_s
    {
        let w = section.entry("windows").or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(w) = w {
            w.insert("drug_at_s".into(), toml::Value::Float(t));
        }
    }
    let value = toml::Value::Table(section.clone());
    let what = || format!("session {} (line {}): [{stage}] settings", s.session, s.line);
    let json = match stage {
        "detect" => serde_json::to_value(value.try_into::<DetectConfig>().with_context(what)?),
        "sort" => serde_json::to_value(value.try_into::<SortConfig>().with_context(what)?),
        "bursts" => serde_json::to_value(value.try_into::<BurstsConfig>().with_context(what)?),
        _ => serde_json::to_value(value.try_into::<EpscConfig>().with_context(what)?),
    }?;
    Ok((json, toml::to_string(&section)?))
}

/// Plans every stage of every session: configs validated, keys computed,
/// cache consulted. Any invalid config is an error before anything runs.
fn plan(m: &Manifest, dataset: &toml::Table, out: &Path, force: Option<&str>) -> Result<Vec<Vec<Planned>>> {
    let mut all = Vec::new();
    for s in &m.sessions {
        let mut cfg = dataset.clone();
        if let Some(p) = &s.config {
            merge_tables(&mut cfg, &session_table(p, s)?);
        }
        let inputs = content(&s.path).with_context(|| format!("session {} (line {})", s.session, s.line))?;
        let mut planned: Vec<Planned> = Vec::new();
        let mut forced = force == Some("all");
        for &name in s.kind.stages() {
            let stage = stage_of(name);
            let section = match cfg.get(name) {
                Some(toml::Value::Table(t)) => t.clone(),
                Some(_) => bail!("[{name}] must be a table"),
                None => toml::Table::new(),
            };
            let (json, config_toml) = stage_config(name, section, s)?;
            let dir = out.join("sessions").join(&s.session).join(name);
            // bursts of a tetrode session reads the sort stage's units.
            let (input, key_inputs, upstream) = match (s.kind, name) {
                (Kind::Tetrode, "bursts") => {
                    let sort = planned.iter().find(|p| p.stage.name == "sort").map(|p| p.key.clone());
                    (
                        out.join("sessions").join(&s.session).join("sort/sorted.nwb"),
                        Vec::new(),
                        sort.into_iter().collect(),
                    )
                }
                _ => (s.path.clone(), inputs.clone(), Vec::new()),
            };
            let key = StageKey {
                stage: name.into(),
                algorithm_version: stage.algorithm_version,
                program_version: burstscope_core::program_version().into(),
                inputs: key_inputs,
                config: json,
                upstream,
            }
            .digest();
            forced |= force == Some(name);
            let status = if forced { Status::Run } else { status(&dir, &stage.record_name(), &key) };
            planned.push(Planned { stage, config_toml, key, input, dir, status, forced });
        }
        all.push(planned);
    }
    Ok(all)
}

/// The shard from `--shard I/N` or SLURM's array variables.
fn shard_of(a: &BatchArgs) -> Result<Option<(usize, usize)>> {
    let text = match &a.shard {
        Some(t) => t.clone(),
        None => match (std::env::var("SLURM_ARRAY_TASK_ID"), std::env::var("SLURM_ARRAY_TASK_COUNT")) {
            (Ok(i), Ok(n)) => format!("{i}/{n}"),
            _ => return Ok(None),
        },
    };
    let parsed = text.split_once('/').and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((i, n)) if n > 0 && i < n => Ok(Some((i, n))),
        _ => bail!("--shard {text:?}: expected I/N with 0 <= I < N"),
    }
}

/// Runs one planned stage in a worker process.
fn execute(exe: &Path, p: &Planned, timeout: Duration) -> Outcome {
    let session_dir = p.dir.parent().map_or_else(|| p.dir.clone(), Path::to_path_buf);
    let lock_path = session_dir.join(format!("{}.lock", p.stage.name));
    let lock = loop {
        match Lock::try_acquire(&lock_path, LOCK_STALE) {
            Ok(Some(l)) => break l,
            Ok(None) => std::thread::sleep(Duration::from_millis(500)),
            Err(e) => return Outcome::Failed(format!("{}: {e}", lock_path.display())),
        }
    };
    // Another worker may have finished it while this one waited.
    if !p.forced && status(&p.dir, &p.stage.record_name(), &p.key) == Status::Cached {
        return Outcome::Cached;
    }
    let cfg_path = session_dir.join(format!("{}.toml", p.stage.name));
    if let Err(e) = burstscope_core::write_file(&cfg_path, p.config_toml.as_bytes()) {
        return Outcome::Failed(format!("{}: {e}", cfg_path.display()));
    }
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(p.stage.name).arg(&p.input).arg("--out").arg(&p.dir).arg("--config").arg(&cfg_path);
    let log = session_dir.join(format!("{}.log", p.stage.name));
    let _ = std::fs::remove_file(&log);
    let outcome = run_process(&mut cmd, timeout, &log);
    let noted = match &outcome {
        Outcome::Done => mark_done(&p.dir, &p.key),
        Outcome::Failed(why) => mark_failed(&p.dir, &p.key, why),
        _ => Ok(()),
    };
    drop(lock);
    match noted {
        Err(e) => Outcome::Failed(format!("{}: cannot write the cache marker: {e}", p.dir.display())),
        Ok(()) => outcome,
    }
}

/// Where a batch folder records its manifest and dataset config, for
/// `batch merge` (every shard writes the same).
const PLAN_FILE: &str = "batch-plan.json";

fn absolute(p: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(p).with_context(|| format!("{}: cannot resolve", p.display()))
}

/// Runs `batch`, `batch slurm` or `batch merge`.
pub(crate) fn run(a: &BatchArgs) -> Result<Exit> {
    match &a.action {
        Some(BatchAction::Merge(m)) => merge(&m.dir),
        Some(BatchAction::Slurm(s)) => slurm(s),
        None => run_sessions_of(a),
    }
}

/// `batch merge DIR`: the dataset stage over every stage the cache says is done.
fn merge(dir: &Path) -> Result<Exit> {
    let plan_path = dir.join(PLAN_FILE);
    let text = std::fs::read_to_string(&plan_path)
        .with_context(|| format!("{}: cannot read (is {} a batch folder?)", plan_path.display(), dir.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not a batch plan", plan_path.display()))?;
    let manifest_path = v["manifest"].as_str().map(PathBuf::from).context("batch plan without a manifest")?;
    let manifest = Manifest::read(&manifest_path)?;
    let dataset = match v["config"].as_str() {
        Some(p) => read_table(Path::new(p))?,
        None => toml::Table::new(),
    };
    let plan = plan(&manifest, &dataset, dir, None)?;
    let done: Vec<(usize, &'static str)> = plan
        .iter()
        .enumerate()
        .flat_map(|(s, stages)| stages.iter().filter(|p| p.status == Status::Cached).map(move |p| (s, p.stage.name)))
        .collect();
    let not_done: Vec<NotDone> = plan
        .iter()
        .enumerate()
        .flat_map(|(s, stages)| {
            stages.iter().filter_map(move |p| {
                let reason = match &p.status {
                    Status::Cached => return None,
                    Status::FailedBefore(why) => why.clone(),
                    Status::Run => "not run (no completed output)".to_string(),
                };
                Some(NotDone { session: s, stage: p.stage.name.to_string(), reason })
            })
        })
        .collect();
    let total: usize = plan.iter().map(Vec::len).sum();
    eprintln!("batch merge: {} of {total} session stages complete", done.len());
    dataset_stage(&manifest, dir, &plan, &done, &not_done)?;
    Ok(if done.len() == total { Exit::Success } else { Exit::Partial })
}

/// Single-quoted for sh.
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// `batch slurm`: the array and merge scripts, submitted with --submit.
fn slurm(a: &BatchSlurmArgs) -> Result<Exit> {
    let manifest = Manifest::read(&a.manifest)?;
    let dataset = match &a.config {
        Some(p) => read_table(p)?,
        None => toml::Table::new(),
    };
    // Every config is checked here, before anything is queued.
    plan(&manifest, &dataset, &a.out, None)?;
    let n = a.array.unwrap_or_else(|| manifest.sessions.len().min(100)).clamp(1, manifest.sessions.len().max(1));
    std::fs::create_dir_all(a.out.join("slurm")).with_context(|| format!("{}: cannot create", a.out.display()))?;
    let out = absolute(&a.out)?;
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let header = |name: &str, log: &str, array: Option<usize>| {
        let mut h = format!(
            "#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --time={}\n#SBATCH --mem={}\n#SBATCH --cpus-per-task={}\n#SBATCH --output={}\n",
            a.time,
            a.mem,
            a.cpus,
            out.join("slurm").join(log).display()
        );
        if let Some(n) = array {
            h.push_str(&format!("#SBATCH --array=0-{}\n", n - 1));
        }
        if let Some(p) = &a.partition {
            h.push_str(&format!("#SBATCH --partition={p}\n"));
        }
        h.push_str("set -euo pipefail\n");
        h
    };
    let config = match &a.config {
        Some(c) => format!(" --config {}", sh_quote(&absolute(c)?)),
        None => String::new(),
    };
    let array = format!(
        "{}# Task I of N runs every N-th session from I (SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT).\nexec {} batch {} --out {}{config} --jobs 1\n",
        header("burstscope-batch", "task-%a.log", Some(n)),
        sh_quote(&exe),
        sh_quote(&absolute(&a.manifest)?),
        sh_quote(&out)
    );
    let merge = format!(
        "{}exec {} batch merge {}\n",
        header("burstscope-merge", "merge.log", None),
        sh_quote(&exe),
        sh_quote(&out)
    );
    let (pa, pm) = (out.join("slurm/array.sbatch"), out.join("slurm/merge.sbatch"));
    burstscope_core::write_file(&pa, array.as_bytes()).with_context(|| format!("{}: cannot write", pa.display()))?;
    burstscope_core::write_file(&pm, merge.as_bytes()).with_context(|| format!("{}: cannot write", pm.display()))?;
    eprintln!("slurm: {} ({n} tasks) and {}", pa.display(), pm.display());
    if a.submit {
        let sbatch = |args: &[&str]| -> Result<String> {
            let o = std::process::Command::new("sbatch")
                .args(args)
                .output()
                .context("cannot run sbatch (install SLURM's client tools, or run without --submit)")?;
            if !o.status.success() {
                bail!("sbatch {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr).trim());
            }
            let id = String::from_utf8_lossy(&o.stdout).trim().split(';').next().unwrap_or("").to_string();
            if id.is_empty() {
                bail!("sbatch {}: no job id in its output", args.join(" "));
            }
            Ok(id)
        };
        let job = sbatch(&["--parsable", &pa.display().to_string()])?;
        let dep = format!("--dependency=afterany:{job}");
        let merge_job = sbatch(&["--parsable", &dep, &pm.display().to_string()])?;
        println!("{job}\t{merge_job}");
        eprintln!("slurm: array job {job}, merge job {merge_job} after it");
    }
    Ok(Exit::Success)
}

/// `batch MANIFEST --out DIR`.
fn run_sessions_of(a: &BatchArgs) -> Result<Exit> {
    let (Some(manifest_path), Some(out)) = (&a.manifest, &a.out) else {
        bail!("batch needs MANIFEST and --out DIR");
    };
    let manifest = Manifest::read(manifest_path)?;
    let dataset = match &a.config {
        Some(p) => read_table(p)?,
        None => toml::Table::new(),
    };
    if let Some(f) = &a.force
        && f != "all"
        && !SECTIONS.contains(&f.as_str())
    {
        bail!("--force {f:?}: expected a stage (detect, sort, bursts, epsc) or nothing for all");
    }
    if a.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    if !(a.timeout_s.is_finite() && a.timeout_s > 0.0) {
        bail!("--timeout-s {}: expected seconds > 0", a.timeout_s);
    }
    let plan = plan(&manifest, &dataset, out, a.force.as_deref())?;
    let this_shard = shard_of(a)?;
    let sessions: Vec<usize> = match this_shard {
        Some((i, n)) => shard(manifest.sessions.len(), i, n),
        None => (0..manifest.sessions.len()).collect(),
    };
    if a.dry_run {
        println!("session\tstage\tplan");
        for &s in &sessions {
            for p in &plan[s] {
                let what = match &p.status {
                    Status::Cached => "cached".to_string(),
                    Status::Run => "run".to_string(),
                    Status::FailedBefore(why) => format!("run (failed before: {why})"),
                };
                println!("{}\t{}\t{what}", manifest.sessions[s].session, p.stage.name);
            }
        }
        return Ok(Exit::Success);
    }
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let plan_doc = serde_json::json!({
        "manifest": absolute(manifest_path)?.display().to_string(),
        "config": a.config.as_deref().map(absolute).transpose()?.map(|p| p.display().to_string()),
    });
    burstscope_core::write_file(&out.join(PLAN_FILE), &serde_json::to_vec_pretty(&plan_doc)?)
        .with_context(|| format!("{}: cannot write", out.join(PLAN_FILE).display()))?;
    let exe = std::env::current_exe().context("cannot find this program's path to start workers")?;
    let timeout = Duration::from_secs_f64(a.timeout_s);
    let total: usize = sessions.iter().map(|&s| plan[s].len()).sum();
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("batch [{bar:30}] {pos}/{len} stages {msg} (ETA {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let counts = std::sync::Mutex::new(BTreeMap::<&'static str, usize>::new());
    let on_result = |r: &StageResult| {
        if let Ok(mut c) = counts.lock() {
            *c.entry(r.outcome.as_str()).or_default() += 1;
            bar.set_message(c.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", "));
        }
        bar.inc(1);
    };
    let stages = |s: usize| manifest.sessions[s].kind.stages();
    let exec = |s: usize, name: &'static str| -> Outcome {
        let Some(p) = plan[s].iter().find(|p| p.stage.name == name) else {
            return Outcome::Failed(format!("no plan for stage {name}"));
        };
        if p.status == Status::Cached {
            return Outcome::Cached;
        }
        execute(&exe, p, timeout)
    };
    let results = run_sessions(&sessions, &stages, a.jobs, &exec, &on_result);
    bar.finish_and_clear();
    let status_name = match this_shard {
        Some((i, n)) => format!("batch-shard-{i}-of-{n}.json"),
        None => "batch.json".to_string(),
    };
    write_status(out, &status_name, &manifest, &plan, &results)?;
    // The dataset stage over every session stage that finished (a shard
    // leaves it to `batch merge`, once every shard is done).
    if this_shard.is_none() {
        let done: Vec<(usize, &'static str)> =
            results.iter().filter(|r| r.outcome.ok()).map(|r| (r.session, r.stage)).collect();
        let not_done: Vec<NotDone> = results
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Failed(why) | Outcome::Skipped(why) => {
                    Some(NotDone { session: r.session, stage: r.stage.to_string(), reason: why.clone() })
                }
                _ => None,
            })
            .collect();
        dataset_stage(&manifest, out, &plan, &done, &not_done)?;
    }
    let failed: Vec<&StageResult> = results.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).collect();
    let c = counts.into_inner().unwrap_or_default();
    eprintln!(
        "batch: {} stages: {} done, {} cached, {} failed, {} skipped -> {}",
        results.len(),
        c.get("done").unwrap_or(&0),
        c.get("cached").unwrap_or(&0),
        c.get("failed").unwrap_or(&0),
        c.get("skipped").unwrap_or(&0),
        out.join(&status_name).display()
    );
    for r in &failed {
        let s = &manifest.sessions[r.session];
        if let Outcome::Failed(why) = &r.outcome {
            eprintln!("burstscope: session {} (line {}) {}: {why}", s.session, s.line, r.stage);
        }
    }
    Ok(if failed.is_empty() { Exit::Success } else { Exit::Partial })
}

/// The dataset stage over `done`, reused when its key (the manifest's
/// content and the keys of the stages it merges) is unchanged and its
/// outputs verify.
fn dataset_stage(
    m: &Manifest,
    out: &Path,
    plan: &[Vec<Planned>],
    done: &[(usize, &'static str)],
    not_done: &[NotDone],
) -> Result<()> {
    use burstscope_batch::dataset::{DATASET_ALGORITHM_VERSION, DATASET_RECORD, run_dataset};
    let upstream: Vec<String> = done
        .iter()
        .filter_map(|&(s, st)| {
            plan[s].iter().find(|p| p.stage.name == st).map(|p| format!("{}/{st}:{}", m.sessions[s].session, p.key))
        })
        .collect();
    let key = StageKey {
        stage: "dataset".into(),
        algorithm_version: DATASET_ALGORITHM_VERSION,
        program_version: burstscope_core::program_version().into(),
        inputs: content(&m.file)?,
        // The report lists what did not complete and why.
        config: serde_json::json!({"not_done": not_done
            .iter()
            .map(|d| serde_json::json!([m.sessions[d.session].session, d.stage, d.reason]))
            .collect::<Vec<_>>()}),
        upstream: upstream.clone(),
    }
    .digest();
    let dir = out.join("dataset");
    if status(&dir, DATASET_RECORD, &key) == Status::Cached {
        eprintln!("dataset: cached -> {}", dir.display());
        return Ok(());
    }
    let d = run_dataset(m, out, done, not_done, &upstream)?;
    mark_done(&d.dir, &key).with_context(|| format!("{}: cannot write the cache marker", d.dir.display()))?;
    eprintln!(
        "dataset: {} -> {}",
        d.rows
            .iter()
            .map(|(t, n)| format!("{t} {n} rows from {} sessions", d.sessions[t]))
            .collect::<Vec<_>>()
            .join(", "),
        d.dir.display()
    );
    if !d.figures.is_empty() {
        eprintln!(
            "dataset: {} figures, report {}",
            d.figures.len(),
            d.dir.join(burstscope_batch::dataset::REPORT).display()
        );
    }
    Ok(())
}

/// `DIR/batch.json`: every session stage's key, outcome and reason.
fn write_status(out: &Path, name: &str, m: &Manifest, plan: &[Vec<Planned>], results: &[StageResult]) -> Result<()> {
    let sessions: Vec<serde_json::Value> = m
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let stages: Vec<serde_json::Value> = plan[i]
                .iter()
                .map(|p| {
                    let r = results.iter().find(|r| r.session == i && r.stage == p.stage.name);
                    let (outcome, reason) = match r.map(|r| &r.outcome) {
                        Some(Outcome::Failed(w) | Outcome::Skipped(w)) => (r.map_or("", |r| r.outcome.as_str()), Some(w.clone())),
                        Some(o) => (o.as_str(), None),
                        None => ("not in this shard", None),
                    };
                    serde_json::json!({
                        "stage": p.stage.name, "key": p.key, "outcome": outcome, "reason": reason,
                        "dir": p.dir.strip_prefix(out).unwrap_or(&p.dir).display().to_string(),
                    })
                })
                .collect();
            serde_json::json!({"session": s.session, "line": s.line, "kind": s.kind.as_str(), "subject": s.subject, "stages": stages})
        })
        .collect();
    let doc = serde_json::json!({
        "manifest": m.file.display().to_string(),
        "program": burstscope_pipeline::program(),
        "finished_utc": burstscope_core::now_utc(),
        "sessions": sessions,
    });
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let path = out.join(name);
    burstscope_core::write_file(&path, &serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("{}: cannot write", path.display()))
}
