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

/// The synthetic GP Connect bundles the Spine sandbox embeds (crates/spine-sandbox/synthetic).
pub fn synthetic_bundles() -> Vec<PathBuf> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spine-sandbox/synthetic/gpconnect"
    );
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    out
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

/// The placement rule of ISSUE12-DESIGN.md computed from the raw JSON (serde_json), not
/// through the converter's reader: `Type/id` of every clinical resource in the record —
/// what any List references, closed over RelatedClinicalContent, report result/specimen/
/// basedOn, Observation related/specimen, MedicationStatement/Request basedOn, Condition
/// actual problem, plus the issues of an authorisation in the record. A Bundle without a
/// List has every clinical resource in the record.
pub fn record(bytes: &[u8]) -> std::collections::HashSet<String> {
    use serde_json::Value;
    use std::collections::{HashMap, HashSet};
    const ADMIN: &[&str] = &[
        "Patient",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "Location",
        "List",
        "Medication",
    ];
    let b: Value = serde_json::from_slice(bytes).unwrap();
    let empty = Vec::new();
    // The spec's diary example has entries without the `resource` wrapper.
    let entries: Vec<Value> = b["entry"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|e| {
            if e["resource"].is_object() {
                e.clone()
            } else {
                serde_json::json!({ "resource": e })
            }
        })
        .collect();
    let entries = &entries;
    let key = |r: &Value| {
        format!(
            "{}/{}",
            r["resourceType"].as_str().unwrap_or(""),
            r["id"].as_str().unwrap_or("")
        )
    };
    let by_key: HashMap<String, &Value> = entries
        .iter()
        .map(|e| (key(&e["resource"]), &e["resource"]))
        .collect();
    let lists: Vec<&Value> = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "List")
        .collect();
    let resolve = |rf: &Value| -> Option<String> {
        let s = rf["reference"].as_str()?;
        let parts: Vec<&str> = s.trim_end_matches('/').split('/').collect();
        let n = parts.len();
        (n >= 2)
            .then(|| format!("{}/{}", parts[n - 2], parts[n - 1]))
            .filter(|k| by_key.contains_key(k))
    };
    let mut out: HashSet<String> = HashSet::new();
    if lists.is_empty() {
        for e in entries {
            let r = &e["resource"];
            if !ADMIN.contains(&r["resourceType"].as_str().unwrap_or("")) {
                out.insert(key(r));
            }
        }
        return out;
    }
    let mut stack: Vec<String> = Vec::new();
    for l in &lists {
        for e in l["entry"].as_array().unwrap_or(&empty) {
            if e["deleted"] == true {
                continue;
            }
            let rf = &e["item"]["reference"];
            if let Some(local) = rf.as_str().and_then(|s| s.strip_prefix('#')) {
                // A resource contained in the List (resolved allergies).
                for c in l["contained"].as_array().unwrap_or(&empty) {
                    if c["id"] == local
                        && !ADMIN.contains(&c["resourceType"].as_str().unwrap_or(""))
                    {
                        out.insert(key(c));
                    }
                }
            } else if let Some(k) = resolve(&e["item"]) {
                stack.push(k);
            }
        }
        if let Some(k) = resolve(&l["encounter"]) {
            stack.push(k);
        }
    }
    while let Some(k) = stack.pop() {
        let r = by_key[&k];
        let rt = r["resourceType"].as_str().unwrap_or("");
        if ADMIN.contains(&rt) || !out.insert(k) {
            continue;
        }
        let mut refs: Vec<&Value> = Vec::new();
        for x in r["extension"].as_array().unwrap_or(&empty) {
            let url = x["url"].as_str().unwrap_or("");
            if url.ends_with("RelatedClinicalContent-1")
                || (rt == "Condition" && url.ends_with("ActualProblem-1"))
            {
                refs.push(&x["valueReference"]);
            }
        }
        let many = |n: &str| {
            r[n].as_array()
                .map(|a| a.iter().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        match rt {
            "DiagnosticReport" => {
                refs.extend(many("result"));
                refs.extend(many("specimen"));
                refs.extend(many("basedOn"));
            }
            "Observation" => {
                refs.extend(many("related").into_iter().map(|x| &x["target"]));
                refs.push(&r["specimen"]);
            }
            "MedicationStatement" | "MedicationRequest" => refs.extend(many("basedOn")),
            _ => {}
        }
        stack.extend(refs.into_iter().filter_map(&resolve));
    }
    // Prescription issues of an authorisation in the record.
    for e in entries {
        let r = &e["resource"];
        if r["resourceType"] == "MedicationRequest"
            && r["basedOn"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .filter_map(&resolve)
                .any(|k| out.contains(&k))
        {
            out.insert(key(r));
        }
    }
    out
}
