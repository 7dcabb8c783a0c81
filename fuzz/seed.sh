#!/usr/bin/env bash
# Builds the seed corpora in fuzz/corpus/ from the shared fixtures (../shared, or
# $XHUMA_SHARED_DIR) and the hostile-input corpus of ihe-messaging.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${XHUMA_SHARED_DIR:-$here/../../shared}
rm -rf "$here/corpus" && mkdir -p "$here/corpus/soap" "$here/corpus/ccda"
wrap() { # action body-file -> SOAP 1.2 envelope with the body (XML declaration dropped)
  printf '<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:A="http://www.w3.org/2005/08/addressing"><S:Header><A:Action>%s</A:Action><A:MessageID>urn:uuid:1</A:MessageID></S:Header><S:Body>' "$1"
  sed -e 's/<?xml[^>]*?>//' "$2"
  printf '</S:Body></S:Envelope>'
}
n=0
for f in "$shared"/fixtures/ihe/iti47-ipf/*/*.xml; do
  grep -q PRPA_IN201305UV02 "$f" || continue
  { printf '\x00'; wrap urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery "$f"; } > "$here/corpus/soap/iti55-$n"
  { printf '\x01'; wrap urn:hl7-org:v3:PRPA_IN201305UV02 "$f"; } > "$here/corpus/soap/iti47-$n"
  n=$((n + 1))
done
{ printf '\x02'; cat "$shared/fixtures/ihe/xca-nist/soap-xcq-req.xml"; } > "$here/corpus/soap/iti38-nist"
{ printf '\x03'; cat "$shared/fixtures/ihe/xca-nist/soap-xcr-req.xml"; } > "$here/corpus/soap/iti39-nist"
{ printf '\x07multipart/related; type="application/xop+xml"; boundary="b1"; start="<r>"\n--b1\r\nContent-ID: <r>\r\n\r\n'
  cat "$shared/fixtures/ihe/xca-nist/soap-xcr-req.xml"; printf '\r\n--b1--\r\n'; } > "$here/corpus/soap/iti39-mtom"
for f in "$here"/../crates/ihe-messaging/tests/hostile/*.xml; do
  name=$(basename "$f" .xml)
  # Keep seeds small: AFL works best below a few KB.
  [ "$(stat -c %s "$f")" -le 16384 ] || continue
  case $name in iti55*) sel='\x00' ;; iti38*) sel='\x02' ;; *) sel='\x03' ;; esac
  if [ -f "$f.ct" ]; then
    # Only ITI-39 MTOM cases have a Content-Type file: selector 3 + 4 (Content-Type line).
    { printf '\x07'; cat "$f.ct"; printf '\n'; cat "$f"; } > "$here/corpus/soap/hostile-$name"
  else
    { printf "$sel"; cat "$f"; } > "$here/corpus/soap/hostile-$name"
  fi
done
for f in "$shared"/fixtures/gpconnect/*/*.json; do
  [ "$(stat -c %s "$f")" -le 65536 ] || continue
  cp "$f" "$here/corpus/ccda/$(basename "$f")"
done
echo "seeds: $(ls "$here/corpus/soap" | wc -l) soap, $(ls "$here/corpus/ccda" | wc -l) ccda"
