//! Development aid: `cargo run -p ccda-convert --example convert -- BUNDLE.json > out.xml`
//! writes the C-CDA to stdout and the conversion report (JSON-like debug) to stderr.
//! The product CLI is `xhuma convert`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: convert BUNDLE.json");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(1);
        }
    };
    match ccda_convert::convert(&bytes, &ccda_convert::ConvertOptions::default()) {
        Ok(c) => {
            print!("{}", c.xml);
            for u in &c.report.unplaced {
                eprintln!("unplaced {}: {}", u.resource, u.reason);
            }
            for w in &c.report.warnings {
                eprintln!("warning: {w}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::from(1)
        }
    }
}
