//! NumPy `.npy` arrays (format versions 1–3) of the simple kinds acquisition
//! programs write: little-endian integers and floats, C order, 1-D or 2-D.

use std::path::Path;

/// A numeric array read as f64 (integers up to 2^53 exactly) or i64.
#[derive(Debug, Clone, PartialEq)]
pub struct Npy {
    /// Its shape.
    pub shape: Vec<usize>,
    /// The dtype as written (`<i8`, `<f8`, ...).
    pub descr: String,
    /// The values as i64 when the dtype is an integer type.
    pub ints: Option<Vec<i64>>,
    /// The values as f64.
    pub floats: Vec<f64>,
}

/// Reads an `.npy` file.
///
/// # Errors
/// The reason, naming nothing (the caller names the file): not an npy file,
/// Fortran order, or a dtype this reader does not know.
pub fn read_npy(path: &Path) -> Result<Npy, String> {
    let b = std::fs::read(path).map_err(|e| e.to_string())?;
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err("not a NumPy .npy file (no \\x93NUMPY magic)".into());
    }
    let (hlen, start) = match b[6] {
        1 => (usize::from(u16::from_le_bytes([b[8], b[9]])), 10),
        2 | 3 if b.len() >= 12 => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
        v => return Err(format!("npy format version {v}: expected 1, 2 or 3")),
    };
    let header = std::str::from_utf8(b.get(start..start + hlen).ok_or("header past the end of the file")?)
        .map_err(|_| "header is not text")?;
    let field = |key: &str| -> Option<&str> {
        let i = header.find(&format!("'{key}':"))? + key.len() + 3;
        Some(header[i..].trim_start())
    };
    let descr = field("descr")
        .and_then(|s| s.strip_prefix('\'').and_then(|s| s.split('\'').next()))
        .ok_or("header without descr")?
        .to_string();
    if field("fortran_order").is_some_and(|s| s.starts_with("True")) {
        return Err("Fortran-order arrays are not read".into());
    }
    let shape_text = field("shape")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split(')').next())
        .ok_or("header without shape")?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("shape '{shape_text}'")))
        .collect::<Result<_, _>>()?;
    let n: usize = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("shape '{shape_text}' is too large"))?;
    let data = &b[start + hlen..];
    let width = match descr.trim_start_matches(['<', '|', '=']) {
        "i1" | "u1" | "b1" => 1,
        "i2" | "u2" => 2,
        "i4" | "u4" | "f4" => 4,
        "i8" | "u8" | "f8" => 8,
        other => return Err(format!("dtype '{other}': expected little-endian integers or floats")),
    };
    if descr.starts_with('>') {
        return Err(format!("big-endian dtype '{descr}'"));
    }
    if n.checked_mul(width).is_none_or(|bytes| data.len() < bytes) {
        return Err(format!("{} bytes of data for {n} values of {width} bytes", data.len()));
    }
    let kind = descr.trim_start_matches(['<', '|', '=']).to_string();
    let mut ints = Vec::with_capacity(n);
    let mut floats = Vec::with_capacity(n);
    for c in data[..n * width].chunks_exact(width) {
        let (i, f): (Option<i64>, f64) = match kind.as_str() {
            "i1" => (Some(i64::from(c[0] as i8)), f64::from(c[0] as i8)),
            "u1" | "b1" => (Some(i64::from(c[0])), f64::from(c[0])),
            "i2" => {
                let v = i16::from_le_bytes([c[0], c[1]]);
                (Some(i64::from(v)), f64::from(v))
            }
            "u2" => {
                let v = u16::from_le_bytes([c[0], c[1]]);
                (Some(i64::from(v)), f64::from(v))
            }
            "i4" => {
                let v = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                (Some(i64::from(v)), f64::from(v))
            }
            "u4" => {
                let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                (Some(i64::from(v)), f64::from(v))
            }
            "f4" => (None, f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            "i8" => {
                let v = i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                #[allow(clippy::cast_precision_loss)]
                (Some(v), v as f64)
            }
            "u8" => {
                let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                #[allow(clippy::cast_precision_loss)]
                (i64::try_from(v).ok(), v as f64)
            }
            _ => (None, f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        };
        if let Some(i) = i {
            ints.push(i);
        }
        floats.push(f);
    }
    let is_int = !matches!(kind.as_str(), "f4" | "f8") && ints.len() == n;
    Ok(Npy { shape, descr, ints: is_int.then_some(ints), floats })
}

/// Writes a 1-D little-endian array (`<i2`, `<i8`, `<f8`, `<u8`): for tests
/// and for files written from the format's description.
///
/// # Errors
/// The file cannot be written.
pub fn write_npy_1d(path: &Path, descr: &str, n: usize, bytes: &[u8]) -> std::io::Result<()> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({n},), }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend(u16::try_from(h.len()).unwrap_or(u16::MAX).to_le_bytes());
    out.extend(h.as_bytes());
    out.extend(bytes);
    std::fs::write(path, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.npy");
        let vals: Vec<u8> = [5i64, -7, 40_091].iter().flat_map(|v| v.to_le_bytes()).collect();
        write_npy_1d(&p, "<i8", 3, &vals).unwrap();
        let a = read_npy(&p).unwrap();
        assert_eq!((a.shape.clone(), a.ints.clone()), (vec![3], Some(vec![5, -7, 40_091])));
        std::fs::write(&p, b"not numpy at all").unwrap();
        assert!(read_npy(&p).unwrap_err().contains("magic"));
    }
}
