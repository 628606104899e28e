//! Records the git commit the program is built from (when built from a
//! checkout) for the provenance records.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let git = root.join(".git");
    if git.exists() {
        for p in ["HEAD", "refs/heads", "packed-refs"] {
            let path = git.join(p);
            if path.exists() {
                println!("cargo::rerun-if-changed={}", path.display());
            }
        }
    }
    println!("cargo::rerun-if-env-changed=BURSTSCOPE_GIT_COMMIT");
    let commit = std::env::var("BURSTSCOPE_GIT_COMMIT").ok().or_else(|| {
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| s.len() >= 7)
    });
    println!("cargo::rustc-env=BURSTSCOPE_GIT_COMMIT={}", commit.unwrap_or_default());
}
