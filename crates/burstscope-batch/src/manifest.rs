//! The manifest: one row per session, as CSV (a header line, RFC 4180
//! quoting) or TOML (one `[[session]]` table per session), paths relative to
//! the manifest's folder. Everything is checked before anything runs, and
//! every problem is reported with its line.
//!
//! Columns: `session` (unique id, also a folder name), `path` (file or
//! folder), `kind` (`tetrode`, `units`, `slice`), `subject` (animal id),
//! `group`, `region`, `drug` (all required as columns; `session`, `path`,
//! `kind` and `subject` need a value), `drug_at_s` (optional, seconds ≥ 0;
//! otherwise from the file's epochs or events), `config` (optional TOML that
//! overrides the dataset config for this session), `tags` (`;`-separated in
//! CSV, a list in TOML). Any further column is carried as text into every
//! merged table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a session holds, so which stages it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A raw tetrode recording: detect → sort → bursts.
    Tetrode,
    /// An existing sorting (NWB `/units` or a phy folder): bursts.
    Units,
    /// Voltage-clamp slice cells: epsc.
    Slice,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Tetrode, Kind::Units, Kind::Slice];

    /// The manifest's name for it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Tetrode => "tetrode",
            Kind::Units => "units",
            Kind::Slice => "slice",
        }
    }

    /// The session stages, in order.
    #[must_use]
    pub fn stages(self) -> &'static [&'static str] {
        match self {
            Kind::Tetrode => &["detect", "sort", "bursts"],
            Kind::Units => &["bursts"],
            Kind::Slice => &["epsc"],
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One session of the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Line of the manifest it came from (1-based; in TOML its `[[session]]` line).
    pub line: usize,
    /// Unique id.
    pub session: String,
    /// The file or folder, resolved against the manifest's folder.
    pub path: PathBuf,
    /// What it holds.
    pub kind: Kind,
    /// Animal id.
    pub subject: String,
    /// Treatment arm (e.g. `control`, `cLH`).
    pub group: String,
    /// Brain region.
    pub region: String,
    /// Drug.
    pub drug: String,
    /// Drug time, s from the recording's start, when given.
    pub drug_at_s: Option<f64>,
    /// Per-session config overriding the dataset config, resolved.
    pub config: Option<PathBuf>,
    /// Tags.
    pub tags: Vec<String>,
    /// Further columns, as text.
    pub extra: BTreeMap<String, String>,
}

/// A validated manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The manifest file.
    pub file: PathBuf,
    /// Sessions in manifest order.
    pub sessions: Vec<Session>,
    /// Names of the further columns, in order of first appearance.
    pub extra_columns: Vec<String>,
}

/// One thing wrong with a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line (1-based), when it belongs to one.
    pub line: Option<usize>,
    /// Column or key, when it belongs to one.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, &self.field) {
            (Some(l), Some(c)) => write!(f, "line {l}, {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            (None, Some(c)) => write!(f, "{c}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// It cannot be read.
    #[error("{}: {source}", file.display())]
    Io {
        /// The manifest.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// It is not a valid manifest; every problem found.
    #[error("{}: {}", file.display(), problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The manifest.
        file: PathBuf,
        /// What is wrong, in line order.
        problems: Vec<Problem>,
    },
}

/// Columns every manifest has.
const REQUIRED: [&str; 7] = ["session", "path", "kind", "subject", "group", "region", "drug"];
/// Columns that may be absent.
const OPTIONAL: [&str; 3] = ["drug_at_s", "config", "tags"];
/// Columns that need a value in every row.
const NON_EMPTY: [&str; 4] = ["session", "path", "kind", "subject"];

/// A cell before validation.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    List(Vec<String>),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::List(v) => v.join(";"),
        }
    }
}

struct Row {
    line: usize,
    cells: BTreeMap<String, Cell>,
}

