//! Direct reads of simple datasets, bypassing the HDF5 library for speed.
//!
//! HDF5 serialises every call behind one global lock, so parallel block reads
//! queue up, and gzip chunks are inflated under that lock too. For the layouts
//! raw recordings actually use — contiguous, or chunked with chunks spanning
//! every channel, stored little-endian, with no filter or shuffle + deflate —
//! the byte positions of every chunk are taken from HDF5 once at open, and
//! blocks are then read with positioned reads from any thread, inflated and
//! unshuffled here, with a small cache of decoded chunks (blocks overlap their
//! neighbours' margins). Anything else is read through HDF5 as before.

use hdf5::Dataset;
use hdf5::filters::Filter;
use std::collections::HashMap;
use std::sync::Mutex;

/// One stored piece of the dataset: rows `row..row+rows` at `addr`.
#[derive(Debug, Clone)]
struct Piece {
    row: usize,
    rows: usize,
    addr: u64,
    size: u64,
    /// The chunk went through the deflate filter (and shuffle, if `shuffled`).
    deflated: bool,
    shuffled: bool,
}

/// The file's bytes, by positioned reads (any thread, no lock). Mapping the
/// whole file avoids the kernel's copy but its touched pages count as the
/// process's resident memory — a recording's worth by the end — and mapping
/// each block separately costs more than the copy; so blocks are read.
#[derive(Debug)]
struct Source {
    file: std::fs::File,
    /// Where the bytes read go to be hashed, when the file's identity is wanted.
    tap: Option<std::sync::Arc<burstscope_core::HashTap>>,
}

impl Source {
    fn open(path: &std::path::Path) -> Option<Self> {
        let file = std::fs::File::open(path).ok()?;
        let tap = burstscope_core::HashTap::of(&file);
        Some(Self { file, tap })
    }

    /// Calls `f` with bytes `offset..offset+len`.
    fn with_bytes<R>(&self, offset: u64, len: usize, f: impl FnOnce(&[u8]) -> R) -> std::io::Result<R> {
        READ_BUF.with_borrow_mut(|buf| {
            // grown once, never shrunk: a shorter read must not make the next
            // longer one zero the whole buffer again
            if buf.len() < len {
                buf.resize(len, 0);
            }
            let buf = &mut buf[..len];
            read_at(&self.file, buf, offset)?;
            if let Some(t) = &self.tap {
                t.offer(offset, buf);
            }
            Ok(f(buf))
        })
    }
}

