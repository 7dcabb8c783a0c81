"""Drives the running gateway with zeep, a SOAP client no one on this team wrote.

Usage: zeep_client.py BASE_URL NHS_NUMBER SHARED_DIR OUT_DIR
Writes iti55.xml, iti38.xml (envelopes as received), document.xml (the retrieved C-CDA) and
summary.json to OUT_DIR; the Rust test validates them. Follows shared/schemas/wsdl/README.md.
"""
import json
import sys

from lxml import etree
from zeep import Client, Plugin
from zeep.transports import Transport

BASE, NHS, SHARED, OUT = sys.argv[1:5]
S12 = "{http://www.w3.org/2003/05/soap-envelope}"
W = SHARED + "/schemas/wsdl/"


class LocalFilesOnly(Transport):
    def load(self, url):
        if url.startswith(("http:", "https:")):
            raise RuntimeError("refusing to fetch " + url)
        return super().load(url)


class Soap12Action(Plugin):
    def egress(self, envelope, headers, operation, options):
        headers["Content-Type"] = (
            'application/soap+xml; charset=utf-8; action="%s"' % operation.abstract.wsa_action
        )
        return envelope, headers


def client(wsdl):
    return Client(W + wsdl, transport=LocalFilesOnly(), plugins=[Soap12Action()])


summary = {}

# ITI-55 with a raw HL7 V3 body taken from the repository's example request.
c = client("iti55-raw.wsdl")
url = BASE + "/SOAP/iti55"
env = c.create_message(c.service, "RespondingGateway_PRPA_IN201305UV02", "")
body = env.find(S12 + "Body")
example = etree.parse(sys.argv[0].rsplit("/", 2)[0] + "/examples/iti55-request.xml").getroot()
query = example.find(S12 + "Body")[0]
for el in query.iter("{urn:hl7-org:v3}value"):
    if el.get("extension") == "9690937278":
        el.set("extension", NHS)
body.replace(body[0], query)
env.find(".//{http://www.w3.org/2005/08/addressing}To").text = url
http = c.transport.post_xml(
    url,
    env,
    {
        "Content-Type": 'application/soap+xml; charset=utf-8; '
        'action="urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery"'
    },
)
summary["iti55_status"] = http.status_code
open(OUT + "/iti55.xml", "wb").write(http.content)

# ITI-38 FindDocuments, answer read raw (zeep cannot parse substitution groups).
c = client("iti38.wsdl")
xca = c.create_service(
    "{urn:ihe:iti:xds-b:2007}RespondingGateway_Binding_Soap12", BASE + "/SOAP/iti38"
)
with c.settings(raw_response=True):
    http = xca.RespondingGateway_CrossGatewayQuery(
        ResponseOption={"returnType": "LeafClass", "returnComposedObjects": True},
        AdhocQuery={
            "id": "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",
            "Slot": [
                {
                    "name": "$XDSDocumentEntryPatientId",
                    "ValueList": {
                        "_value_1": [{"Value": "'%s^^^&2.16.840.1.113883.2.1.4.1&ISO'" % NHS}]
                    },
                },
                {
                    "name": "$XDSDocumentEntryStatus",
                    "ValueList": {
                        "_value_1": [
                            {"Value": "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"}
                        ]
                    },
                },
                {
                    # On-Demand entries must be asked for: without this slot XDS means Stable only.
                    "name": "$XDSDocumentEntryType",
                    "ValueList": {
                        "_value_1": [{"Value": "('urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')"}]
                    },
                },
            ],
        },
    )
summary["iti38_status"] = http.status_code
open(OUT + "/iti38.xml", "wb").write(http.content)
answer = etree.fromstring(http.content).find(S12 + "Body")[0]
summary["iti38_response_status"] = answer.get("status")
rim = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"
eo = answer.find(".//" + rim + "ExtrinsicObject")
if eo is None:
    sys.exit("no ExtrinsicObject in the ITI-38 answer: " + http.content.decode()[:2000])
home = eo.get("home")
unique_id = repo = None
for ei in eo.findall(rim + "ExternalIdentifier"):
    if ei.get("identificationScheme") == "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab":
        unique_id = ei.get("value")
for slot in eo.findall(rim + "Slot"):
    if slot.get("name") == "repositoryUniqueId":
        repo = slot.find(rim + "ValueList/" + rim + "Value").text
summary["unique_id"] = unique_id

# ITI-39: zeep parses the typed answer and decodes the document.
c = client("iti39.wsdl")
xcr = c.create_service(
    "{urn:ihe:iti:xds-b:2007}RespondingGateway_Binding_Soap12", BASE + "/SOAP/iti39"
)
r = xcr.RespondingGateway_CrossGatewayRetrieve(
    DocumentRequest=[
        {"HomeCommunityId": home, "RepositoryUniqueId": repo, "DocumentUniqueId": unique_id}
    ]
)
summary["iti39_registry_status"] = r.RegistryResponse.status
doc = r.DocumentResponse[0].Document
open(OUT + "/document.xml", "wb").write(doc)
summary["document_bytes"] = len(doc)

# A Fault surfaces as zeep.exceptions.Fault: an ITI-38 query sent to the ITI-39 endpoint.
from zeep.exceptions import Fault

wrong = client("iti38.wsdl").create_service(
    "{urn:ihe:iti:xds-b:2007}RespondingGateway_Binding_Soap12", BASE + "/SOAP/iti39"
)
try:
    wrong.RespondingGateway_CrossGatewayQuery(
        ResponseOption={"returnType": "LeafClass", "returnComposedObjects": True},
        AdhocQuery={"id": "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d", "Slot": []},
    )
    summary["wrong_endpoint"] = "answered"
except Fault as f:
    summary["wrong_endpoint"] = "fault:" + str(f.code)

json.dump(summary, open(OUT + "/summary.json", "w"))
print(json.dumps(summary))
