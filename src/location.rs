//! Where something is in the input: file, sheet, row and column, as a person sees them.
//!
//! Rows are 1-based and count the header, so they match the row numbers Excel shows and the
//! line numbers a text editor shows (for a CSV record that spans several lines, its first line).

use std::fmt;

use serde::Serialize;

/// A place in one input file; every part but the file is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file as the operator named it.
    pub file: String,
    /// The sheet, for spreadsheets.
    pub sheet: Option<String>,
    /// 1-based row (CSV: line), header counted.
    pub row: Option<u64>,
    /// The column's header text (or letter when there is no header yet).
    pub column: Option<String>,
}

impl Location {
    /// A location naming only a file.
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            ..Location::default()
        }
    }

    /// The same location with a sheet.
    pub fn with_sheet(mut self, sheet: Option<&str>) -> Self {
        self.sheet = sheet.map(str::to_owned);
        self
    }

    /// The same location with a row.
    pub fn with_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    /// The same location with a column.
    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, ", sheet '{sheet}'")?;
        }
        if let Some(row) = self.row {
            write!(f, ", row {row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ", column '{column}'")?;
        }
        Ok(())
    }
}

/// Spreadsheet column letters for a 0-based index: 0 -> A, 25 -> Z, 26 -> AA.
pub fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// Compresses sorted row numbers into ranges: `[2, 3, 4, 9]` -> `2-4, 9`.
pub fn compress_rows(rows: impl IntoIterator<Item = u64>) -> String {
    let mut out = String::new();
    let mut run: Option<(u64, u64)> = None;
    let flush = |out: &mut String, (a, b): (u64, u64)| {
        if !out.is_empty() {
            out.push_str(", ");
        }
        if a == b {
            out.push_str(&a.to_string());
        } else {
            out.push_str(&format!("{a}-{b}"));
        }
    };
    for row in rows {
        run = match run {
            Some((a, b)) if row == b + 1 => Some((a, row)),
            Some((a, b)) if row == b => Some((a, b)),
            Some(done) => {
                flush(&mut out, done);
                Some((row, row))
            }
            None => Some((row, row)),
        };
    }
    if let Some(done) = run {
        flush(&mut out, done);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        for (i, want) in [
            (0, "A"),
            (1, "B"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letter(i), want, "index {i}");
        }
    }

    #[test]
    fn row_ranges() {
        assert_eq!(compress_rows([2, 3, 4, 9, 11, 12]), "2-4, 9, 11-12");
        assert_eq!(compress_rows([7]), "7");
        assert_eq!(compress_rows([]), "");
        assert_eq!(compress_rows([5, 5, 6]), "5-6");
    }

    #[test]
    fn display() {
        let loc = Location::file("hr.xlsx")
            .with_sheet(Some("Staff"))
            .with_row(7)
            .with_column("Dept");
        assert_eq!(loc.to_string(), "hr.xlsx, sheet 'Staff', row 7, column 'Dept'");
        assert_eq!(Location::file("a.csv").with_row(3).to_string(), "a.csv, row 3");
    }
}
