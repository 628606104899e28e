//! Content hashes: one scheme for inputs, outputs and cache keys, computable
//! in any order so that a reader can hash the bytes it reads anyway.
//!
//! **The scheme** ([`HASH_SCHEME`], `xxh3-128-tree64k`): the bytes are cut at
//! every multiple of [`PIECE_BYTES`] (64 KiB; the last piece may be shorter),
//! each piece is hashed with xxh3-128, and the result is xxh3-128 of the
//! pieces' hashes (16 bytes each, little-endian, in file order) followed by
//! the total length (u64, little-endian). Written as the scheme's name, `:`
//! and 32 hex digits. Not cryptographic: it identifies content, it does not
//! authenticate it.
//!
//! Because each piece's hash depends only on its own bytes, the pieces can be
//! hashed by whichever thread happens to hold them. A stage that wants an
//! input's identity calls [`HashTap::want`] before reading; readers that read
//! the file with positioned reads offer what they read to
//! [`HashTap::offer`]; [`crate::InputIdentity::of`] then reads only the
//! pieces nobody offered. The detection of a recording thus reads the file
//! once instead of twice, and the identity is the same whichever way the
//! pieces were hashed.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

/// The content-hash scheme, as it appears in front of every hash.
pub const HASH_SCHEME: &str = "xxh3-128-tree64k";

/// Bytes per piece of [`HASH_SCHEME`].
pub const PIECE_BYTES: usize = 64 * 1024;

fn piece_hash(bytes: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes()
}

/// Combines pieces' hashes (file order) and the total length into the hash's text.
fn root(leaves: impl Iterator<Item = [u8; 16]>, len: u64) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for l in leaves {
        h.update(&l);
    }
    h.update(&len.to_le_bytes());
    format!("{HASH_SCHEME}:{:032x}", h.digest128())
}

/// [`HASH_SCHEME`] of a byte stream.
///
/// ```
/// let h = burstscope_core::content_hash_of(&b"hello"[..]).unwrap();
/// assert!(h.starts_with("xxh3-128-tree64k:"));
/// assert_eq!(h.len(), "xxh3-128-tree64k:".len() + 32);
/// assert_eq!(h, burstscope_core::hash_bytes(b"hello"));
/// ```
///
/// # Errors
/// The reader's I/O error.
pub fn content_hash_of<R: Read>(mut r: R) -> std::io::Result<String> {
    let mut leaves = Vec::new();
    let mut buf = vec![0u8; 16 * PIECE_BYTES];
    let mut filled = 0;
    let mut len = 0u64;
    loop {
        let n = match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += n;
        len += n as u64;
        if filled == buf.len() {
            leaves.extend(buf.chunks(PIECE_BYTES).map(piece_hash));
            filled = 0;
        }
    }
    leaves.extend(buf[..filled].chunks(PIECE_BYTES).map(piece_hash));
    Ok(root(leaves.into_iter(), len))
}

/// [`HASH_SCHEME`] of a whole file, its pieces hashed on up to four threads
/// when it is large (16 MiB or more per thread): the same value as
/// [`content_hash_of`], in a fraction of the time (an output folder's
/// `waveforms.h5` is hashed for its record as the run ends).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("w.h5");
/// let bytes: Vec<u8> = (0..40_000_000u32).map(|i| (i % 251) as u8).collect();
/// std::fs::write(&p, &bytes).unwrap();
/// let f = std::fs::File::open(&p).unwrap();
/// assert_eq!(burstscope_core::hash_file(&f).unwrap(), burstscope_core::hash_bytes(&bytes));
/// ```
///
/// # Errors
/// The I/O error of reading the file (or of its ending early).
pub fn hash_file(file: &std::fs::File) -> std::io::Result<String> {
    const PER_THREAD: u64 = 16 << 20;
    let len = file.metadata()?.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4)
        .min(usize::try_from(len / PER_THREAD).unwrap_or(usize::MAX));
    if threads <= 1 || cfg!(not(unix)) {
        return content_hash_of(file);
    }
    let n = usize::try_from(len.div_ceil(PIECE_BYTES as u64)).unwrap_or(usize::MAX);
    let per = n.div_ceil(threads);
    let parts: Vec<std::io::Result<Vec<[u8; 16]>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let (a, b) = (t * per, ((t + 1) * per).min(n));
                    let mut leaves = Vec::with_capacity(b.saturating_sub(a));
                    read_pieces(file, a..b, len, &mut Vec::new(), &mut leaves)?;
                    Ok(leaves)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(std::io::Error::other("hashing thread panicked"))))
            .collect()
    });
    let mut leaves = Vec::with_capacity(n);
    for p in parts {
        leaves.extend(p?);
    }
    Ok(root(leaves.into_iter(), len))
}

