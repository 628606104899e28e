//! Typed access to HDF5 objects that tolerates what different writers store:
//! any integer or float width for numbers, fixed or variable, ASCII or UTF-8
//! strings, and object references. Every failure becomes an [`IoError`] that
//! names the file and HDF5 path.

use crate::error::{IoError, Result};
use hdf5::types::{FixedAscii, FixedUnicode, FloatSize, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, Container, Dataset, Group, Location, ObjectReference1, ReferencedObject};
use std::path::{Path, PathBuf};

/// The file being read, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) file: PathBuf,
}

/// Human name of an HDF5 element type.
pub(crate) fn dtype_name(td: &TypeDescriptor) -> String {
    match td {
        TypeDescriptor::Integer(s) => format!("int{}", int_bits(*s)),
        TypeDescriptor::Unsigned(s) => format!("uint{}", int_bits(*s)),
        TypeDescriptor::Float(FloatSize::U4) => "float32".into(),
        TypeDescriptor::Float(FloatSize::U8) => "float64".into(),
        TypeDescriptor::Boolean => "bool".into(),
        TypeDescriptor::VarLenUnicode | TypeDescriptor::VarLenAscii => "string".into(),
        TypeDescriptor::FixedAscii(n) | TypeDescriptor::FixedUnicode(n) => format!("string[{n}]"),
        TypeDescriptor::Reference(_) => "reference".into(),
        TypeDescriptor::Compound(_) => "compound".into(),
        other => format!("{other:?}"),
    }
}

fn int_bits(s: IntSize) -> usize {
    match s {
        IntSize::U1 => 8,
        IntSize::U2 => 16,
        IntSize::U4 => 32,
        IntSize::U8 => 64,
    }
}

/// True when the type is an integer or float (what numeric readers accept).
pub(crate) fn is_numeric(td: &TypeDescriptor) -> bool {
    matches!(td, TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_))
}

/// True when the type is any kind of string.
pub(crate) fn is_string(td: &TypeDescriptor) -> bool {
    matches!(
        td,
        TypeDescriptor::VarLenUnicode
            | TypeDescriptor::VarLenAscii
            | TypeDescriptor::FixedAscii(_)
            | TypeDescriptor::FixedUnicode(_)
    )
}

fn fixed_to_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim_end().to_string()
}

impl Ctx {
    pub(crate) fn new(file: &Path) -> Self {
        Self { file: file.to_path_buf() }
    }

    pub(crate) fn h5err(&self, h5path: &str, source: hdf5::Error) -> IoError {
        IoError::Hdf5 { file: self.file.clone(), h5path: h5path.to_string(), source }
    }

    pub(crate) fn missing(&self, h5path: &str, expected: &str) -> IoError {
        IoError::Missing { file: self.file.clone(), h5path: h5path.to_string(), expected: expected.into() }
    }

    pub(crate) fn invalid(&self, h5path: &str, problem: impl Into<String>) -> IoError {
        IoError::Invalid { file: self.file.clone(), h5path: h5path.to_string(), problem: problem.into() }
    }

    pub(crate) fn unsupported(&self, h5path: &str, td: &TypeDescriptor, expected: &str) -> IoError {
        IoError::UnsupportedDtype {
            file: self.file.clone(),
            h5path: h5path.to_string(),
            dtype: dtype_name(td),
            expected: expected.into(),
        }
    }

    /// Type descriptor of a dataset or attribute.
    pub(crate) fn descriptor(&self, c: &Container, h5path: &str) -> Result<TypeDescriptor> {
        c.dtype().and_then(|t| t.to_descriptor()).map_err(|e| self.h5err(h5path, e))
    }

    /// Opens a dataset, or `Missing` with what was expected.
    pub(crate) fn dataset(&self, parent: &Group, name: &str, expected: &str) -> Result<Dataset> {
        let path = join(&parent.name(), name);
        if !parent.link_exists(name) {
            return Err(self.missing(&path, expected));
        }
        parent.dataset(name).map_err(|_| self.invalid(&path, format!("expected a dataset ({expected})")))
    }

    /// Reads a whole numeric dataset or attribute as `f64`, any int/float width.
    pub(crate) fn read_f64s(&self, c: &Container, h5path: &str) -> Result<Vec<f64>> {
        let td = self.descriptor(c, h5path)?;
        if !is_numeric(&td) && td != TypeDescriptor::Boolean {
            return Err(self.unsupported(h5path, &td, "a numeric type"));
        }
        c.as_reader().read_raw::<f64>().map_err(|e| self.h5err(h5path, e))
    }

