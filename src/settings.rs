//! Turns parsed flags into typed settings, rejecting what cannot work before anything is read.

use std::num::NonZeroU64;

use crate::cli::InputArgs;
use crate::error::Error;
use crate::input::InputSettings;
use crate::map::MapOptions;
use crate::read::ReadOptions;

/// Validates the input flags.
pub fn input_settings(args: &InputArgs) -> Result<InputSettings, Error> {
    let delimiter = args.delimiter.as_deref().map(parse_delimiter).transpose()?;
    let encoding = args
        .encoding
        .as_deref()
        .map(|label| {
            encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown encoding '{label}'; try utf-8, utf-16le, utf-16be or windows-1252"
                ))
            })
        })
        .transpose()?;
    let header_row = args
        .header_row
        .map(|n| {
            NonZeroU64::new(n)
                .map(NonZeroU64::get)
                .ok_or_else(|| Error::Usage("--header-row counts from 1".into()))
        })
        .transpose()?;
    let org = match args.org.as_deref().map(str::trim) {
        Some("") => return Err(Error::Usage("--org needs a non-empty organization ID".into())),
        other => other.map(str::to_owned),
    };
    Ok(InputSettings {
        paths: args.inputs.clone(),
        read: ReadOptions {
            delimiter,
            encoding,
            sheet: args.sheet.clone(),
        },
        map: MapOptions {
            name_column: args.name_column.clone(),
            id_column: args.id_column.clone(),
            org_column: args.org_column.clone(),
            org,
            header_row,
        },
    })
}

fn parse_delimiter(text: &str) -> Result<u8, Error> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && !t.as_bytes()[0].is_ascii_alphanumeric() && t != "\"" => {
            Ok(t.as_bytes()[0])
        }
        _ => Err(Error::Usage(format!(
            "--delimiter takes one punctuation character or \"tab\", not '{text}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(parse_delimiter("tab").unwrap(), b'\t');
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert!(parse_delimiter("ab").is_err());
        assert!(parse_delimiter("a").is_err());
        assert!(parse_delimiter("\"").is_err());
    }
}
