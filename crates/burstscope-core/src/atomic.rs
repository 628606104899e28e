//! The one way burstscope writes outputs so that nobody ever sees half of one.
//!
//! * [`write_file`] and [`AtomicFile`]: a single file is written under a
//!   temporary name in its destination folder, flushed to disk (`fsync`),
//!   renamed over the destination and the folder synced, so a crash leaves the
//!   old file or the new one.
//! * [`OutputDir`]: a whole stage's output folder is built in a staging folder
//!   beside it and swapped into place in one step (Linux `renameat2` with
//!   `RENAME_EXCHANGE`; elsewhere two renames that a later run repairs), so a
//!   crash or `kill -9` at any moment leaves the previous complete folder or the
//!   new complete one, never new tables beside an old record, and never a
//!   stale file this run would not write.
//!
//! Temporary names carry the host name, the process id, a per-process counter
//! and the time, so processes on different hosts writing into one shared
//! (cluster) file system never collide.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary files and staging folders of this process not yet committed or
/// removed (for [`remove_uncommitted`]).
static LIVE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn register(p: &Path) {
    if let Ok(mut l) = LIVE.lock() {
        l.push(p.to_path_buf());
    }
}

fn unregister(p: &Path) {
    if let Ok(mut l) = LIVE.lock() {
        l.retain(|x| x != p);
    }
}

/// Removes every temporary file and staging folder this process has not yet
/// committed: for a process about to exit without unwinding (a watchdog that
/// gives up on a hung C library), so that nothing half-written stays behind.
pub fn remove_uncommitted() {
    let paths = LIVE.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
    for p in paths {
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Marker in the names of temporary files and staging folders.
pub const TEMP_MARKER: &str = ".bstmp-";

/// A name unique across processes and hosts: `host-pid-counter-nanos`.
#[must_use]
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let host: String = crate::record::host_name().chars().filter(char::is_ascii_alphanumeric).take(32).collect();
    format!("{host}-{}-{n}-{nanos:x}", std::process::id())
}

/// The temporary sibling of `dest` that [`AtomicFile`] writes to.
#[must_use]
pub fn temp_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    dest.with_file_name(format!(".{name}{TEMP_MARKER}{}", unique_suffix()))
}

/// Flushes a folder's entries (new names, renames) to disk. Errors are
/// ignored on systems that cannot open folders for syncing.
pub fn sync_dir(dir: &Path) {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// A file being written under a temporary name; [`AtomicFile::commit`] puts
/// it in place, dropping it uncommitted removes it.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let dest = dir.path().join("x.txt");
/// let mut f = burstscope_core::AtomicFile::create(&dest).unwrap();
/// std::io::Write::write_all(f.file().unwrap(), b"hello").unwrap();
/// assert!(!dest.exists());
/// f.commit().unwrap();
/// assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    /// Creates the temporary file beside `dest`.
    ///
    /// # Errors
    /// The I/O error of creating it.
    pub fn create(dest: &Path) -> io::Result<Self> {
        let tmp = temp_path(dest);
        let file = File::create(&tmp)?;
        register(&tmp);
        Ok(Self { tmp, dest: dest.to_path_buf(), file: Some(file) })
    }

    /// A temporary path beside `dest` for writers that open the file
    /// themselves (e.g. the HDF5 library); nothing is created.
    #[must_use]
    pub fn reserve(dest: &Path) -> Self {
        let tmp = temp_path(dest);
        register(&tmp);
        Self { tmp, dest: dest.to_path_buf(), file: None }
    }

    /// The temporary path.
    #[must_use]
    pub fn temp(&self) -> &Path {
        &self.tmp
    }

    /// The destination.
    #[must_use]
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The open file (a reserved path is opened, or created, on first use).
    ///
    /// # Errors
    /// The I/O error of opening a reserved path.
    pub fn file(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let f = File::options().create(true).append(true).open(&self.tmp)?;
            self.file = Some(f);
        }
        self.file.as_mut().ok_or_else(|| io::Error::other("temporary file not open"))
    }

    /// Syncs the file, renames it over the destination and syncs the folder.
    ///
    /// # Errors
    /// The I/O error of syncing or renaming (the temporary file is removed).
    pub fn commit(mut self) -> io::Result<PathBuf> {
        let result = (|| {
            if let Some(mut f) = self.file.take() {
                f.flush()?;
                f.sync_all()?;
            } else {
                File::open(&self.tmp)?.sync_all()?;
            }
            std::fs::rename(&self.tmp, &self.dest)?;
            sync_dir(self.dest.parent().unwrap_or(Path::new(".")));
            Ok(self.dest.clone())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        unregister(&self.tmp);
        // Nothing left to clean up.
        self.tmp = PathBuf::new();
        result
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        self.file = None;
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
            unregister(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync
/// of the folder).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("x.json");
/// burstscope_core::write_file(&p, b"{}").unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"{}");
/// ```
///
/// # Errors
/// The I/O error of writing, syncing or renaming.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.file()?.write_all(bytes)?;
    f.commit().map(|_| ())
}

/// A stage's output folder under construction: everything is written into
/// [`OutputDir::path`] (a staging folder beside the destination), and
/// [`OutputDir::commit`] swaps it into place in one step. Dropped without a
/// commit, the staging folder is removed and the destination is untouched.
///
/// ```
/// let root = tempfile::tempdir().unwrap();
/// let dest = root.path().join("bursts");
/// let out = burstscope_core::OutputDir::create(&dest, "bursts.json").unwrap();
/// std::fs::write(out.path().join("bursts.json"), b"{}").unwrap();
/// out.commit().unwrap();
/// assert!(dest.join("bursts.json").exists());
/// ```
#[derive(Debug)]
pub struct OutputDir {
    staging: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl OutputDir {
    /// Starts an output folder for `dest`. An existing `dest` must be empty or
    /// a previous output of the same kind (it holds `record_name`): any other
    /// folder is refused rather than replaced.
    ///
    /// Leftovers of interrupted runs (staging folders, a folder moved aside by
    /// the two-rename fallback) are repaired or removed first.
    ///
    /// # Errors
    /// The I/O error of creating the staging folder, or
    /// [`io::ErrorKind::AlreadyExists`] for a folder that is not an output.
    pub fn create(dest: &Path, record_name: &str) -> io::Result<Self> {
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let name = dest.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        recover(parent, &name, dest);
        if dest.is_dir() {
            let mut entries = std::fs::read_dir(dest)?;
            let empty = entries.next().is_none();
            if !empty && !dest.join(record_name).exists() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} is not empty and holds no {record_name}, so it is not a previous output of this \
                         command; refusing to replace it (choose a new or empty folder)",
                        dest.display()
                    ),
                ));
            }
        } else if dest.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a folder", dest.display()),
            ));
        }
        let staging = parent.join(format!(".{name}{TEMP_MARKER}{}", unique_suffix()));
        std::fs::create_dir(&staging)?;
        register(&staging);
        Ok(Self { staging, dest: dest.to_path_buf(), committed: false })
    }

    /// Where to write the outputs now.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Where they will be once committed.
    #[must_use]
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Syncs every file written, then swaps the staging folder into place and
    /// removes the previous output.
    ///
    /// # Errors
    /// The I/O error of syncing or renaming; the destination is then either
    /// the previous output or the new one, complete.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        sync_tree(&self.staging)?;
        let parent = self.dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if self.dest.exists() {
            match exchange(&self.staging, &self.dest) {
                Ok(()) => {
                    sync_dir(parent);
                    // The previous output now sits at the staging name.
                    let _ = std::fs::remove_dir_all(&self.staging);
                }
                Err(_) => {
                    // Two renames: the previous output is moved aside under a
                    // name `recover` knows, then the new one takes its place.
                    let name = self.dest.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
                    let aside = parent.join(format!(".{name}{TEMP_MARKER}old-{}", unique_suffix()));
                    std::fs::rename(&self.dest, &aside)?;
                    sync_dir(parent);
                    std::fs::rename(&self.staging, &self.dest)?;
                    sync_dir(parent);
                    let _ = std::fs::remove_dir_all(&aside);
                }
            }
        } else {
            std::fs::rename(&self.staging, &self.dest)?;
            sync_dir(parent);
        }
        self.committed = true;
        unregister(&self.staging);
        Ok(self.dest.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
            unregister(&self.staging);
        }
    }
}

