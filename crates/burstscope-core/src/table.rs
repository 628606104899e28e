//! Plain column-oriented tables: what analysis stages produce and the tables
//! crate writes as Parquet or CSV. No dataframe library is involved here.

use serde::{Deserialize, Serialize};

/// The values of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnData {
    /// Signed integers.
    I64(Vec<i64>),
    /// Unsigned integers.
    U64(Vec<u64>),
    /// 64-bit floats.
    F64(Vec<f64>),
    /// 32-bit floats.
    F32(Vec<f32>),
    /// Text.
    Str(Vec<String>),
    /// Booleans.
    Bool(Vec<bool>),
}

impl ColumnData {
    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            ColumnData::I64(v) => v.len(),
            ColumnData::U64(v) => v.len(),
            ColumnData::F64(v) => v.len(),
            ColumnData::F32(v) => v.len(),
            ColumnData::Str(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
        }
    }

    /// True when there are no values.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A named column; names are snake_case with units (`time_s`, `amplitude_uv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Values.
    pub data: ColumnData,
}

/// A named table (its file is named after it: `spikes.parquet`).
///
/// ```
/// use burstscope_core::{Table, ColumnData};
/// let mut t = Table::new("spikes");
/// t.push("time_s", ColumnData::F64(vec![0.1, 0.2]));
/// t.push("group", ColumnData::Str(vec!["tetrode0".into(), "tetrode1".into()]));
/// assert_eq!(t.n_rows(), 2);
/// assert!(t.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<Column>,
}

impl Table {
    /// An empty table.
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self { name: name.into(), columns: Vec::new() }
    }

    /// Appends a column.
    pub fn push(&mut self, name: &str, data: ColumnData) {
        self.columns.push(Column { name: name.into(), data });
    }

    /// Rows (length of the first column).
    #[must_use]
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }

    /// The column called `name`.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        self.columns.iter().find(|c| c.name == name).map(|c| &c.data)
    }

    /// Checks that all columns have the same length and distinct names.
    ///
    /// # Errors
    /// A message naming the offending column.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.n_rows();
        for (i, c) in self.columns.iter().enumerate() {
            if c.data.len() != n {
                return Err(format!("table {}: column {} has {} rows, expected {n}", self.name, c.name, c.data.len()));
            }
            if self.columns[..i].iter().any(|o| o.name == c.name) {
                return Err(format!("table {}: duplicate column {}", self.name, c.name));
            }
        }
        Ok(())
    }
}
