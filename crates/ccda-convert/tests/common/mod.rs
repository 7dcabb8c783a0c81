//! Fixture discovery shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

pub const GPCONNECT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/gpconnect"
);
pub const CCDA_EXAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/ccda-examples"
);

/// What a fixture should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Converts,
    InvalidJson,
    NotABundle,
    NoPatient,
}

pub fn expectation(path: &Path) -> Expect {
    let name = path.file_name().unwrap().to_string_lossy();
    if name.contains(".malformed.") {
        Expect::InvalidJson
    } else if name.contains("_request") || name == "test-binary.json" {
        Expect::NotABundle
    } else if name.contains("with-no-patient")
        || name.contains("MissingPatientResource")
        || name == "duplicated-resource-bundle.json"
    {
        Expect::NoPatient
    } else {
        Expect::Converts
    }
}

/// Every `.json` under `shared/fixtures/gpconnect/**`, sorted.
pub fn all_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(GPCONNECT)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(GPCONNECT).join(rel)).unwrap()
}

pub fn convert(bytes: &[u8]) -> ccda_convert::Converted {
    ccda_convert::convert(bytes, &ccda_convert::ConvertOptions::default()).unwrap()
}

pub fn short(p: &Path) -> String {
    p.strip_prefix(GPCONNECT).unwrap_or(p).display().to_string()
}

/// A minimal element tree (local names, attributes as written) for structural checks.
#[derive(Debug, Clone, Default)]
pub struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<El>,
}

impl El {
    pub fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn templates(&self) -> Vec<(String, Option<String>)> {
        self.children
            .iter()
            .filter(|c| c.name == "templateId")
            .filter_map(|c| {
                Some((
                    c.attr("root")?.to_owned(),
                    c.attr("extension").map(str::to_owned),
                ))
            })
            .collect()
    }

    /// Calls `f(element, parent)` for every element below (and including) `self`.
    pub fn walk<'a>(&'a self, parent: Option<&'a El>, f: &mut dyn FnMut(&'a El, Option<&'a El>)) {
        f(self, parent);
        for c in &self.children {
            c.walk(Some(self), f);
        }
    }
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> El {
    El {
        name: local(e.name().as_ref()),
        attrs: e
            .attributes()
            .flatten()
            .map(|a| {
                let key: &str = a.key.as_ref();
                (key.to_owned(), a.value.to_string())
            })
            .collect(),
        children: Vec::new(),
    }
}

/// Parses XML into an [`El`] tree; errors if it is not well-formed.
pub fn parse_xml(xml: &str) -> Result<El, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<El> = vec![El::default()];
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("at {}: {e}", reader.buffer_position()))?
        {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().ok_or("no parent")?.children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced end tag")?
                    .children
                    .push(el);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err("unclosed elements at end of document".into());
    }
    stack
        .pop()
        .and_then(|mut r| r.children.pop())
        .ok_or_else(|| "empty document".into())
}

/// The `section` elements of a CDA document by their first templateId root.
pub fn sections(doc: &El) -> Vec<&El> {
    let mut out = Vec::new();
    doc.walk(None, &mut |e, _| {
        if e.name == "section" {
            out.push(e);
        }
    });
    out
}

pub fn section<'a>(doc: &'a El, root: &str) -> Option<&'a El> {
    sections(doc)
        .into_iter()
        .find(|s| s.templates().iter().any(|(r, _)| r == root))
}
