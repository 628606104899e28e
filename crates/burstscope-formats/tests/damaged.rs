//! Damaged copies of the real extracellular files (NEV, NSx, Open Ephys
//! `.continuous`, `.npy`): truncated at many lengths and with bytes changed
//! at seeded positions, every reader returns a value or an error — never a
//! panic — and what it returns can be read.

use burstscope_core::{BlockQuality, BlockSource};
use burstscope_formats::blackrock::{Nev, Nsx};
use burstscope_formats::heka::Heka;
use burstscope_formats::npy::read_npy;
use burstscope_formats::openephys::Continuous;
use std::path::{Path, PathBuf};

fn base() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real/extracellular");
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var_os("CI").is_none(), "CI has ../shared/real");
    None
}

/// Truncations and byte changes of `bytes`, each written to `path` and given to `open`.
fn damage(bytes: &[u8], path: &Path, mut open: impl FnMut(&Path)) -> usize {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        x >> 17
    };
    let mut cases = 0;
    let n = bytes.len();
    for k in 0..40 {
        let cut = if k < 20 { k * 37 } else { (next() as usize) % n };
        std::fs::write(path, &bytes[..cut.min(n)]).unwrap();
        open(path);
        cases += 1;
    }
    for _ in 0..120 {
        let mut b = bytes.to_vec();
        // mostly in the headers, where the layout is decided
        let span = if next() % 4 == 0 { n } else { n.min(8192) };
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % span;
            b[at] = (next() & 0xff) as u8;
        }
        std::fs::write(path, &b).unwrap();
        open(path);
        cases += 1;
    }
    cases
}

fn read_some<S: BlockSource>(s: &S) {
    let len = s.n_samples().min(256);
    let nch = s.n_channels();
    if len == 0 || nch == 0 || nch > 4096 {
        return;
    }
    let mut out = vec![0.0f32; len * nch];
    let cols: Vec<usize> = (0..nch).collect();
    let _ = s.read(0, len, 1.0, &cols, nch, &mut out, 0..len, &mut BlockQuality::default());
}

#[test]
fn damaged_extracellular_files_never_panic() {
    let Some(d) = base() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = 0;
    let nev_bytes = std::fs::read(d.join("blackrock_utah/l101210-001-02.nev")).unwrap();
    cases += damage(&nev_bytes, &tmp.path().join("x.nev"), |p| {
        if let Ok(n) = Nev::open(p) {
            let _ = n.units();
        }
    });
    let nev = Nev::open(&d.join("blackrock_utah/l101210-001-02.nev")).unwrap();
    let ns2 = std::fs::read(d.join("blackrock_utah/l101210-001.ns2")).unwrap();
    cases += damage(&ns2, &tmp.path().join("x.ns2"), |p| {
        if let Ok(n) = Nsx::open(p, Some(&nev)) {
            read_some(&n);
        }
    });
    let cont =
        std::fs::read(d.join("openephys_legacy_v0.6.7/Record Node 101/100_example-data_CH1.continuous")).unwrap();
    cases += damage(&cont, &tmp.path().join("x_CH1.continuous"), |p| {
        if let Ok(c) = Continuous::open(p) {
            let _ = c.read_values(0, c.n_samples().min(2048));
        }
    });
    let npy = std::fs::read(
        d.join("openephys_binary_v0.6.7_no_continuous/Record Node 101/experiment1/recording1/continuous/File_Reader-100.example_data/timestamps.npy"),
    )
    .unwrap();
    cases += damage(&npy[..npy.len().min(4096)], &tmp.path().join("x.npy"), |p| {
        let _ = read_npy(p);
    });
    eprintln!("{cases} damaged files opened without a panic");
    assert_eq!(cases, 4 * 160);
}