impl Manifest {
    /// Reads a `.csv` or `.toml` manifest.
    ///
    /// # Errors
    /// [`ManifestError::Io`] when it cannot be read; [`ManifestError::Invalid`]
    /// with every problem (each naming its line and column).
    pub fn read(file: &Path) -> Result<Self, ManifestError> {
        let text =
            std::fs::read_to_string(file).map_err(|source| ManifestError::Io { file: file.to_path_buf(), source })?;
        let dir = file.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        match file.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Self::parse_csv(&text, &dir, file),
            Some("toml") => Self::parse_toml(&text, &dir, file),
            _ => Err(invalid(file, vec![problem(None, None, "expected a .csv or .toml manifest")])),
        }
    }

    /// Parses CSV text; paths resolve against `dir`; `file` names it in errors.
    ///
    /// # Errors
    /// [`ManifestError::Invalid`].
    pub fn parse_csv(text: &str, dir: &Path, file: &Path) -> Result<Self, ManifestError> {
        let records = split_csv(text).map_err(|p| invalid(file, vec![p]))?;
        let mut records = records.into_iter();
        let Some((_, header)) = records.next() else {
            return Err(invalid(file, vec![problem(None, None, "empty manifest: expected a header line")]));
        };
        let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
        let mut problems = Vec::new();
        check_columns(&header, 1, &mut problems);
        let mut rows = Vec::new();
        for (line, fields) in records {
            if fields.len() != header.len() {
                problems.push(problem(
                    Some(line),
                    None,
                    &format!("{} fields, expected {} (one per header column)", fields.len(), header.len()),
                ));
                continue;
            }
            let cells = header
                .iter()
                .zip(fields)
                .map(|(h, v)| {
                    let v = v.trim().to_string();
                    let cell = if h == "tags" {
                        Cell::List(v.split(';').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
                    } else {
                        Cell::Text(v)
                    };
                    (h.clone(), cell)
                })
                .collect();
            rows.push(Row { line, cells });
        }
        let extra: Vec<String> = header
            .iter()
            .filter(|h| !REQUIRED.contains(&h.as_str()) && !OPTIONAL.contains(&h.as_str()))
            .cloned()
            .collect();
        if !problems.is_empty() {
            return Err(invalid(file, problems));
        }
        build(rows, extra, dir, file)
    }

    /// Parses TOML text (`[[session]]` tables); paths resolve against `dir`.
    ///
    /// # Errors
    /// [`ManifestError::Invalid`].
    pub fn parse_toml(text: &str, dir: &Path, file: &Path) -> Result<Self, ManifestError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            invalid(file, vec![problem(line, None, &format!("not valid TOML: {}", e.message()))])
        })?;
        let mut problems = Vec::new();
        for key in table.keys() {
            if key != "session" {
                problems.push(problem(None, Some(key), "unknown top-level key; expected [[session]] tables"));
            }
        }
        // The line of each `[[session]]` header, in order.
        let header_lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("[[session]]"))
            .map(|(i, _)| i + 1)
            .collect();
        let Some(toml::Value::Array(items)) = table.get("session") else {
            problems.push(problem(None, Some("session"), "no [[session]] tables"));
            return Err(invalid(file, problems));
        };
        let mut rows = Vec::new();
        let mut extra: Vec<String> = Vec::new();
        for (k, item) in items.iter().enumerate() {
            let line = header_lines.get(k).copied().unwrap_or(0);
            let Some(t) = item.as_table() else {
                problems.push(problem(Some(line), None, "expected a [[session]] table"));
                continue;
            };
            let mut cells = BTreeMap::new();
            for (key, v) in t {
                let cell = match v {
                    toml::Value::String(s) => Cell::Text(s.trim().to_string()),
                    toml::Value::Integer(i) => Cell::Text(i.to_string()),
                    toml::Value::Float(f) => Cell::Text(f.to_string()),
                    toml::Value::Boolean(b) => Cell::Text(b.to_string()),
                    toml::Value::Array(a) if a.iter().all(toml::Value::is_str) => {
                        Cell::List(a.iter().filter_map(|x| x.as_str().map(|s| s.trim().to_string())).collect())
                    }
                    _ => {
                        problems.push(problem(
                            Some(line),
                            Some(key),
                            "expected a string, number, boolean or list of strings",
                        ));
                        continue;
                    }
                };
                if !REQUIRED.contains(&key.as_str()) && !OPTIONAL.contains(&key.as_str()) && !extra.contains(key) {
                    extra.push(key.clone());
                }
                cells.insert(key.clone(), cell);
            }
            for c in REQUIRED {
                if !cells.contains_key(c) {
                    problems.push(problem(Some(line), Some(c), "missing; every session needs it"));
                }
            }
            rows.push(Row { line, cells });
        }
        for key in &extra {
            check_name(key, None, &mut problems);
        }
        if !problems.is_empty() {
            return Err(invalid(file, problems));
        }
        build(rows, extra, dir, file)
    }
}

fn problem(line: Option<usize>, field: Option<&str>, message: &str) -> Problem {
    Problem { line, field: field.map(String::from), message: message.to_string() }
}

fn invalid(file: &Path, mut problems: Vec<Problem>) -> ManifestError {
    problems.sort_by_key(|p| p.line.unwrap_or(0));
    ManifestError::Invalid { file: file.to_path_buf(), problems }
}

fn check_name(name: &str, line: Option<usize>, problems: &mut Vec<Problem>) {
    let ok = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !ok {
        problems.push(problem(line, Some(name), "column names are snake_case (a-z, 0-9, _)"));
    }
}

