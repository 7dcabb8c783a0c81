//! The conversion report over every GP Connect fixture: nothing may leave the bundle without a
//! trace, and the only resources not placed in the document are the cases the root README
//! explains (section "What the conversion report may contain").

mod common;

use common::{Expect, all_fixtures, convert, expectation, short};

/// Reasons the README explains. GP Connect defines a record's content by its Lists; a
/// resource that no List and no listed item references (seen in the spec examples and the
/// GP2GP test bundles) is reported rather than guessed into a section, and so is an
/// OperationOutcome carried inside a bundle. Anything else unplaced fails this test.
const EXPLAINED_REASONS: &[&str] = &[
    "not referenced by any clinical-area List or by a listed item",
    "resource type OperationOutcome is not part of a GP Connect clinical area",
];

#[test]
fn unplaced_resources_are_only_the_explained_cases() {
    let mut seen = Vec::new();
    for path in all_fixtures() {
        if expectation(&path) != Expect::Converts {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read fixture");
        let out = convert(&bytes);
        let name = short(&path);
        let record = common::record(&bytes);
        for u in &out.report.unplaced {
            // Exactly the resources outside the record carry the rule's reason.
            assert_eq!(
                u.reason == EXPLAINED_REASONS[0],
                !record.contains(&u.resource) && !u.resource.starts_with("OperationOutcome/"),
                "{name}: {} ({})",
                u.resource,
                u.reason
            );
            let explained = EXPLAINED_REASONS.contains(&u.reason.as_str());
            assert!(
                explained,
                "{name}: {} unplaced ({}) is not a case the README explains",
                u.resource, u.reason
            );
            seen.push(u.reason.clone());
        }
        // The report serialises to the JSON shape `xhuma convert --report` writes.
        let json = serde_json::to_value(&out.report).expect("report serialises");
        assert!(json["unplaced"].is_array() && json["warnings"].is_array());
    }
    for why in EXPLAINED_REASONS {
        assert!(
            seen.iter().any(|s| s == why),
            "\"{why}\" is explained in the README but no fixture produces it any more: update both"
        );
    }
}
