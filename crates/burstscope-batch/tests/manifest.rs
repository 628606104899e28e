//! The example manifests read, CSV and TOML alike; every kind of bad
//! manifest is refused with its line and column.

use burstscope_batch::{Kind, Manifest, ManifestError};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/manifests").join(name)
}

#[test]
fn the_example_reads_the_same_as_csv_and_toml() {
    let csv = Manifest::read(&data("example.csv")).unwrap();
    let toml = Manifest::read(&data("example.toml")).unwrap();
    assert_eq!(csv.sessions.len(), 3);
    assert_eq!(csv.extra_columns, vec!["implant_side".to_string()]);
    assert_eq!(toml.extra_columns, csv.extra_columns);
    for (a, b) in csv.sessions.iter().zip(&toml.sessions) {
        let strip = |s: &burstscope_batch::Session| burstscope_batch::Session { line: 0, ..s.clone() };
        assert_eq!(strip(a), strip(b), "{}", a.session);
    }
    let s = &csv.sessions[0];
    assert_eq!((s.kind, s.subject.as_str(), s.group.as_str(), s.drug_at_s), (Kind::Tetrode, "rat1", "cLH", Some(15.0)));
    assert!(s.path.is_file() && s.path.ends_with("tests/fixtures/tetrode_raw.nwb"));
    assert_eq!(s.tags, vec!["pilot".to_string()]);
    assert_eq!(s.extra["implant_side"], "left");
    assert_eq!(csv.sessions[1].drug_at_s, None);
    assert_eq!(csv.sessions[2].kind, Kind::Slice);
    assert_eq!(csv.sessions[2].tags, vec!["slice".to_string(), "2026-01".to_string()]);
    assert!(csv.sessions[2].config.as_ref().unwrap().is_file());
    assert_eq!(Kind::Tetrode.stages(), &["detect", "sort", "bursts"]);
    // Lines: CSV rows 2..4; TOML the [[session]] headers.
    assert_eq!(csv.sessions.iter().map(|s| s.line).collect::<Vec<_>>(), vec![2, 3, 4]);
    let text = std::fs::read_to_string(data("example.toml")).unwrap();
    for s in &toml.sessions {
        assert_eq!(text.lines().nth(s.line - 1).unwrap().trim(), "[[session]]");
    }
}

/// The message of a refused manifest written to `name` in a folder holding `a.nwb`.
fn refused(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.nwb"), b"").unwrap();
    std::fs::write(dir.path().join("b.nwb"), b"").unwrap();
    let f = dir.path().join(name);
    std::fs::write(&f, text).unwrap();
    match Manifest::read(&f) {
        Err(e @ ManifestError::Invalid { .. }) => {
            let m = e.to_string();
            assert!(m.starts_with(&f.display().to_string()), "{m}");
            m
        }
        other => panic!("{name}: expected a refusal, got {other:?}"),
    }
}

const HEADER: &str = "session,path,kind,subject,group,region,drug";

#[test]
fn bad_manifests_name_the_line_and_the_column() {
    let m = refused(
        "m.csv",
        &format!("{HEADER}\ns1,a.nwb,tetrode,rat1,c,LHb,ket\ns2,missing.nwb,tetrode,rat1,c,LHb,ket\n"),
    );
    assert!(m.contains("line 3, path: ") && m.contains("missing.nwb does not exist"), "{m}");
    let m = refused("m.csv", &format!("{HEADER}\ns1,a.nwb,tetrode,rat1,c,LHb,ket\ns1,b.nwb,units,rat2,c,LHb,ket\n"));
    assert!(m.contains("line 3, session: duplicate id \"s1\" (first at line 2)"), "{m}");
    let m = refused("m.csv", &format!("{HEADER}\ns1,a.nwb,tetrod,rat1,c,LHb,ket\n"));
    assert!(m.contains("line 2, kind: \"tetrod\": expected tetrode, units or slice"), "{m}");
    let m = refused("m.csv", "session,path,kind,group,region,drug\ns1,a.nwb,tetrode,c,LHb,ket\n");
    assert!(m.contains("line 1, subject: required column missing"), "{m}");
    let m = refused("m.csv", &format!("{HEADER}\ns1,a.nwb,tetrode,rat1,c,LHb\n"));
    assert!(m.contains("line 2: 6 fields, expected 7"), "{m}");
    let m = refused("m.csv", &format!("{HEADER},drug_at_s\ns1,a.nwb,tetrode,rat1,c,LHb,ket,soon\n"));
    assert!(m.contains("line 2, drug_at_s: \"soon\": expected seconds"), "{m}");
    let m = refused("m.csv", &format!("{HEADER}\ns1,a.nwb,tetrode,,c,LHb,ket\n"));
    assert!(m.contains("line 2, subject: empty"), "{m}");
    let m = refused("m.csv", &format!("{HEADER}\n../up,a.nwb,tetrode,rat1,c,LHb,ket\n"));
    assert!(m.contains("line 2, session: \"../up\""), "{m}");
    let m = refused("m.csv", &format!("{HEADER},config\ns1,a.nwb,tetrode,rat1,c,LHb,ket,none.toml\n"));
    assert!(m.contains("line 2, config: ") && m.contains("none.toml is not a file"), "{m}");
    let m = refused("m.csv", &format!("{HEADER},Bad Column\ns1,a.nwb,tetrode,rat1,c,LHb,ket,x\n"));
    assert!(m.contains("line 1, Bad Column: column names are snake_case"), "{m}");
    let m = refused("m.csv", &format!("{HEADER}\n"));
    assert!(m.contains("no sessions"), "{m}");
    let m = refused("m.csv", "");
    assert!(m.contains("empty manifest"), "{m}");
    // Several problems are all reported, in line order.
    let m = refused("m.csv", &format!("{HEADER}\ns1,a.nwb,bogus,rat1,c,LHb,ket\ns2,nope.nwb,tetrode,rat1,c,LHb,ket\n"));
    assert!(m.find("line 2").unwrap() < m.find("line 3").unwrap(), "{m}");
    // TOML.
    let m = refused(
        "m.toml",
        "[[session]]\nsession = \"s1\"\npath = \"a.nwb\"\nkind = \"units\"\n\n[[session]]\nsession = \"s2\"\n",
    );
    assert!(m.contains("line 1, subject: missing") && m.contains("line 6, path: missing"), "{m}");
    let m = refused("m.toml", "[[session]]\nsession = \"s1\"\npath = [1, 2]\n");
    assert!(m.contains("line 1, path: expected a string"), "{m}");
    let m = refused("m.toml", "[[session]\nsession = 1\n");
    assert!(m.contains("not valid TOML"), "{m}");
    let m = refused("m.toml", "title = \"x\"\n");
    assert!(m.contains("title: unknown top-level key"), "{m}");
    let m = refused("m.json", "{}");
    assert!(m.contains("expected a .csv or .toml manifest"), "{m}");
}

#[test]
fn an_unreadable_manifest_is_an_io_error() {
    let e = Manifest::read(Path::new("/nonexistent/m.csv")).unwrap_err();
    assert!(matches!(e, ManifestError::Io { .. }) && e.to_string().starts_with("/nonexistent/m.csv: "), "{e}");
}