/// [`HASH_SCHEME`] of bytes in memory, the same as [`content_hash_of`] gives.
#[must_use]
pub fn hash_bytes(bytes: &[u8]) -> String {
    root(bytes.chunks(PIECE_BYTES).map(piece_hash), bytes.len() as u64)
}

/// A file's identity for the registry of taps: (device, inode, size,
/// modification time in ns). A file changed since is another key.
pub(crate) type FileKey = (u64, u64, u64, i128);

pub(crate) fn file_key(meta: &std::fs::Metadata) -> Option<FileKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
        Some((meta.dev(), meta.ino(), meta.len(), mtime))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// The pieces of one file hashed so far, by whichever reader read them.
///
/// ```
/// use burstscope_core::{HashTap, InputIdentity, hash_bytes};
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("rec.bin");
/// let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
/// std::fs::write(&p, &bytes).unwrap();
/// assert!(HashTap::want(&p));
/// // a reader of bytes 100 000..250 000 offers them as it reads them
/// let f = std::fs::File::open(&p).unwrap();
/// let tap = HashTap::of(&f).unwrap();
/// tap.offer(100_000, &bytes[100_000..250_000]);
/// assert_eq!(tap.pieces_hashed(), 1); // 131 072..196 608 lies wholly inside
/// // the identity reads only the other pieces, and is the hash of the whole file
/// assert_eq!(InputIdentity::of(&p).unwrap().content_hash, hash_bytes(&bytes));
/// ```
#[derive(Debug)]
pub struct HashTap {
    len: u64,
    pieces: Box<[OnceLock<[u8; 16]>]>,
    /// Pieces offered in parts (a read that ends inside a piece, and the
    /// neighbouring read that starts inside it): their bytes so far and the
    /// byte ranges they cover, until the parts make the whole piece.
    partial: Mutex<HashMap<usize, Partial>>,
    /// Entries in `partial` (read without the lock).
    n_partial: std::sync::atomic::AtomicUsize,
}

#[derive(Debug)]
struct Partial {
    bytes: Vec<u8>,
    /// Covered ranges within the piece, sorted and disjoint.
    have: Vec<(usize, usize)>,
}

impl Partial {
    /// Adds bytes `a..a + part.len()` of the piece; true once the whole piece is here.
    fn add(&mut self, a: usize, part: &[u8]) -> bool {
        let b = a + part.len();
        self.bytes[a..b].copy_from_slice(part);
        self.have.push((a, b));
        self.have.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.have.len());
        for &(x, y) in &self.have {
            match merged.last_mut() {
                Some(last) if x <= last.1 => last.1 = last.1.max(y),
                _ => merged.push((x, y)),
            }
        }
        self.have = merged;
        self.have == [(0, self.bytes.len())]
    }
}

static TAPS: Mutex<Option<HashMap<FileKey, Arc<HashTap>>>> = Mutex::new(None);

impl HashTap {
    fn new(len: u64) -> Self {
        let n = usize::try_from(len.div_ceil(PIECE_BYTES as u64)).unwrap_or(0);
        Self { len, pieces: (0..n).map(|_| OnceLock::new()).collect(), partial: Mutex::default(), n_partial: 0.into() }
    }

    /// Asks the readers of `path` (until its identity is taken by
    /// [`crate::InputIdentity::of`]) to hash what they read. Returns whether a
    /// tap is now open (not when this process has hashed the unchanged file
    /// already, when the file cannot be read, or on systems without file
    /// identities).
    #[must_use]
    pub fn want(path: &std::path::Path) -> bool {
        let Some(key) = std::fs::metadata(path).ok().as_ref().and_then(file_key) else { return false };
        if crate::record::memoized(&key).is_some() {
            return false;
        }
        let Ok(mut taps) = TAPS.lock() else { return false };
        taps.get_or_insert_with(HashMap::new).entry(key).or_insert_with(|| Arc::new(Self::new(key.2)));
        true
    }

    /// The tap of an open file, when its identity is wanted.
    #[must_use]
    pub fn of(file: &std::fs::File) -> Option<Arc<Self>> {
        let key = file_key(&file.metadata().ok()?)?;
        TAPS.lock().ok()?.as_ref()?.get(&key).cloned()
    }