/// The real PatchMaster bundle truncated at 40 lengths and with bytes
/// changed at 120 seeded positions in its header and its trees (where the
/// layout is decided): every open, trace read and command layout returns a
/// value or an error.
#[test]
fn damaged_heka_bundles_never_panic() {
    let Some(d) = base() else { return };
    let bytes = std::fs::read(d.join("../heka/epc9_patchmaster_v2x73.dat")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.dat");
    let trees = Heka::open(&d.join("../heka/epc9_patchmaster_v2x73.dat")).unwrap().items[1].1 as usize;
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 17) as usize
    };
    let open = |p: &Path| {
        if let Ok(h) = Heka::open(p) {
            for (g, group) in h.groups.iter().enumerate().take(4) {
                for (s, series) in group.series.iter().enumerate().take(4) {
                    for (w, sweep) in series.sweeps.iter().enumerate().take(3) {
                        for t in 0..sweep.traces.len().min(4) {
                            let _ = h.trace(g, s, w, t);
                            let _ = h.command(g, s, w, t);
                        }
                    }
                }
            }
        }
    };
    let n = bytes.len();
    for k in 0..40 {
        let cut = if k < 10 { k * 97 } else { trees + next() % (n - trees) };
        std::fs::write(&path, &bytes[..cut]).unwrap();
        open(&path);
    }
    for _ in 0..120 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let at = if next() % 5 == 0 { next() % 256 } else { trees + next() % (n - trees) };
            b[at] = (next() & 0xff) as u8;
        }
        std::fs::write(&path, &b).unwrap();
        open(&path);
    }
}

/// SpikeGLX `.meta` files with values changed at seeded positions and
/// truncated, beside a truncated `.bin`: every open and read returns a value
/// or an error.
#[test]
fn damaged_spikeglx_metas_never_panic() {
    use burstscope_formats::spikeglx::SpikeGlx;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/spikeglx");
    let meta = std::fs::read(src.join("run_g0_t0.imec0.ap.meta")).unwrap();
    let bin = std::fs::read(src.join("run_g0_t0.imec0.ap.bin")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (m, b) = (tmp.path().join("x.imec0.ap.meta"), tmp.path().join("x.imec0.ap.bin"));
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut next = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 17) as usize
    };
    for k in 0..200 {
        let mut mm = meta.clone();
        if k % 4 == 0 {
            mm.truncate(next() % mm.len());
        } else {
            for _ in 0..1 + next() % 3 {
                let at = next() % mm.len();
                mm[at] = b"0123456789,:()=~-x9 "[next() % 20];
            }
        }
        std::fs::write(&m, &mm).unwrap();
        std::fs::write(&b, &bin[..if k % 3 == 0 { next() % bin.len() } else { bin.len() }]).unwrap();
        if let Ok(s) = SpikeGlx::open(&b) {
            read_some(&s);
        }
    }
}

/// The Neuralynx fixture's files (`.ncs`, `.ntt`, `.nev`) truncated at 40
/// lengths and with bytes changed at 120 seeded positions each (mostly in
/// the text header): every open and read returns a value or an error.
#[test]
fn damaged_neuralynx_files_never_panic() {
    use burstscope_formats::neuralynx::{NcsRecording, NlxEvents, Ntt};
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/neuralynx");
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = 0;
    let ncs = std::fs::read(src.join("CSC1.ncs")).unwrap();
    cases += damage(&ncs, &tmp.path().join("x.ncs"), |p| {
        if let Ok(r) = NcsRecording::open(p) {
            read_some(&r);
        }
    });
    let ntt = std::fs::read(src.join("TT1.ntt")).unwrap();
    cases += damage(&ntt, &tmp.path().join("x.ntt"), |p| {
        if let Ok(t) = Ntt::open(p) {
            let _ = t.cells();
        }
    });
    let nev = std::fs::read(src.join("Events.nev")).unwrap();
    cases += damage(&nev, &tmp.path().join("x.nev"), |p| {
        let _ = NlxEvents::open(p);
    });
    assert_eq!(cases, 3 * 160);
}

/// The Intan fixtures truncated at 40 lengths and with bytes changed at 120
/// seeded positions (mostly in the header): every open and read returns a
/// value or an error.
#[test]
fn damaged_intan_files_never_panic() {
    use burstscope_formats::intan::Rhd;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/intan");
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = 0;
    for name in ["tetrode_v13.rhd", "tetrode_v30.rhd"] {
        let bytes = std::fs::read(src.join(name)).unwrap();
        cases += damage(&bytes, &tmp.path().join("x.rhd"), |p| {
            if let Ok(r) = Rhd::open(p) {
                read_some(&r);
            }
        });
    }
    assert_eq!(cases, 2 * 160);
}
