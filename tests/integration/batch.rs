//! `burstscope batch` end to end: a broken session fails alone, a rerun
//! redoes only what changed, and a killed batch resumes without redoing
//! finished stages.

use crate::util::{bin, bin_std, fixture};
use std::path::Path;

fn outcomes(out: &Path) -> Vec<(String, String, String)> {
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("batch.json")).unwrap()).unwrap();
    let mut v = Vec::new();
    for s in doc["sessions"].as_array().unwrap() {
        for st in s["stages"].as_array().unwrap() {
            v.push((
                s["session"].as_str().unwrap().to_string(),
                st["stage"].as_str().unwrap().to_string(),
                st["outcome"].as_str().unwrap().to_string(),
            ));
        }
    }
    v
}

fn o(s: &str, st: &str, out: &str) -> (String, String, String) {
    (s.into(), st.into(), out.into())
}

#[test]
fn a_broken_session_fails_alone_and_a_rerun_redoes_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.nwb"), b"this is not an HDF5 file").unwrap();
    let manifest = dir.path().join("study.csv");
    std::fs::write(
        &manifest,
        format!(
            "session,path,kind,subject,group,region,drug,implant_side\n\
             good,{},units,rat1,cLH,LHb,ketamine,left\n\
             broken,broken.nwb,units,rat2,cLH,LHb,ketamine,right\n\
             cells,{},slice,rat3,control,LHb,ketamine,\n",
            fixture("lhb_units_ketamine.nwb").display(),
            fixture("slices").display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = |extra: &[&str]| bin().arg("batch").arg(&manifest).arg("--out").arg(&out).args(extra).output().unwrap();
    let r = run(&["--jobs", "2"]);
    assert_eq!(r.status.code(), Some(1), "{}", String::from_utf8_lossy(&r.stderr));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("session broken (line 3) bursts: exit status 2: ") && err.contains("broken.nwb"), "{err}");
    assert_eq!(
        outcomes(&out),
        vec![o("good", "bursts", "done"), o("broken", "bursts", "failed"), o("cells", "epsc", "done")]
    );
    assert!(
        out.join("sessions/good/bursts/bursts.json").is_file() && out.join("sessions/cells/epsc/epsc.json").is_file()
    );
    assert!(out.join("sessions/broken/bursts.failed.json").is_file() && !out.join("sessions/broken/bursts").exists());
    // The dataset stage merged the sessions that finished, with the manifest's columns.
    let um = burstscope_tables::read_table(&out.join("dataset/unit_metrics.parquet")).unwrap();
    let col = |t: &burstscope_core::Table, c: &str| match t.column(c) {
        Some(burstscope_core::ColumnData::Str(v)) => v.clone(),
        other => panic!("{c}: {other:?}"),
    };
    assert!(col(&um, "session").iter().all(|s| s == "good") && col(&um, "implant_side").iter().all(|s| s == "left"));
    let cells = burstscope_tables::read_table(&out.join("dataset/epsc_cells.parquet")).unwrap();
    assert!(col(&cells, "session").iter().all(|s| s == "cells") && cells.n_rows() > 0);
    let stats = burstscope_tables::read_table(&out.join("dataset/stats.parquet")).unwrap();
    let tests = col(&stats, "test");
    assert!(tests.iter().any(|t| t == "lmm") && tests.iter().any(|t| t == "ttest_rel_animals"), "{tests:?}");
    assert!(col(&stats, "metric").iter().any(|m| m == "bursts_per_min"));
    // The report names what failed and why, and links every session's outputs.
    let html = crate::report::check_static(&out.join("dataset/report.html"));
    assert!(html.contains("<b>1</b>with a failure"), "at a glance");
    let failed_row = html.split("<tr class=\"fail\">").nth(1).unwrap_or_default();
    assert!(failed_row.contains("<td>broken</td><td class=\"num\">3</td><td>bursts</td>"), "{failed_row}");
    assert!(failed_row.contains("broken.nwb"), "the reason names the file: {failed_row}");
    assert!(
        html.contains("href=\"../sessions/good/bursts/\"") && html.contains("href=\"../sessions/broken/bursts.log\"")
    );
    // Nothing changed: the good sessions are reused, the broken one is tried again.
    let plan = run(&["--dry-run"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains("good\tbursts\tcached") && text.contains("broken\tbursts\trun (failed before: exit status 2"),
        "{text}"
    );
    let before = std::fs::read(out.join("sessions/good/bursts/bursts.json")).unwrap();
    let r = run(&[]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(
        outcomes(&out),
        vec![o("good", "bursts", "cached"), o("broken", "bursts", "failed"), o("cells", "epsc", "cached")]
    );
    assert_eq!(std::fs::read(out.join("sessions/good/bursts/bursts.json")).unwrap(), before, "not recomputed");
    assert!(String::from_utf8_lossy(&r.stderr).contains("dataset: cached"), "the dataset stage is reused too");
    // A burst parameter changes: bursts reruns, epsc does not.
    let cfg = dir.path().join("dataset.toml");
    std::fs::write(&cfg, "[bursts]\nbin_s = 30.0\n").unwrap();
    let r = run(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(
        outcomes(&out),
        vec![o("good", "bursts", "done"), o("broken", "bursts", "failed"), o("cells", "epsc", "cached")]
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("dataset: bursts "), "the dataset stage reruns after bursts");
    // --force epsc recomputes that stage only.
    let r = run(&["--config", cfg.to_str().unwrap(), "--force", "epsc"]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(
        outcomes(&out),
        vec![o("good", "bursts", "cached"), o("broken", "bursts", "failed"), o("cells", "epsc", "done")]
    );
    // An invalid dataset config: exit 2 before anything runs.
    std::fs::write(&cfg, "[bursts]\nbin_s = -1.0\n").unwrap();
    let r = run(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("[bursts] settings"), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn an_invalid_manifest_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("study.csv");
    std::fs::write(&manifest, "session,path,kind,subject,group,region,drug\ns1,missing.nwb,units,rat1,c,LHb,ket\n")
        .unwrap();
    let out = dir.path().join("out");
    let r = bin().arg("batch").arg(&manifest).arg("--out").arg(&out).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("line 2, path: ") && err.contains("missing.nwb does not exist"), "{err}");
    assert!(!out.exists());
}

#[cfg(unix)]
#[test]
fn a_killed_batch_resumes_without_redoing_finished_stages() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("study.csv");
    std::fs::write(
        &manifest,
        format!(
            "session,path,kind,subject,group,region,drug\nt1,{},tetrode,rat1,cLH,LHb,ketamine\n",
            fixture("tetrode_raw.nwb").display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    // The batch and its workers in a process group of their own, killed
    // together (as a scheduler or a power loss ends a job).
    let mut child = bin_std().arg("batch").arg(&manifest).arg("--out").arg(&out).process_group(0).spawn().unwrap();
    let done = out.join("sessions/t1/detect/batch-done.json");
    let t = std::time::Instant::now();
    while !done.exists() && t.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(done.exists(), "detect finished");
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    let pgid = rustix::process::getpgid(Some(pid)).unwrap();
    // Only the batch's own group, never this test's.
    assert_eq!(pgid, pid);
    assert_ne!(pgid, rustix::process::getpgrp());
    rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL).unwrap();
    let _ = child.wait();
    let r = bin().arg("batch").arg(&manifest).arg("--out").arg(&out).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let got = outcomes(&out);
    assert_eq!(got[0], o("t1", "detect", "cached"), "{got:?}");
    // sort may have finished before the kill; bursts ran after it either way.
    assert!(got[1..].iter().all(|x| x.2 == "done" || x.2 == "cached"), "{got:?}");
    assert_eq!((got[1].1.as_str(), got[2].1.as_str()), ("sort", "bursts"));
    assert!(out.join("sessions/t1/bursts/bursts.json").is_file());
    let again = bin().arg("batch").arg(&manifest).arg("--out").arg(&out).output().unwrap();
    assert!(again.status.success());
    assert!(outcomes(&out).iter().all(|x| x.2 == "cached"));
}

#[test]
fn shards_and_merge_equal_a_local_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("study.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[session]]\nsession = \"a\"\npath = {:?}\nkind = \"units\"\nsubject = \"rat1\"\ngroup = \"cLH\"\nregion = \"LHb\"\ndrug = \"ketamine\"\n\n\
             [[session]]\nsession = \"b\"\npath = {:?}\nkind = \"slice\"\nsubject = \"rat2\"\ngroup = \"control\"\nregion = \"LHb\"\ndrug = \"ketamine\"\n",
            fixture("lhb_units_ketamine.nwb"),
            fixture("slices")
        ),
    )
    .unwrap();
    let (shared, local) = (dir.path().join("shared"), dir.path().join("local"));
    for i in 0..2 {
        // As two SLURM array tasks would see it.
        let r = bin()
            .arg("batch")
            .arg(&manifest)
            .arg("--out")
            .arg(&shared)
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(shared.join(format!("batch-shard-{i}-of-2.json")).is_file());
    }
    assert!(!shared.join("dataset").exists(), "shards leave the dataset to merge");
    let m = bin().args(["batch", "merge"]).arg(&shared).output().unwrap();
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let l = bin().arg("batch").arg(&manifest).arg("--out").arg(&local).args(["--jobs", "2"]).output().unwrap();
    assert!(l.status.success());
    for t in ["unit_metrics", "bursts", "time_course", "epsc_cells", "epsc_sweeps", "stats"] {
        let f = format!("dataset/{t}.parquet");
        assert_eq!(std::fs::read(shared.join(&f)).unwrap(), std::fs::read(local.join(&f)).unwrap(), "{t}");
    }
    // The report and its figures too.
    for f in ["report.html", "figures/paired_animals.svg", "figures/time_course_animals.svg"] {
        let f = format!("dataset/{f}");
        assert_eq!(std::fs::read(shared.join(&f)).unwrap(), std::fs::read(local.join(&f)).unwrap(), "{f}");
    }
    // The SLURM scripts: an array over the shards, a merge after it.
    let s = bin()
        .args(["batch", "slurm"])
        .arg(&manifest)
        .arg("--out")
        .arg(&shared)
        .args(["--array", "2", "--partition", "short", "--mem", "4G"])
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let array = std::fs::read_to_string(shared.join("slurm/array.sbatch")).unwrap();
    for want in ["#SBATCH --array=0-1", "#SBATCH --partition=short", "#SBATCH --mem=4G", " batch ", " --jobs 1"] {
        assert!(array.contains(want), "{want} in {array}");
    }
    let merge = std::fs::read_to_string(shared.join("slurm/merge.sbatch")).unwrap();
    assert!(merge.contains(" batch merge "), "{merge}");
    // --submit without SLURM: a clear error, exit 2.
    let r = bin()
        .env("PATH", "/nonexistent")
        .args(["batch", "slurm"])
        .arg(&manifest)
        .arg("--out")
        .arg(&shared)
        .arg("--submit")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("cannot run sbatch"));
}

#[test]
fn a_generated_study_gives_back_its_per_animal_effects() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    let g = bin()
        .args(["generate", "dataset", "--out"])
        .arg(&study)
        .args(["--animals", "6", "--sessions", "1", "--duration", "600", "--tetrodes", "2", "--slice-animals", "0"])
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let out = dir.path().join("out");
    let r = bin()
        .arg("batch")
        .arg(study.join("manifest.csv"))
        .arg("--out")
        .arg(&out)
        .args(["--jobs", "2"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(study.join("truth.json")).unwrap()).unwrap();
    let um = burstscope_tables::read_table(&out.join("dataset/unit_metrics.parquet")).unwrap();
    let text = |c: &str| match um.column(c) {
        Some(burstscope_core::ColumnData::Str(v)) => v.clone(),
        other => panic!("{c}: {other:?}"),
    };
    let num = |c: &str| match um.column(c) {
        Some(burstscope_core::ColumnData::F64(v)) => v.clone(),
        other => panic!("{c}: {other:?}"),
    };
    let (subject, window, bpm, session) = (text("subject"), text("window"), num("bursts_per_min"), text("session"));
    let unit: Vec<String> = match um.column("unit") {
        Some(burstscope_core::ColumnData::I64(v)) => v.iter().map(ToString::to_string).collect(),
        Some(burstscope_core::ColumnData::Str(v)) => v.clone(),
        other => panic!("unit: {other:?}"),
    };
    for a in truth["animals"].as_array().unwrap() {
        let name = a["subject"].as_str().unwrap();
        let factor = a["ketamine_burst_factor"].as_f64().unwrap();
        // Bursters (baseline > 10 bursts/min): post / pre burst rate, summed over units.
        let rows: Vec<usize> = (0..um.n_rows()).filter(|&i| subject[i] == name).collect();
        let pre: Vec<usize> = rows.iter().copied().filter(|&i| window[i] == "baseline" && bpm[i] > 10.0).collect();
        let (mut s_pre, mut s_post) = (0.0, 0.0);
        for &i in &pre {
            let j = rows
                .iter()
                .copied()
                .find(|&j| window[j] != "baseline" && unit[j] == unit[i] && session[j] == session[i])
                .unwrap();
            s_pre += bpm[i];
            s_post += bpm[j];
        }
        assert!(!pre.is_empty(), "{name} has bursters");
        let ratio = s_post / s_pre;
        // The effect ramps in over 20 s after the injection; burst detection adds noise.
        assert!((ratio / factor - 1.0).abs() < 0.15, "{name}: post/pre burst rate {ratio:.3} vs truth {factor:.3}");
    }
    let stats = burstscope_tables::read_table(&out.join("dataset/stats.parquet")).unwrap();
    let s = |c: &str| match stats.column(c) {
        Some(burstscope_core::ColumnData::Str(v)) => v.clone(),
        other => panic!("{c}: {other:?}"),
    };
    let Some(burstscope_core::ColumnData::F64(est)) = stats.column("estimate") else { panic!() };
    let (cmp, metric, test) = (s("comparison"), s("metric"), s("test"));
    let find = |c: &str| {
        (0..stats.n_rows()).find(|&i| cmp[i] == c && metric[i] == "bursts_per_min" && test[i] == "lmm").unwrap()
    };
    assert!(est[find("pre_post")] < 0.0, "ketamine lowers bursting");
    // cLH animals burst twice as often at baseline as control animals.
    let i = find("group_baseline");
    assert!(s("first")[i] == "cLH" && s("second")[i] == "control" && est[i] < 0.0, "{}", est[i]);
    // The figures across animals, each as SVG, PNG and PDF, and the report shows them.
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("dataset/dataset.json")).unwrap()).unwrap();
    let files: Vec<&str> =
        record["outputs"]["files"].as_array().unwrap().iter().filter_map(|f| f["path"].as_str()).collect();
    let figures = ["paired_animals", "groups_baseline", "classes_groups", "time_course_animals"];
    for f in figures {
        for ext in ["svg", "png", "pdf"] {
            let p = format!("figures/{f}.{ext}");
            assert!(files.contains(&p.as_str()), "{p} recorded in {files:?}");
        }
    }
    let report = out.join("dataset/report.html");
    let html = crate::report::check_static(&report);
    for f in figures {
        assert!(html.contains(&format!("<figure id=\"fig-{f}\">")), "{f} in the report");
    }
    // Six animals in two groups: the legend of the per-animal plot counts them.
    let paired = std::fs::read_to_string(out.join("dataset/figures/paired_animals.svg")).unwrap();
    assert!(paired.contains("cLH (n = 3)") && paired.contains("control (n = 3)"), "per-animal legend");
    crate::report::check_in_chromium(&report, figures.len());
}
