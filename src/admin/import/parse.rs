//! Reading an import file: UTF-8 with or without a byte-order mark, `,` or `;` (sniffed from the
//! header line), quoted fields (separators, quotes and line breaks inside), headers mapped to
//! columns (directly, case-insensitively, or through a mapping file).

use crate::domain::{DomainError, Result};
use std::collections::BTreeMap;

/// A column Castellan knows. Custom attributes are named by their definition's key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    Email,
    Username,
    EmailVerified,
    GivenName,
    FamilyName,
    DisplayName,
    Phone,
    Locale,
    Timezone,
    ExternalId,
    Status,
    MainAccount,
    StartDate,
    EndDate,
    Accounts,
    MainRole,
    Roles,
    Groups,
    Attribute(String),
}

/// The fixed columns by their header name, in the order an export writes them.
pub const COLUMNS: [(&str, Column); 18] = [
    ("email", Column::Email),
    ("username", Column::Username),
    ("email_verified", Column::EmailVerified),
    ("given_name", Column::GivenName),
    ("family_name", Column::FamilyName),
    ("display_name", Column::DisplayName),
    ("phone", Column::Phone),
    ("locale", Column::Locale),
    ("timezone", Column::Timezone),
    ("external_id", Column::ExternalId),
    ("status", Column::Status),
    ("main_account", Column::MainAccount),
    ("start_date", Column::StartDate),
    ("end_date", Column::EndDate),
    ("accounts", Column::Accounts),
    ("main_role", Column::MainRole),
    ("roles", Column::Roles),
    ("groups", Column::Groups),
];

/// Separates the names in a list cell (`accounts`, `roles`, `groups`).
pub const LIST_SEPARATOR: char = '|';

/// Headers of a spreadsheet renamed to Castellan's columns: one `Spreadsheet header = column`
/// per line; blank lines and lines starting with `#` are skipped.
#[derive(Clone, Debug, Default)]
pub struct Mapping(BTreeMap<String, String>);

impl Mapping {
    pub fn parse(text: &str) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((from, to)) = line.rsplit_once('=') else {
                return Err(DomainError::invalid(
                    "mapping",
                    format!("line {}: expected `Spreadsheet header = column`", n + 1),
                ));
            };
            map.insert(fold(from), to.trim().to_owned());
        }
        Ok(Mapping(map))
    }
}

fn fold(header: &str) -> String {
    header.trim().to_lowercase()
}

/// An import file read and checked as a whole: its separator and columns, and its records.
#[derive(Debug)]
pub struct ImportFile<'a> {
    pub separator: u8,
    pub columns: Vec<Column>,
    body: &'a [u8],
}

/// One record of the file: the line it starts on and its cells, one per column (or the reason it
/// cannot be read).
#[derive(Debug)]
pub struct Record {
    pub line: u64,
    pub cells: std::result::Result<Vec<String>, String>,
}

impl<'a> ImportFile<'a> {
    /// Reads the header of `bytes`; `attributes` are the keys of the tenant's attribute
    /// definitions. A file that is not UTF-8, has no header, or names a column twice or one
    /// Castellan does not know is refused as a whole.
    pub fn open(bytes: &'a [u8], mapping: &Mapping, attributes: &[String]) -> Result<Self> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if let Err(e) = std::str::from_utf8(body) {
            return Err(file_error(format!(
                "the file is not UTF-8 (first bad byte at offset {}); save it as CSV UTF-8",
                e.valid_up_to()
            )));
        }
        let separator = sniff(body);
        let mut reader = reader(body, separator);
        let headers = reader
            .headers()
            .map_err(|e| file_error(format!("the header line cannot be read: {e}")))?
            .clone();
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(file_error("the file has no header line".into()));
        }
        let mut columns = Vec::with_capacity(headers.len());
        for header in headers.iter() {
            let column = column_of(header, mapping, attributes)?;
            if columns.contains(&column) {
                return Err(file_error(format!("the column `{header}` appears twice")));
            }
            columns.push(column);
        }
        if !columns.contains(&Column::Email) {
            return Err(file_error("the file has no `email` column".into()));
        }
        Ok(ImportFile {
            separator,
            columns,
            body,
        })
    }

    /// The records after the header, in order; blank lines are skipped.
    pub fn records(&self) -> impl Iterator<Item = Record> + 'a {
        let (width, body) = (self.columns.len(), self.body);
        let mut reader = reader(body, self.separator);
        let _ = reader.headers();
        reader.into_records().filter_map(move |r| match r {
            Ok(rec) if rec.iter().all(|c| c.trim().is_empty()) => None,
            Ok(rec) => {
                let line = rec.position().map_or(0, |p| start_line(body, p));
                let cells = if rec.len() == width {
                    Ok(rec.iter().map(|c| c.trim().to_owned()).collect())
                } else {
                    Err(format!(
                        "the row has {} cells where the header has {width}",
                        rec.len()
                    ))
                };
                Some(Record { line, cells })
            }
            Err(e) => Some(Record {
                line: e.position().map_or(0, |p| p.line()),
                cells: Err(format!("the row cannot be read: {e}")),
            }),
        })
    }

    /// The value of `column` in `cells` (empty when the file has no such column).
    pub fn cell<'c>(&self, cells: &'c [String], column: &Column) -> Option<&'c str> {
        let i = self.columns.iter().position(|c| c == column)?;
        cells.get(i).map(String::as_str)
    }

    pub fn has(&self, column: &Column) -> bool {
        self.columns.contains(column)
    }
}

