//! The dataset layer of burstscope: a study is a **manifest** of sessions —
//! one row per session with its file, what kind of data it is, and the
//! animal, group, region and drug it belongs to. This crate reads and
//! validates manifests ([`Manifest`]) and keeps the batch cache
//! ([`cache`]: stage keys, done markers that never mark a partial output,
//! and lock files for workers sharing a folder).
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # std::fs::write(dir.path().join("a.nwb"), b"").unwrap();
//! let csv = "session,path,kind,subject,group,region,drug\nrat1-s1,a.nwb,tetrode,rat1,cLH,LHb,ketamine\n";
//! let m = burstscope_batch::Manifest::parse_csv(csv, dir.path(), "m.csv".as_ref()).unwrap();
//! assert_eq!(m.sessions[0].kind, burstscope_batch::Kind::Tetrode);
//! assert_eq!(m.sessions[0].subject, "rat1");
//! ```

pub mod cache;
pub mod dataset;
mod figures;
mod manifest;
pub mod report;
pub mod run;
pub mod worker;

pub use manifest::{Kind, Manifest, ManifestError, Problem, Session};
