//! The pages' multipart forms (file uploads), read one way everywhere: an unreadable body or
//! part is 400, a file past the body limit 413, and a form sent without choosing a file has no
//! file (browsers send an empty part with no name).

use crate::error::UiError;
use axum::body::Bytes;
use axum::extract::Multipart;
use axum::http::StatusCode;

/// A file part: the browser's file name, declared type and bytes.
#[derive(Debug, Default)]
pub struct FilePart {
    pub name: String,
    pub content_type: String,
    pub bytes: Bytes,
}

impl FilePart {
    /// The name to store: the browser's, or `file` when it sent none.
    pub fn stored_name(&self) -> &str {
        if self.name.trim().is_empty() {
            "file"
        } else {
            &self.name
        }
    }
}

/// A read form: the file part and the text parts.
#[derive(Debug, Default)]
pub struct Parts {
    pub file: Option<FilePart>,
    texts: Vec<(String, String)>,
}

impl Parts {
    /// Text part `name` ("" when absent).
    pub fn text(&self, name: &str) -> &str {
        self.texts
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Read `form`: the part named `file_field` as the file, the parts named in `texts` as text,
/// others skipped.
pub async fn read(mut form: Multipart, file_field: &str, texts: &[&str]) -> Result<Parts, UiError> {
    let bad = |_| UiError::Request(StatusCode::BAD_REQUEST);
    let mut out = Parts::default();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        if name == file_field {
            let part = FilePart {
                name: field.file_name().unwrap_or("").to_owned(),
                content_type: field.content_type().unwrap_or("").to_owned(),
                bytes: field
                    .bytes()
                    .await
                    .map_err(|_| UiError::Request(StatusCode::PAYLOAD_TOO_LARGE))?,
            };
            out.file = (!(part.name.is_empty() && part.bytes.is_empty())).then_some(part);
        } else if texts.contains(&name.as_str()) {
            let v = field.text().await.map_err(bad)?;
            out.texts.push((name, v));
        }
    }
    Ok(out)
}
