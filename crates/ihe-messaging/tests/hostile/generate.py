#!/usr/bin/env python3
"""Writes the hostile-input corpus replayed by tests/hostile.rs.

Each `<transaction>-<what>.xml` is a request body for that transaction; an optional
`<same name>.ct` holds its Content-Type (default application/soap+xml). Every file must be
refused by the parser with a SOAP Fault or an ebXML registry error, never a panic, and the
answer must be small well-formed XML. Run `python3 generate.py` here to rewrite the corpus.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
A38 = "urn:ihe:iti:2007:CrossGatewayQuery"
A39 = "urn:ihe:iti:2007:CrossGatewayRetrieve"
A55 = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery"
HOME = "urn:oid:2.16.840.1.113883.2.1.3.34.9001"
REPO = "2.16.840.1.113883.2.1.3.34.9001.1"
NHS = "2.16.840.1.113883.2.1.4.1"
FIND = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"


def env(action, body, message_id="urn:uuid:hostile-1", prolog=""):
    return (
        f'{prolog}<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope" '
        f'xmlns:A="http://www.w3.org/2005/08/addressing"><S:Header>'
        f'<A:Action>{action}</A:Action><A:MessageID>{message_id}</A:MessageID>'
        f"</S:Header><S:Body>{body}</S:Body></S:Envelope>"
    )


def retrieve(reqs):
    return (
        '<x:RetrieveDocumentSetRequest xmlns:x="urn:ihe:iti:xds-b:2007">'
        + "".join(
            f"<x:DocumentRequest><x:HomeCommunityId>{h}</x:HomeCommunityId>"
            f"<x:RepositoryUniqueId>{r}</x:RepositoryUniqueId>"
            f"<x:DocumentUniqueId>{d}</x:DocumentUniqueId></x:DocumentRequest>"
            for h, r, d in reqs
        )
        + "</x:RetrieveDocumentSetRequest>"
    )


def adhoc(qid, slots, home=HOME):
    s = "".join(
        f'<r:Slot name="{n}"><r:ValueList>'
        + "".join(f"<r:Value>{v}</r:Value>" for v in vals)
        + "</r:ValueList></r:Slot>"
        for n, vals in slots
    )
    return (
        '<q:AdhocQueryRequest xmlns:q="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" '
        'xmlns:r="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">'
        '<q:ResponseOption returnType="LeafClass"/>'
        f'<r:AdhocQuery id="{qid}" home="{home}">{s}</r:AdhocQuery></q:AdhocQueryRequest>'
    )


def find(extra=()):
    return adhoc(
        FIND,
        [
            ("$XDSDocumentEntryPatientId", [f"'9692136744^^^&amp;{NHS}&amp;ISO'"]),
            ("$XDSDocumentEntryStatus", ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"]),
            *extra,
        ],
    )


def prpa(subject_ids=1, root="1.2.840.114350", family="Smith"):
    ids = "".join(
        f'<livingSubjectId><value root="{NHS}" extension="9692136744"/><semanticsText>x</semanticsText></livingSubjectId>'
        for _ in range(subject_ids)
    )
    return (
        '<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0">'
        f'<id root="{root}" extension="1"/><creationTime value="20250314150926"/>'
        '<interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/>'
        '<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="AL"/>'
        '<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.3"/></device></receiver>'
        '<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.4"/></device></sender>'
        '<controlActProcess classCode="CACT" moodCode="EVN"><code code="PRPA_TE201305UV02" codeSystem="2.16.840.1.113883.1.6"/>'
        '<queryByParameter><queryId root="1.2.5" extension="q1"/><statusCode code="new"/>'
        '<responseModalityCode code="R"/><responsePriorityCode code="I"/><parameterList>'
        f"{ids}"
        f'<livingSubjectName><value><family>{family}</family></value><semanticsText>n</semanticsText></livingSubjectName>'
        "</parameterList></queryByParameter></controlActProcess></PRPA_IN201305UV02>"
    )


def write(name, text, ct=None):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(text.encode("utf-8") if isinstance(text, str) else text)
    if ct is not None:
        with open(os.path.join(HERE, name + ".ct"), "w") as f:
            f.write(ct)


same = (HOME, REPO, "2.25.1")
write("iti39-1500-duplicate-document-requests.xml", env(A39, retrieve([same] * 1500)))
write("iti39-17-distinct-document-requests.xml", env(A39, retrieve([(HOME, REPO, f"2.25.{i}") for i in range(17)])))
write("iti39-long-document-unique-id.xml", env(A39, retrieve([(HOME, REPO, "2.25." + "9" * 20000)])))
write("iti39-long-home-community-id.xml", env(A39, retrieve([("urn:oid:" + "1." * 5000 + "1", REPO, "2.25.1")])))
write("iti39-no-document-request.xml", env(A39, retrieve([])))
write("iti39-control-char-reference-in-id.xml", env(A39, retrieve([(HOME, REPO, "2.25.&#x1;")])))
write("iti39-long-message-id.xml", env(A39, retrieve([same]), message_id="urn:uuid:" + "a" * 100000))
boundary = "b" * 100000
write(
    "iti39-mtom-100k-boundary.xml",
    f"--{boundary}\r\nContent-ID: <r>\r\n\r\n{env(A39, retrieve([same]))}\r\n--{boundary}--",
    ct=f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; start="<r>"',
)
write(
    "iti39-mtom-71-char-boundary.xml",
    f"--{'c' * 71}\r\nContent-ID: <r>\r\n\r\n{env(A39, retrieve([same]))}\r\n--{'c' * 71}--",
    ct=f'multipart/related; type="application/xop+xml"; boundary="{"c" * 71}"; start="<r>"',
)
write(
    "iti39-mtom-near-miss-delimiters.xml",
    ("--" + "d" * 69 + "\r\n") * 5000,
    ct=f'multipart/related; type="application/xop+xml"; boundary="{"d" * 70}"',
)
write("iti38-control-char-reference-in-message-id.xml", env(A38, find(), message_id="urn:uuid:&#x1;"))
write("iti38-raw-nul-in-slot.xml", env(A38, find([("$XDSDocumentEntryClassCode", ["('a\x00b')"])])))
write("iti38-uffff-in-slot.xml", env(A38, find([("$XDSDocumentEntryClassCode", ["('a\uffffb')"])])))
write("iti38-char-reference-fffe-in-attribute.xml", env(A38, find()).replace('returnType="LeafClass"', 'returnType="Leaf&#xFFFE;"'))
write("iti38-long-slot-value.xml", env(A38, find([("$XDSDocumentEntryClassCode", ["'" + "x" * 50000 + "'"])])))
write("iti38-getdocuments-1000-ids.xml", env(A38, adhoc(GET, [("$XDSDocumentEntryUniqueId", ["(" + ",".join(f"'2.25.{i}'" for i in range(1000)) + ")"])])))
write("iti38-1000-class-codes.xml", env(A38, find([("$XDSDocumentEntryClassCode", ["(" + ",".join(f"'c{i}^^1.2'" for i in range(1000)) + ")"])])))
write("iti38-doctype-entity-expansion.xml", env(A38, find(), prolog='<!DOCTYPE S:Envelope [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'))
write("iti38-deep-nesting.xml", env(A38, "<a>" * 5000 + "</a>" * 5000))
write("iti38-not-utf8.xml", env(A38, find()).encode("utf-8").replace(b"Approved", b"Appr\xff\xfeved"))
write("iti55-100-subject-ids.xml", env(A55, prpa(subject_ids=100)))
write("iti55-long-id-root.xml", env(A55, prpa(root="1." * 3000 + "1")))
write("iti55-control-char-reference-in-name.xml", env(A55, prpa(family="Sm&#x7;ith")))
write("iti55-long-family-name.xml", env(A55, prpa(family="A" * 5000)))
write("iti55-lone-surrogate-reference.xml", env(A55, prpa(family="&#xD800;")))