/// How many non-blank records follow the header of `bytes` (for a progress bar's length).
pub fn count_records(bytes: &[u8]) -> u64 {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = reader(body, sniff(body));
    let _ = reader.headers();
    reader
        .into_records()
        .filter(|r| {
            !r.as_ref()
                .is_ok_and(|r| r.iter().all(|c| c.trim().is_empty()))
        })
        .count() as u64
}

/// The line a record starts on: the reader places a record after blank lines at the first of
/// them, so those are counted here.
fn start_line(body: &[u8], p: &csv::Position) -> u64 {
    let from = usize::try_from(p.byte())
        .unwrap_or(usize::MAX)
        .min(body.len());
    let blank = body[from..]
        .iter()
        .take_while(|b| matches!(b, b'\n' | b'\r'))
        .filter(|b| **b == b'\n')
        .count();
    p.line() + blank as u64
}

fn reader(body: &[u8], separator: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .has_headers(true)
        .from_reader(body)
}

fn file_error(detail: String) -> DomainError {
    DomainError::invalid("file", detail)
}

/// `;` when the header line (outside quotes) has more semicolons than commas, else `,`.
pub fn sniff(body: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0usize, 0usize, false);
    for &b in body {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

fn column_of(header: &str, mapping: &Mapping, attributes: &[String]) -> Result<Column> {
    let folded = fold(header);
    let name = mapping
        .0
        .get(&folded)
        .map_or(folded.as_str(), String::as_str);
    if let Some((_, c)) = COLUMNS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Ok(c.clone());
    }
    if let Some(key) = attributes.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return Ok(Column::Attribute(key.clone()));
    }
    Err(file_error(format!(
        "the column `{header}` is neither one of Castellan's nor a custom attribute; rename it or map it with a mapping file"
    )))
}

/// The names in a list cell, trimmed, empty ones dropped.
pub fn list(cell: &str) -> Vec<&str> {
    cell.split(LIST_SEPARATOR)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(text: &[u8]) -> Result<ImportFile<'_>> {
        ImportFile::open(text, &Mapping::default(), &["code".into()])
    }

    #[test]
    fn bom_semicolons_and_quotes() {
        let text =
            "\u{feff}Email;Given_Name;code\n\"a@x.test\";\"Dupont; \"\"Jo\"\"\nline two\";C1\n\n";
        let file = open(text.as_bytes()).unwrap();
        assert_eq!(file.separator, b';');
        assert_eq!(
            file.columns,
            vec![
                Column::Email,
                Column::GivenName,
                Column::Attribute("code".into())
            ]
        );
        let rows: Vec<Record> = file.records().collect();
        assert_eq!(rows.len(), 1);
        let cells = rows[0].cells.as_ref().unwrap();
        assert_eq!(cells[1], "Dupont; \"Jo\"\nline two");
        assert_eq!(rows[0].line, 2);
        let file = open(b"email\na@x.test\n\n\r\n\nb@x.test\n").unwrap();
        let lines: Vec<u64> = file.records().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 6]);
    }

    #[test]
    fn refused_files_and_rows() {
        assert!(open(b"name\nx\n").is_err());
        assert!(open(b"email,email\n").is_err());
        assert!(open(b"email\n\xff\n").is_err());
        let file = open(b"email,given_name\na@x.test\n").unwrap();
        assert!(file.records().next().unwrap().cells.is_err());
        let mapping = Mapping::parse("# HR export\nE-mail address = email\n").unwrap();
        let file = ImportFile::open(b"E-MAIL ADDRESS\na@x.test\n", &mapping, &[]).unwrap();
        assert_eq!(file.columns, vec![Column::Email]);
        assert!(Mapping::parse("no equals sign").is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        use rand::RngExt;
        let mut rng = rand::rng();
        let alphabet = b"email,;\"\n\r given_name\xEF\xBB\xBF\xff\0|a@x.test";
        for _ in 0..5000 {
            let len = rng.random_range(0..200);
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.random_bool(0.8) {
                        alphabet[rng.random_range(0..alphabet.len())]
                    } else {
                        rng.random()
                    }
                })
                .collect();
            if let Ok(file) = open(&bytes) {
                for r in file.records() {
                    if let Ok(cells) = r.cells {
                        assert_eq!(cells.len(), file.columns.len());
                    }
                }
            }
        }
    }
}