fn check_columns(header: &[String], line: usize, problems: &mut Vec<Problem>) {
    for c in REQUIRED {
        if !header.iter().any(|h| h == c) {
            problems.push(problem(Some(line), Some(c), "required column missing from the header"));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for h in header {
        if !seen.insert(h.as_str()) {
            problems.push(problem(Some(line), Some(h), "column appears twice in the header"));
        }
        check_name(h, Some(line), problems);
    }
}

/// Validates rows into sessions.
fn build(rows: Vec<Row>, extra_columns: Vec<String>, dir: &Path, file: &Path) -> Result<Manifest, ManifestError> {
    let mut problems = Vec::new();
    if rows.is_empty() {
        problems.push(problem(None, None, "no sessions"));
    }
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut sessions = Vec::new();
    for row in rows {
        let line = row.line;
        let get = |c: &str| row.cells.get(c).map(Cell::text).unwrap_or_default();
        let before = problems.len();
        for c in NON_EMPTY {
            if get(c).is_empty() {
                problems.push(problem(Some(line), Some(c), "empty; every session needs a value"));
            }
        }
        let id = get("session");
        if !id.is_empty() {
            let safe = id.len() <= 100
                && !id.starts_with('.')
                && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            if !safe {
                problems.push(problem(
                    Some(line),
                    Some("session"),
                    &format!(
                        "{id:?}: expected at most 100 of A-Z a-z 0-9 . _ - (it names a folder), not starting with '.'"
                    ),
                ));
            }
            if let Some(&first) = first_line.get(&id) {
                problems.push(problem(
                    Some(line),
                    Some("session"),
                    &format!("duplicate id {id:?} (first at line {first})"),
                ));
            } else {
                first_line.insert(id.clone(), line);
            }
        }
        let kind_text = get("kind");
        let kind = Kind::parse(&kind_text);
        if kind.is_none() && !kind_text.is_empty() {
            problems.push(problem(
                Some(line),
                Some("kind"),
                &format!("{kind_text:?}: expected tetrode, units or slice"),
            ));
        }
        let rel = get("path");
        let path = dir.join(&rel);
        if !rel.is_empty() && !path.exists() {
            problems.push(problem(Some(line), Some("path"), &format!("{} does not exist", path.display())));
        }
        let drug_at_s = match get("drug_at_s") {
            t if t.is_empty() => None,
            t => match t.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => {
                    problems.push(problem(Some(line), Some("drug_at_s"), &format!("{t:?}: expected seconds ≥ 0")));
                    None
                }
            },
        };
        let config = match get("config") {
            t if t.is_empty() => None,
            t => {
                let p = dir.join(&t);
                if !p.is_file() {
                    problems.push(problem(Some(line), Some("config"), &format!("{} is not a file", p.display())));
                } else if p.extension().and_then(|e| e.to_str()) != Some("toml") {
                    problems.push(problem(
                        Some(line),
                        Some("config"),
                        &format!("{}: expected a .toml file", p.display()),
                    ));
                }
                Some(p)
            }
        };
        if problems.len() > before {
            continue;
        }
        let Some(kind) = kind else { continue };
        let tags = match row.cells.get("tags") {
            Some(Cell::List(v)) => v.clone(),
            Some(Cell::Text(t)) => t.split(';').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
            None => Vec::new(),
        };
        sessions.push(Session {
            line,
            session: id,
            path,
            kind,
            subject: get("subject"),
            group: get("group"),
            region: get("region"),
            drug: get("drug"),
            drug_at_s,
            config,
            tags,
            extra: extra_columns.iter().map(|c| (c.clone(), get(c))).collect(),
        });
    }
    if !problems.is_empty() {
        return Err(invalid(file, problems));
    }
    Ok(Manifest { file: file.to_path_buf(), sessions, extra_columns })
}

/// Records of a CSV text with the line each starts on (RFC 4180: quoted
/// fields may hold commas, doubled quotes and line breaks). Blank lines are
/// skipped; a UTF-8 byte-order mark is ignored.
fn split_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut was_quoted = false;
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    return Err(problem(Some(start), None, "a quoted field is not closed"));
                }
                break;
            };
            if quoted {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    '\n' => {
                        line += 1;
                        field.push('\n');
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.trim().is_empty() && !was_quoted => {
                    field.clear();
                    quoted = true;
                    was_quoted = true;
                }
                '"' => {
                    return Err(problem(Some(line), None, "a quote inside an unquoted field (quote the whole field)"));
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    was_quoted = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    line += 1;
                    break;
                }
                _ if was_quoted && !c.is_whitespace() => {
                    return Err(problem(Some(line), None, "text after a closing quote"));
                }
                _ => field.push(c),
            }
        }
        fields.push(field);
        if fields.len() == 1 && fields[0].trim().is_empty() && !was_quoted {
            continue;
        }
        out.push((start, fields));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_and_lines() {
        let r = split_csv("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n\n\"multi\nline\",z\n").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], (2, vec!["x, y".to_string(), "say \"hi\"".to_string()]));
        assert_eq!(r[2], (4, vec!["multi\nline".to_string(), "z".to_string()]));
        assert!(split_csv("a,\"b\n").is_err());
        assert!(split_csv("a,b\"c\n").is_err());
    }
}
