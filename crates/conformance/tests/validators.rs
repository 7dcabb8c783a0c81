//! The validators themselves are checked on HL7's and NIST's known-good material and on
//! broken copies of it, so that a passing conformance test means something.

fn read(rel: &str) -> String {
    let p = conformance::shared_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn cda_xsd_accepts_hl7_ccd_and_rejects_a_broken_one() {
    let ccd = read("fixtures/ccda-examples/Documents/CCD/CCD-2/CCD.xml");
    conformance::cda_xsd(&ccd).assert_ok();
    let broken = ccd.replacen("<recordTarget>", "<recordTargetX>", 1);
    conformance::cda_xsd(&broken).assert_invalid();
}

#[test]
fn schematron_accepts_ccd2_and_rejects_the_readme_negative_control() {
    let ccd = read("fixtures/ccda-examples/Documents/CCD/CCD-2/CCD.xml");
    conformance::ccda_schematron(&ccd).assert_ok();
    // The negative control of shared/validation/ccda-r2.1/README.md: moodCode changes that
    // the rules must catch (a-1098-7653 and friends).
    let broken = ccd.replacen("moodCode=\"EVN\"", "moodCode=\"XXX\"", 3);
    conformance::ccda_schematron(&broken).assert_invalid();
}

#[test]
fn ebxml_xsd_accepts_the_nist_query_response_body() {
    let env = read("fixtures/ihe/xca-nist/soap-xcq-resp.xml");
    let body = conformance::soap_body_child(&env);
    conformance::ebxml_xsd(&body).assert_ok();
    conformance::ebxml_xsd(&body.replace("RegistryObjectList", "RegistryObjectListX"))
        .assert_invalid();
}

#[test]
fn hl7v3_xsd_accepts_an_ipf_pdq_response() {
    let mut checked = 0;
    for rel in [
        "fixtures/ihe/iti47-ipf/tutorial/PDQv3_Response.xml",
        "fixtures/ihe/iti47-ipf/platform-camel/03_PDQQueryEmptyResponse.xml",
    ] {
        let xml = read(rel);
        {
            let body = if xml.contains("Envelope") {
                conformance::soap_body_child(&xml)
            } else {
                xml
            };
            conformance::hl7v3_xsd(&body).assert_ok();
            checked += 1;
        }
    }
    assert!(checked > 0, "no PRPA_IN201306UV02 fixture found");
}