/// Removes staging folders of earlier runs of `name` in `parent` that no live
/// process owns, and puts back a previous output that a crash between the two
/// renames of the fallback left aside.
fn recover(parent: &Path, name: &str, dest: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let prefix = format!(".{name}{TEMP_MARKER}");
    let mut aside = Vec::new();
    for e in entries.flatten() {
        let file_name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else { continue };
        if let Some(old) = rest.strip_prefix("old-") {
            aside.push((e.path(), old.to_string()));
        } else if !owned_by_live_process(rest) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    for (path, _) in aside {
        if dest.exists() {
            let _ = std::fs::remove_dir_all(&path);
        } else {
            let _ = std::fs::rename(&path, dest);
        }
    }
}

/// Whether a `host-pid-...` suffix names a process still running on this host.
fn owned_by_live_process(suffix: &str) -> bool {
    let mut parts = suffix.split('-');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else { return false };
    let me: String = crate::record::host_name().chars().filter(char::is_ascii_alphanumeric).take(32).collect();
    if host != me {
        // Another host's run on a shared file system: leave it alone.
        return true;
    }
    let Ok(pid) = pid.parse::<u32>() else { return false };
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

fn sync_tree(dir: &Path) -> io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            sync_tree(&p)?;
        } else {
            File::open(&p)?.sync_all()?;
        }
    }
    sync_dir(dir);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no atomic exchange on this system"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_a_previous_output_and_drops_stale_files() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        let a = OutputDir::create(&dest, "r.json").unwrap();
        std::fs::write(a.path().join("r.json"), "1").unwrap();
        std::fs::write(a.path().join("stale.parquet"), "x").unwrap();
        a.commit().unwrap();
        let b = OutputDir::create(&dest, "r.json").unwrap();
        std::fs::write(b.path().join("r.json"), "2").unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("r.json")).unwrap(), "1");
        b.commit().unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("r.json")).unwrap(), "2");
        assert!(!dest.join("stale.parquet").exists());
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "staging folders left behind");
    }

    #[test]
    fn refuses_a_folder_that_is_not_an_output() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("thesis.docx"), "precious").unwrap();
        let err = OutputDir::create(root.path(), "r.json").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(root.path().join("thesis.docx").exists());
    }

    #[test]
    fn an_uncommitted_output_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        {
            let a = OutputDir::create(&dest, "r.json").unwrap();
            std::fs::write(a.path().join("r.json"), "1").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn recovers_a_folder_moved_aside() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("out");
        let aside = root.path().join(format!(".out{TEMP_MARKER}old-x-1-0-0"));
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("r.json"), "old").unwrap();
        let o = OutputDir::create(&dest, "r.json").unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("r.json")).unwrap(), "old");
        drop(o);
    }

    #[test]
    fn atomic_file_is_invisible_until_committed() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("f");
        let mut f = AtomicFile::create(&dest).unwrap();
        f.file().unwrap().write_all(b"abc").unwrap();
        assert!(!dest.exists());
        drop(f);
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
        write_file(&dest, b"xyz").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"xyz");
    }
}
