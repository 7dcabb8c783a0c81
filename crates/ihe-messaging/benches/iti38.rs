//! ITI-38 hot path: parse a Cross Gateway Query (with a SAML header) and build its LeafClass
//! response with two DocumentEntries.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ihe_messaging::*;
use nhs_number::NhsNumber;

const REQUEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
  <s:Header>
    <a:Action s:mustUnderstand="1">urn:ihe:iti:2007:CrossGatewayQuery</a:Action>
    <a:MessageID>urn:uuid:0fbfdced-6c01-4d09-a110-2201afedaa02</a:MessageID>
    <a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>
    <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" s:mustUnderstand="1">
      <saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" IssueInstant="2025-03-14T15:00:00Z" Version="2.0">
        <saml2:Issuer>CN=Epic</saml2:Issuer>
        <saml2:Subject><saml2:NameID>UID=dr.who</saml2:NameID></saml2:Subject>
        <saml2:Conditions NotBefore="2025-03-14T14:55:00Z" NotOnOrAfter="2025-03-14T15:10:00Z"/>
        <saml2:AttributeStatement>
          <saml2:Attribute Name="urn:oasis:names:tc:xacml:1.0:subject:subject-id"><saml2:AttributeValue>Dr Who</saml2:AttributeValue></saml2:Attribute>
          <saml2:Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"><saml2:AttributeValue><PurposeForUse xmlns="urn:hl7-org:v3" code="TREATMENT" codeSystem="2.16.840.1.113883.3.18.7.1"/></saml2:AttributeValue></saml2:Attribute>
        </saml2:AttributeStatement>
      </saml2:Assertion>
    </wsse:Security>
  </s:Header>
  <s:Body>
    <query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
      <query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/>
      <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d" home="urn:oid:2.16.840.1.113883.2.1.3.34.9001">
        <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'9692136744^^^&amp;2.16.840.1.113883.2.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>
        <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
        <rim:Slot name="$XDSDocumentEntryType"><rim:ValueList><rim:Value>('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1','urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')</rim:Value></rim:ValueList></rim:Slot>
      </rim:AdhocQuery>
    </query:AdhocQueryRequest>
  </s:Body>
</s:Envelope>"#;

fn bench(c: &mut Criterion) {
    let cfg = ResponderConfig {
        home_community_id: "2.16.840.1.113883.2.1.3.34.9001".into(),
        repository_unique_id: "2.16.840.1.113883.2.1.3.34.9001.1".into(),
        device_oid: "2.16.840.1.113883.2.1.3.34.9001.2".into(),
        device_name: "Xhuma".into(),
        organization_oid: "2.16.840.1.113883.2.1.3.34.9001.3".into(),
        organization_name: "Xhuma".into(),
    };
    let nhs = NhsNumber::parse("9692136744").unwrap();
    let entries = vec![
        DocumentEntry::on_demand_summary(
            "urn:uuid:0b7e1b8e-54c1-4f61-9d3e-1e0a5d2d9c01",
            "2.25.1",
            nhs.clone(),
        ),
        DocumentEntry::on_demand_summary(
            "urn:uuid:7c2d9a51-0f3e-4b8e-8a55-3d8b6f1e2a02",
            "2.25.2",
            nhs,
        ),
    ];
    let meta = ReplyMeta {
        message_id: "urn:uuid:6f1b3a8e-2c4d-4e5f-8a9b-0c1d2e3f4a5b",
        now: Utc.with_ymd_and_hms(2025, 3, 14, 15, 9, 26).unwrap(),
    };
    c.bench_function("iti38_parse_and_build", |b| {
        b.iter(|| {
            let req = parse_iti38(black_box(REQUEST.as_bytes()), "application/soap+xml").unwrap();
            let resp = build_iti38_response(&req, &entries, &[], &cfg, meta);
            black_box(resp.body.len())
        })
    });
    c.bench_function("iti38_parse_only", |b| {
        b.iter(|| parse_iti38(black_box(REQUEST.as_bytes()), "application/soap+xml").unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