thread_local! {
    static READ_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Where each row of a 1-D or time-major 2-D dataset lives in the file.
#[derive(Debug)]
pub(crate) struct DirectIndex {
    file: Source,
    pieces: Vec<Piece>,
    /// Stored rows per chunk (the chunk shape, not the valid rows).
    chunk_rows: usize,
    row_bytes: usize,
    elem: usize,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    tick: u64,
    chunks: HashMap<usize, (u64, std::sync::Arc<Vec<u8>>)>,
}

const CACHE_CHUNKS: usize = 8;

impl DirectIndex {
    /// Builds the index when the dataset's layout allows it; `None` otherwise.
    pub(crate) fn new(path: &std::path::Path, ds: &Dataset, n_rows: usize, n_cols: usize, elem: usize) -> Option<Self> {
        if n_rows == 0 || elem == 0 {
            return None;
        }
        let dtype = ds.dtype().ok()?;
        if dtype.byte_order() != hdf5::datatype::ByteOrder::LittleEndian && elem > 1 {
            return None;
        }
        let row_bytes = n_cols * elem;
        let file = Source::open(path)?;
        if let Some(addr) = ds.offset() {
            // Contiguous: one piece.
            let size = (n_rows * row_bytes) as u64;
            let pieces = vec![Piece { row: 0, rows: n_rows, addr, size, deflated: false, shuffled: false }];
            return Some(Self { file, pieces, chunk_rows: n_rows, row_bytes, elem, cache: Mutex::default() });
        }
        let chunk = ds.chunk()?;
        let chunk_cols = if chunk.len() == 2 { chunk[1] } else { 1 };
        if chunk.is_empty() || chunk_cols != n_cols.max(1) || (chunk.len() == 1 && n_cols != 1) {
            return None;
        }
        let filters = ds.filters();
        let mut shuffle_at = None;
        let mut deflate_at = None;
        for (i, f) in filters.iter().enumerate() {
            match f {
                Filter::Shuffle if deflate_at.is_none() => shuffle_at = Some(i),
                Filter::Deflate(_) => deflate_at = Some(i),
                _ => return None,
            }
        }
        if shuffle_at.is_some() && deflate_at.is_none() {
            return None;
        }
        let chunk_rows = chunk[0];
        let n = ds.num_chunks()?;
        let mut pieces = Vec::with_capacity(n);
        for i in 0..n {
            let info = ds.chunk_info(i)?;
            let row = usize::try_from(info.offset[0]).ok()?;
            let skipped = |k: Option<usize>| k.is_some_and(|k| info.filter_mask & (1 << k) != 0);
            pieces.push(Piece {
                row,
                rows: chunk_rows.min(n_rows.saturating_sub(row)),
                addr: info.addr,
                size: info.size,
                deflated: deflate_at.is_some() && !skipped(deflate_at),
                shuffled: shuffle_at.is_some() && !skipped(shuffle_at),
            });
        }
        pieces.sort_by_key(|p| p.row);
        // Every row must be stored (no unallocated chunks).
        let mut next = 0;
        for p in &pieces {
            if p.row != next {
                return None;
            }
            next += p.rows;
        }
        if next != n_rows {
            return None;
        }
        Some(Self { file, pieces, chunk_rows, row_bytes, elem, cache: Mutex::default() })
    }

    /// Whether reads are offered to the file's hash tap.
    pub(crate) fn feeds_hash_tap(&self) -> bool {
        self.file.tap.is_some()
    }

    /// Little-endian bytes of rows `a..b`, handed to `f` piece by piece as
    /// (first row, bytes of whole rows).
    pub(crate) fn read_rows(&self, a: usize, b: usize, mut f: impl FnMut(usize, &[u8])) -> std::io::Result<()> {
        let first = self.pieces.partition_point(|p| p.row + p.rows <= a);
        for (k, p) in self.pieces.iter().enumerate().skip(first) {
            if p.row >= b {
                break;
            }
            let (r0, r1) = (a.max(p.row), b.min(p.row + p.rows));
            if p.deflated {
                let bytes = self.decoded(k, p)?;
                f(r0, &bytes[(r0 - p.row) * self.row_bytes..(r1 - p.row) * self.row_bytes]);
            } else {
                let at = p.addr + ((r0 - p.row) * self.row_bytes) as u64;
                self.file.with_bytes(at, (r1 - r0) * self.row_bytes, |bytes| f(r0, bytes))?;
            }
        }
        Ok(())
    }

    fn decoded(&self, k: usize, p: &Piece) -> std::io::Result<std::sync::Arc<Vec<u8>>> {
        {
            let mut c = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            c.tick += 1;
            let tick = c.tick;
            if let Some(e) = c.chunks.get_mut(&k) {
                e.0 = tick;
                return Ok(e.1.clone());
            }
        }
        let full = self.chunk_rows * self.row_bytes;
        let mut out = Vec::with_capacity(full);
        self.file.with_bytes(p.addr, usize::try_from(p.size).unwrap_or(0), |comp| inflate(comp, &mut out))??;
        if out.len() < p.rows * self.row_bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "chunk inflates to fewer bytes than its rows",
            ));
        }
        if p.shuffled && self.elem > 1 {
            out = unshuffle(&out, self.elem);
        }
        let out = std::sync::Arc::new(out);
        let mut c = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if c.chunks.len() >= CACHE_CHUNKS
            && let Some(old) = c.chunks.iter().min_by_key(|e| e.1.0).map(|e| *e.0)
        {
            c.chunks.remove(&old);
        }
        let tick = c.tick;
        c.chunks.insert(k, (tick, out.clone()));
        Ok(out)
    }
}