    /// The tap of `path`, when its identity is wanted and not yet taken.
    #[must_use]
    pub fn wanted(path: &std::path::Path) -> Option<Arc<Self>> {
        let key = file_key(&std::fs::metadata(path).ok()?)?;
        TAPS.lock().ok()?.as_ref()?.get(&key).cloned()
    }

    /// Closes the tap of `path` unused (the identity is no longer wanted).
    pub fn forget(path: &std::path::Path) {
        if let Some(key) = std::fs::metadata(path).ok().as_ref().and_then(file_key) {
            drop(Self::take(&key));
        }
    }

    /// Removes and returns the tap of the file with this key.
    pub(crate) fn take(key: &FileKey) -> Option<Arc<Self>> {
        TAPS.lock().ok()?.as_mut()?.remove(key)
    }

    /// Hashes the pieces of the file that bytes `offset..offset +
    /// bytes.len()` hold and that have not been hashed yet. A piece the bytes
    /// hold only part of is kept until other offers complete it.
    #[allow(clippy::cast_possible_truncation)] // offsets within `bytes` and within a piece
    pub fn offer(&self, offset: u64, bytes: &[u8]) {
        let p = PIECE_BYTES as u64;
        let end = (offset + bytes.len() as u64).min(self.len);
        if offset >= end {
            return;
        }
        for k in offset / p..end.div_ceil(p) {
            let Some(slot) = usize::try_from(k).ok().and_then(|k| self.pieces.get(k)) else { break };
            if slot.get().is_some() {
                continue;
            }
            let (a, b) = (k * p, ((k + 1) * p).min(self.len));
            let (x, y) = (a.max(offset), b.min(end));
            let part = &bytes[(x - offset) as usize..(y - offset) as usize];
            let whole = (x, y) == (a, b);
            if whole {
                let _ = slot.set(piece_hash(part));
                if self.n_partial.load(Ordering::Acquire) == 0 {
                    continue;
                }
            }
            let Ok(mut partial) = self.partial.lock() else { return };
            let done = whole
                || partial
                    .entry(k as usize)
                    .or_insert_with(|| Partial { bytes: vec![0; (b - a) as usize], have: Vec::new() })
                    .add((x - a) as usize, part);
            if done
                && let Some(e) = partial.remove(&(k as usize))
                && !whole
            {
                let _ = slot.set(piece_hash(&e.bytes));
            }
            self.n_partial.store(partial.len(), Ordering::Release);
        }
    }

    /// How many pieces have been hashed.
    #[must_use]
    pub fn pieces_hashed(&self) -> usize {
        self.pieces.iter().filter(|s| s.get().is_some()).count()
    }

    /// How many pieces the file has.
    #[must_use]
    pub fn n_pieces(&self) -> usize {
        self.pieces.len()
    }

    /// The file's hash: the pieces offered, and the others read from `file`
    /// with positioned reads (contiguous runs of missing pieces at a time).
    pub(crate) fn finish(&self, file: &std::fs::File) -> std::io::Result<String> {
        let n = self.pieces.len();
        let mut leaves: Vec<[u8; 16]> = Vec::with_capacity(n);
        let mut buf = Vec::new();
        let mut k = 0;
        while k < n {
            if let Some(h) = self.pieces[k].get() {
                leaves.push(*h);
                k += 1;
                continue;
            }
            // a run of missing pieces
            let mut e = k + 1;
            while e < n && self.pieces[e].get().is_none() {
                e += 1;
            }
            read_pieces(file, k..e, self.len, &mut buf, &mut leaves)?;
            k = e;
        }
        Ok(root(leaves.into_iter(), self.len))
    }
}

