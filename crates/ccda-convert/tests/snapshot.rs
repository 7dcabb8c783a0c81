//! Snapshot of a small real bundle (the GP Connect spec's allergies example): any change to
//! the generated document or the report is a reviewed diff (`cargo insta review`).
#![allow(clippy::unwrap_used)]

mod common;

#[test]
fn allergies_example_document() {
    let out = common::convert(&common::fixture("spec-examples/allergies_response1.json"));
    insta::assert_snapshot!("allergies_response1.xml", out.xml);
    insta::assert_json_snapshot!("allergies_response1.report", out.report);
}

#[test]
fn immunisations_example_document() {
    let out = common::convert(&common::fixture(
        "spec-examples/immunizations_response2.json",
    ));
    insta::assert_snapshot!("immunizations_response2.xml", out.xml);
}