/// Inflates the zlib stream `comp` into `out`'s spare capacity (grown as
/// needed): no zeroing of the output first, as reading through a decoder does.
fn inflate(comp: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut z = flate2::Decompress::new(true);
    loop {
        if out.capacity() == out.len() {
            out.reserve(out.capacity().max(1 << 16));
        }
        let (before_in, before_out) = (z.total_in(), z.total_out());
        let consumed = usize::try_from(before_in).unwrap_or(usize::MAX);
        let rest = comp.get(consumed..).unwrap_or_default();
        let status = z
            .decompress_vec(rest, out, flate2::FlushDecompress::Finish)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        if status == flate2::Status::StreamEnd {
            return Ok(());
        }
        // not finished with room left in the output: the input ran out, or
        // the decoder can make no progress (a damaged stream)
        let stalled = z.total_in() == before_in && z.total_out() == before_out;
        if out.len() < out.capacity() && (stalled || usize::try_from(z.total_in()).unwrap_or(usize::MAX) >= comp.len())
        {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "deflate stream ends early"));
        }
    }
}

/// Inverse of HDF5's shuffle filter: bytes grouped by significance back into
/// elements. Elements of 2 and 4 bytes (int16, int32, float32) interleave
/// their byte planes 64 elements at a time through a stack buffer, which
/// vectorises; others go byte by byte.
fn unshuffle(input: &[u8], elem: usize) -> Vec<u8> {
    const BLOCK: usize = 64;
    fn planes<const E: usize>(input: &[u8], n: usize, out: &mut Vec<u8>) {
        let mut buf = [[0u8; E]; BLOCK];
        let mut i = 0;
        while i + BLOCK <= n {
            for (k, b) in buf.iter_mut().enumerate() {
                for (j, v) in b.iter_mut().enumerate() {
                    *v = input[j * n + i + k];
                }
            }
            out.extend_from_slice(buf.as_flattened());
            i += BLOCK;
        }
        for k in i..n {
            for j in 0..E {
                out.push(input[j * n + k]);
            }
        }
    }
    let n = input.len() / elem;
    let mut out = Vec::with_capacity(input.len());
    match elem {
        2 => planes::<2>(input, n, &mut out),
        4 => planes::<4>(input, n, &mut out),
        _ => {
            out.resize(n * elem, 0);
            for j in 0..elem {
                let src = &input[j * n..(j + 1) * n];
                for (i, &b) in src.iter().enumerate() {
                    out[i * elem + j] = b;
                }
            }
        }
    }
    // HDF5 leaves a tail that is not a whole element unshuffled.
    out.extend_from_slice(&input[n * elem..]);
    out
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_at(_: &std::fs::File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "direct reads need unix"))
}

#[cfg(test)]
mod tests {
    use super::unshuffle;

    #[test]
    fn unshuffle_of_any_length_and_width_inverts_the_shuffle() {
        for elem in [1, 2, 3, 4, 8] {
            for n in [0, 1, 63, 64, 65, 1000] {
                let values: Vec<u8> = (0..n * elem + 1).map(|i| (i * 37 % 251) as u8).collect();
                // HDF5's shuffle: byte j of element i goes to plane j
                let mut shuffled = vec![0u8; values.len()];
                for i in 0..n {
                    for j in 0..elem {
                        shuffled[j * n + i] = values[i * elem + j];
                    }
                }
                shuffled[n * elem..].copy_from_slice(&values[n * elem..]);
                assert_eq!(unshuffle(&shuffled, elem), values, "elem {elem}, n {n}");
            }
        }
    }

    #[test]
    fn inflate_restores_the_bytes_and_a_truncated_stream_is_an_error() {
        use std::io::Write;
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 97) as u8 ^ (i >> 9) as u8).collect();
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(4));
        e.write_all(&data).unwrap();
        let comp = e.finish().unwrap();
        for cap in [0, 1000, data.len()] {
            let mut out = Vec::with_capacity(cap);
            super::inflate(&comp, &mut out).unwrap();
            assert!(out == data);
        }
        let mut out = Vec::new();
        assert!(super::inflate(&comp[..comp.len() / 2], &mut out).is_err());
    }

    #[test]
    fn unshuffle_restores_elements() {
        // Elements 0x0102, 0x0304, 0x0506 (little-endian) shuffled: low bytes then high bytes.
        let shuffled = [0x02, 0x04, 0x06, 0x01, 0x03, 0x05];
        assert_eq!(unshuffle(&shuffled, 2), vec![0x02, 0x01, 0x04, 0x03, 0x06, 0x05]);
    }
}