/// Reads pieces `pieces` of a file of `len` bytes, up to 1 MiB at a time
/// through `buf`, and appends their hashes to `leaves`.
fn read_pieces(
    file: &std::fs::File,
    pieces: std::ops::Range<usize>,
    len: u64,
    buf: &mut Vec<u8>,
    leaves: &mut Vec<[u8; 16]>,
) -> std::io::Result<()> {
    let mut k = pieces.start;
    while k < pieces.end {
        let e = (k + 16).min(pieces.end);
        let (a, b) = ((k * PIECE_BYTES) as u64, ((e * PIECE_BYTES) as u64).min(len));
        #[allow(clippy::cast_possible_truncation)]
        buf.resize((b - a) as usize, 0);
        read_exact_at(file, buf, a)?;
        leaves.extend(buf.chunks(PIECE_BYTES).map(piece_hash));
        k = e;
    }
    Ok(())
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_exact_at(mut file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u8> {
        // xorshift: no period shorter than a piece
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn stream_and_memory_agree_at_every_piece_boundary() {
        for n in [
            0,
            1,
            PIECE_BYTES - 1,
            PIECE_BYTES,
            PIECE_BYTES + 1,
            16 * PIECE_BYTES,
            16 * PIECE_BYTES + 3,
            40 * PIECE_BYTES + 17,
        ] {
            let b = bytes(n);
            // a reader that returns odd-sized pieces
            struct Dribble<'a>(&'a [u8]);
            impl Read for Dribble<'_> {
                fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                    let k = self.0.len().min(out.len()).min(12_345);
                    out[..k].copy_from_slice(&self.0[..k]);
                    self.0 = &self.0[k..];
                    Ok(k)
                }
            }
            assert_eq!(content_hash_of(Dribble(&b)).unwrap(), hash_bytes(&b), "{n} bytes");
        }
    }

    #[test]
    fn the_hash_sees_every_byte_and_the_length() {
        let b = bytes(3 * PIECE_BYTES + 5);
        let h = hash_bytes(&b);
        for i in [0, PIECE_BYTES - 1, PIECE_BYTES, 3 * PIECE_BYTES + 4] {
            let mut c = b.clone();
            c[i] ^= 1;
            assert_ne!(hash_bytes(&c), h, "byte {i}");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert_ne!(hash_bytes(&longer), h);
        assert_ne!(hash_bytes(&b[..PIECE_BYTES]), hash_bytes(&b[PIECE_BYTES..2 * PIECE_BYTES]));
    }

    #[test]
    fn offered_pieces_in_any_order_give_the_whole_files_hash() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.bin");
        let b = bytes(37 * PIECE_BYTES + 999);
        std::fs::write(&p, &b).unwrap();
        let f = std::fs::File::open(&p).unwrap();
        let tap = HashTap::new(b.len() as u64);
        // overlapping reads, out of order, some not on piece boundaries
        for (a, e) in
            [(20 * PIECE_BYTES + 3, 30 * PIECE_BYTES), (0, 5 * PIECE_BYTES + 7), (4 * PIECE_BYTES, 21 * PIECE_BYTES)]
        {
            tap.offer(a as u64, &b[a..e]);
        }
        tap.offer((36 * PIECE_BYTES) as u64, &b[36 * PIECE_BYTES..]); // 36 and the short last piece
        assert_eq!(tap.pieces_hashed(), 30 + 2);
        assert_eq!(tap.partial.lock().unwrap().len(), 0, "parts of pieces hashed since are dropped");
        // pieces made of two parts, neither offer holding the whole piece
        tap.offer((31 * PIECE_BYTES) as u64, &b[31 * PIECE_BYTES..32 * PIECE_BYTES + 100]);
        tap.offer((32 * PIECE_BYTES + 50) as u64, &b[32 * PIECE_BYTES + 50..33 * PIECE_BYTES + 1]);
        tap.offer((33 * PIECE_BYTES + 1) as u64, &b[33 * PIECE_BYTES + 1..34 * PIECE_BYTES]);
        assert_eq!(tap.pieces_hashed(), 32 + 3, "31 whole, 32 and 33 from parts");
        assert_eq!(tap.partial.lock().unwrap().len(), 0);
        assert_eq!(tap.finish(&f).unwrap(), hash_bytes(&b));
        // nothing offered
        assert_eq!(HashTap::new(b.len() as u64).finish(&f).unwrap(), hash_bytes(&b));
    }

    #[test]
    fn a_file_hashed_once_opens_no_tap_and_a_taken_tap_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.bin");
        std::fs::write(&p, bytes(3 * PIECE_BYTES)).unwrap();
        assert!(HashTap::want(&p));
        assert!(HashTap::wanted(&p).is_some());
        let id = crate::InputIdentity::of(&p).unwrap();
        assert!(HashTap::wanted(&p).is_none(), "taken with the identity");
        assert!(!HashTap::want(&p), "memoized: no tap");
        assert!(HashTap::of(&std::fs::File::open(&p).unwrap()).is_none());
        assert_eq!(crate::InputIdentity::of(&p).unwrap(), id);
        let q = dir.path().join("h.bin");
        std::fs::write(&q, b"x").unwrap();
        assert!(HashTap::want(&q));
        HashTap::forget(&q);
        assert!(HashTap::wanted(&q).is_none());
    }
}
