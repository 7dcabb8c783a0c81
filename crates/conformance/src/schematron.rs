//! The C-CDA R2.1 Schematron: compiled once by lxml's ISO Schematron skeleton, then run per
//! document by xsltproc (both XSLT 1.0, as the rules declare no queryBinding).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::tools::{python_lxml_available, run_with_stdin, xsltproc_available};
use crate::{Checked, SCHEMATRON_ALLOWLIST, shared_dir};

/// lxml compiles the `.sch` into XSLT; `validate_schema=False` because lxml's RELAX NG
/// self-check rejects Trifolia's empty abstract rules (see the folder's README).
const COMPILE: &str = r#"
import sys
from lxml import etree, isoschematron
sch = etree.parse(sys.argv[1])
compiled = isoschematron.Schematron(sch, phase="errors", validate_schema=False, store_xslt=True)
with open(sys.argv[2], "wb") as f:
    f.write(etree.tostring(compiled.validator_xslt))
"#;

fn compiled_stylesheet() -> Result<&'static Path, String> {
    static XSL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    XSL.get_or_init(compile)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

/// Compiles into a cache folder keyed by the rule file's size and mtime, shared by every
/// test process; `voc.xml` is copied beside the stylesheet because the rules read it with a
/// relative `document('voc.xml')`.
fn compile() -> Result<PathBuf, String> {
    let folder = shared_dir().join("validation/ccda-r2.1");
    let sch = folder.join("ccda-r2.1.sch");
    let meta = std::fs::metadata(&sch).map_err(|e| format!("{}: {e}", sch.display()))?;
    let stamp = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let cache = std::env::temp_dir().join(format!("xhuma-ccda-schematron-{}-{stamp}", meta.len()));
    let xsl = cache.join("ccda-r2.1.errors.xsl");
    if xsl.exists() {
        return Ok(xsl);
    }
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let voc = cache.join("voc.xml");
    if !voc.exists() {
        let tmp = cache.join(format!("voc.xml.{}", std::process::id()));
        std::fs::copy(folder.join("voc.xml"), &tmp).map_err(|e| format!("copy voc.xml: {e}"))?;
        std::fs::rename(&tmp, &voc).map_err(|e| format!("rename voc.xml: {e}"))?;
    }
    // Compile to a private name and rename: concurrent test processes may race here.
    let tmp = cache.join(format!("compile.{}.xsl", std::process::id()));
    let out = Command::new("python3")
        .arg("-c")
        .arg(COMPILE)
        .arg(&sch)
        .arg(&tmp)
        .output()
        .map_err(|e| format!("could not run python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "compiling the Schematron failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::rename(&tmp, &xsl).map_err(|e| format!("rename stylesheet: {e}"))?;
    Ok(xsl)
}

pub(crate) fn check(xml: &str) -> Checked {
    if !python_lxml_available() {
        return Checked::ToolMissing {
            tool: "python3 with lxml",
        };
    }
    if !xsltproc_available() {
        return Checked::ToolMissing { tool: "xsltproc" };
    }
    let invalid = |messages| Checked::Invalid {
        validator: "C-CDA R2.1 Schematron (errors)",
        messages,
    };
    let xsl = match compiled_stylesheet() {
        Ok(xsl) => xsl,
        Err(e) => return invalid(vec![e]),
    };
    let svrl = match run_with_stdin(Command::new("xsltproc").arg(xsl).arg("-"), xml.as_bytes()) {
        Ok((true, out, _)) => out,
        Ok((false, _, err)) => return invalid(vec![format!("xsltproc failed: {err}")]),
        Err(e) => return invalid(vec![format!("could not run xsltproc: {e}")]),
    };
    let failures: Vec<String> = failed_asserts(&svrl)
        .into_iter()
        .filter(|f| !SCHEMATRON_ALLOWLIST.contains(&f.id.as_str()))
        .map(|f| format!("[{}] at {}: {}", f.id, f.location, f.text))
        .collect();
    if failures.is_empty() {
        Checked::Valid
    } else {
        invalid(failures)
    }
}

#[derive(Debug, Default)]
pub(crate) struct FailedAssert {
    pub id: String,
    pub location: String,
    pub text: String,
}

/// Extracts `svrl:failed-assert` elements. Asserts without an `@id` (the R1.1 compatibility
/// rules) are reported with the id `(no id)` so they can never be allowlisted by accident.
pub(crate) fn failed_asserts(svrl: &str) -> Vec<FailedAssert> {
    let mut reader = Reader::from_str(svrl);
    let mut found = Vec::new();
    let mut current: Option<FailedAssert> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.local_name().as_ref() == "failed-assert" => {
                let mut fa = FailedAssert {
                    id: "(no id)".into(),
                    ..Default::default()
                };
                for a in e.attributes().flatten() {
                    let v = a
                        .normalized_value(quick_xml::XmlVersion::default())
                        .map(|c| c.into_owned())
                        .unwrap_or_default();
                    match a.key.local_name().as_ref() {
                        "id" => fa.id = v,
                        "location" => fa.location = v,
                        _ => {}
                    }
                }
                current = Some(fa);
            }
            Ok(Event::Text(t)) => {
                if let Some(fa) = current.as_mut() {
                    fa.text.push_str(t.xml10_content().trim());
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref() == "failed-assert" => {
                found.extend(current.take());
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    found
}
