//! `PUT /api/files?name=NAME` (the bytes of one picked file) and `DELETE /api/files` (a new
//! pick starts afresh). Each file is streamed into its own folder under the private temporary
//! folder, under a short safe name with its extension (so the reader knows its format, and a
//! 280-byte name legal on macOS still fits a Linux file name); messages name it as the person
//! knows it.

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::Json;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::app::{App, UiError, Upload};

/// Largest file accepted: far above any HR export, far below filling a disk by accident.
const MAX_BYTES: u64 = 1 << 30;

/// The query of `PUT /api/files`.
#[derive(Deserialize)]
pub struct Named {
    name: String,
}

/// The files held, by name.
#[derive(Serialize)]
pub struct Files {
    files: Vec<String>,
}

/// `PUT /api/files?name=NAME`: stores one picked file.
pub async fn add(State(app): State<Arc<App>>, Query(q): Query<Named>, body: Body) -> Result<Json<Files>, UiError> {
    let name = file_name(&q.name).ok_or_else(|| UiError::BadRequest(format!("'{}' is not a file name", q.name)))?;
    let folder = {
        let mut session = app.session();
        if session.job.as_ref().is_some_and(|j| j.running()) {
            return Err(UiError::Busy);
        }
        session.next_file += 1;
        app.dir.path().join(format!("file-{}", session.next_file))
    };
    std::fs::create_dir(&folder)?;
    let path = folder.join(stored_name(&name));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut stream = body.into_data_stream();
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| UiError::BadRequest(format!("the upload broke off: {e}")))?;
        written += chunk.len() as u64;
        if written > MAX_BYTES {
            drop(out);
            let _ = std::fs::remove_dir_all(&folder);
            return Err(UiError::TooLarge(MAX_BYTES));
        }
        out.write_all(&chunk)?;
    }
    out.flush()?;
    let mut session = app.session();
    session.files.push(Upload { name, path });
    session.picks += 1;
    Ok(Json(Files {
        files: session.files.iter().map(|f| f.name.clone()).collect(),
    }))
}

/// `DELETE /api/files`: forgets the files picked before (and removes their copies).
pub async fn clear(State(app): State<Arc<App>>) -> Result<Json<Files>, UiError> {
    let old = {
        let mut session = app.session();
        if session.job.as_ref().is_some_and(|j| j.running()) {
            return Err(UiError::Busy);
        }
        session.picks += 1;
        std::mem::take(&mut session.files)
    };
    for file in old {
        if let Some(folder) = file.path.parent() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
    Ok(Json(Files { files: Vec::new() }))
}

/// The name the copy is stored under: `input` and the original's extension, when it has a
/// plain one (the reader goes by it); every other character of the name stays out of paths.
fn stored_name(name: &str) -> String {
    let ext = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()));
    match ext {
        Some(ext) => format!("input.{}", ext.to_ascii_lowercase()),
        None => "input".to_owned(),
    }
}

/// The last part of the browser's file name, without control characters; `None` if nothing is left.
fn file_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim();
    (!clean.is_empty() && clean != "." && clean != "..").then(|| clean.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_stay_in_their_folder() {
        assert_eq!(super::file_name("hr.xlsx").as_deref(), Some("hr.xlsx"));
        assert_eq!(super::file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(super::file_name("C:\\x\\hr.csv").as_deref(), Some("hr.csv"));
        assert_eq!(super::file_name(".."), None);
        assert_eq!(super::file_name("a\u{0}b\n"), Some("ab".to_owned()));
    }

    #[test]
    fn copies_get_short_safe_names() {
        let long = format!("{}.xlsx", "Überstunden-Ärzteschaft ".repeat(6));
        assert_eq!(super::stored_name(&long), "input.xlsx");
        assert_eq!(super::stored_name("hr.CSV"), "input.csv");
        assert_eq!(super::stored_name("hr"), "input");
        assert_eq!(super::stored_name("hr.tar gz"), "input");
    }
}
