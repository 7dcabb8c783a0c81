//! `xhuma convert BUNDLE.json [-o FILE] [--report FILE] [--html FILE]`: converts a GP Connect
//! structured-record Bundle to C-CDA offline, without starting the gateway.

use std::path::{Path, PathBuf};

use ccda_convert::ConvertOptions;

/// Why a conversion command failed; each is one line for stderr.
#[derive(Debug, thiserror::Error)]
pub enum ConvertCliError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a usable GP Connect Bundle: {source}")]
    Convert {
        path: String,
        #[source]
        source: ccda_convert::ConvertError,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The outputs of one conversion.
pub struct Outputs {
    pub xml: String,
    pub report_json: String,
    pub html: String,
}

/// Converts the Bundle at `input` with a fresh document id and the current time.
pub fn convert_file(input: &Path) -> Result<Outputs, ConvertCliError> {
    let bytes = std::fs::read(input).map_err(|source| ConvertCliError::Read {
        path: input.display().to_string(),
        source,
    })?;
    let opts = ConvertOptions {
        document_id: uuid::Uuid::new_v4(),
        effective_time: chrono::Utc::now().fixed_offset(),
        ..ConvertOptions::default()
    };
    let converted =
        ccda_convert::convert(&bytes, &opts).map_err(|source| ConvertCliError::Convert {
            path: input.display().to_string(),
            source,
        })?;
    let report_json = serde_json::to_string_pretty(&converted.report).unwrap_or_default();
    // Rendered from the converter's own record model, so the page shows exactly what the CDA
    // narrative shows.
    let html = converted.html();
    Ok(Outputs {
        xml: converted.xml,
        report_json,
        html,
    })
}

fn write(path: &Path, text: &str) -> Result<(), ConvertCliError> {
    std::fs::write(path, text).map_err(|source| ConvertCliError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Runs the command; `Ok(Some(xml))` when the XML goes to stdout.
pub fn run(
    input: &Path,
    output: Option<&PathBuf>,
    report: Option<&PathBuf>,
    html: Option<&PathBuf>,
) -> Result<Option<String>, ConvertCliError> {
    let out = convert_file(input)?;
    if let Some(r) = report {
        write(r, &out.report_json)?;
    }
    if let Some(h) = html {
        write(h, &out.html)?;
    }
    match output {
        Some(o) => {
            write(o, &out.xml)?;
            Ok(None)
        }
        None => Ok(Some(out.xml)),
    }
}