    /// Reads a whole integer dataset as `i64` (index columns of any width).
    pub(crate) fn read_i64s(&self, c: &Container, h5path: &str) -> Result<Vec<i64>> {
        let td = self.descriptor(c, h5path)?;
        match td {
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
                c.as_reader().read_raw::<i64>().map_err(|e| self.h5err(h5path, e))
            }
            TypeDescriptor::Float(_) => {
                // Some writers store indices as floats; accept exact integers only.
                let v = self.read_f64s(c, h5path)?;
                v.iter()
                    .map(|&x| {
                        if x.fract() == 0.0 && x.is_finite() {
                            #[allow(clippy::cast_possible_truncation)]
                            Ok(x as i64)
                        } else {
                            Err(self.invalid(h5path, format!("expected integer values, found {x}")))
                        }
                    })
                    .collect()
            }
            other => Err(self.unsupported(h5path, &other, "an integer type")),
        }
    }

    /// Reads a scalar (or 1-element) numeric value as `f64`.
    pub(crate) fn read_f64_scalar(&self, c: &Container, h5path: &str) -> Result<f64> {
        let v = self.read_f64s(c, h5path)?;
        match v.as_slice() {
            [x] => Ok(*x),
            _ => Err(self.invalid(h5path, format!("expected one number, found {} values", v.len()))),
        }
    }

    /// Reads all strings of a dataset or attribute (scalar gives one).
    pub(crate) fn read_strings(&self, c: &Container, h5path: &str) -> Result<Vec<String>> {
        let td = self.descriptor(c, h5path)?;
        let r = c.as_reader();
        let e = |err| self.h5err(h5path, err);
        Ok(match td {
            TypeDescriptor::VarLenUnicode => {
                r.read_raw::<VarLenUnicode>().map_err(e)?.iter().map(|s| s.as_str().to_string()).collect()
            }
            TypeDescriptor::VarLenAscii => r
                .read_raw::<VarLenAscii>()
                .map_err(e)?
                .iter()
                .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
                .collect(),
            TypeDescriptor::FixedAscii(n) if n <= 4096 => {
                r.read_raw::<FixedAscii<4096>>().map_err(e)?.iter().map(|s| fixed_to_string(s.as_bytes())).collect()
            }
            TypeDescriptor::FixedUnicode(n) if n <= 4096 => {
                r.read_raw::<FixedUnicode<4096>>().map_err(e)?.iter().map(|s| fixed_to_string(s.as_bytes())).collect()
            }
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Float(_) => {
                self.read_f64s(c, h5path)?.iter().map(ToString::to_string).collect()
            }
            other => return Err(self.unsupported(h5path, &other, "text")),
        })
    }

    /// Reads one string (scalar or first element).
    pub(crate) fn read_string(&self, c: &Container, h5path: &str) -> Result<String> {
        let v = self.read_strings(c, h5path)?;
        v.into_iter().next().ok_or_else(|| self.invalid(h5path, "expected a string, found an empty array"))
    }

    /// Optional string attribute of a location.
    pub(crate) fn attr_string(&self, loc: &Location, name: &str) -> Result<Option<String>> {
        match open_attr(loc, name) {
            Some(a) => self.read_string(&a, &attr_path(loc, name)).map(Some),
            None => Ok(None),
        }
    }

    /// Optional numeric attribute of a location.
    pub(crate) fn attr_f64(&self, loc: &Location, name: &str) -> Result<Option<f64>> {
        match open_attr(loc, name) {
            Some(a) => self.read_f64_scalar(&a, &attr_path(loc, name)).map(Some),
            None => Ok(None),
        }
    }

    /// Optional text dataset in a group.
    pub(crate) fn opt_string_ds(&self, g: &Group, name: &str) -> Result<Option<String>> {
        if !g.link_exists(name) {
            return Ok(None);
        }
        match g.dataset(name) {
            Ok(ds) => {
                let p = join(&g.name(), name);
                let v = self.read_strings(&ds, &p)?;
                Ok(if v.is_empty() { None } else { Some(v.join("; ")) })
            }
            Err(_) => Ok(None),
        }
    }

    /// Reads object references and resolves each to the referenced object's path.
    pub(crate) fn read_ref_paths(&self, file: &Location, c: &Container, h5path: &str) -> Result<Vec<String>> {
        let td = self.descriptor(c, h5path)?;
        if !matches!(td, TypeDescriptor::Reference(_)) {
            return Err(self.unsupported(h5path, &td, "object references"));
        }
        let refs = c.as_reader().read_raw::<ObjectReference1>().map_err(|e| self.h5err(h5path, e))?;
        refs.iter().map(|r| deref_path(file, r).map_err(|e| self.h5err(h5path, e))).collect()
    }

    /// Resolves a scalar object-reference attribute to the referenced path.
    pub(crate) fn attr_ref_path(&self, file: &Location, loc: &Location, name: &str) -> Result<Option<String>> {
        let Some(a) = open_attr(loc, name) else { return Ok(None) };
        let p = attr_path(loc, name);
        let td = self.descriptor(&a, &p)?;
        if !matches!(td, TypeDescriptor::Reference(_)) {
            return Ok(None);
        }
        let r: ObjectReference1 = a.read_scalar().map_err(|e| self.h5err(&p, e))?;
        deref_path(file, &r).map(Some).map_err(|e| self.h5err(&p, e))
    }
}

/// Path of the object an object reference points to.
pub(crate) fn deref_path(file: &Location, r: &ObjectReference1) -> hdf5::Result<String> {
    Ok(match file.dereference(r)? {
        ReferencedObject::Group(g) => g.name(),
        ReferencedObject::Dataset(d) => d.name(),
        ReferencedObject::Datatype(_) => String::from("<datatype>"),
    })
}

/// Opens an attribute if it exists.
pub(crate) fn open_attr(loc: &Location, name: &str) -> Option<Attribute> {
    if loc.attr_names().map(|n| n.iter().any(|x| x == name)).unwrap_or(false) { loc.attr(name).ok() } else { None }
}

fn attr_path(loc: &Location, name: &str) -> String {
    format!("{}@{}", loc.name(), name)
}

/// Joins an HDF5 group path and a member name.
pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.ends_with('/') { format!("{parent}{name}") } else { format!("{parent}/{name}") }
}

/// The last component of an HDF5 path.
pub(crate) fn basename(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// `neurodata_type` attribute of an object, if any.
pub(crate) fn neurodata_type(ctx: &Ctx, loc: &Location) -> Option<String> {
    ctx.attr_string(loc, "neurodata_type").ok().flatten()
}

/// Member names of a group, sorted for deterministic output.
pub(crate) fn members(g: &Group) -> Vec<String> {
    let mut v = g.member_names().unwrap_or_default();
    v.sort();
    v
}
