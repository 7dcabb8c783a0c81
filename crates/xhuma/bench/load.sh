#!/usr/bin/env bash
# Load benchmark of the release build with wrk (a real load generator), embedded sandbox mode
# serving ../shared/fixtures (its large records are the ones worth measuring).
#
#   crates/xhuma/bench/load.sh            # from the repository root
#   DURATION=30s crates/xhuma/bench/load.sh
#
# Scenarios (the issue's targets in brackets):
#   1. cached ITI-39 of the largest document (789 KB; no fixture converts to 400 KB), 64 connections
#                                                               [>= 1,500 responses/s for 400 KB]
#   2. ITI-38 with the document cached, 64 connections          [p99 <= 10 ms]
#   3. cold ITI-38 (document TTL 0: GP Connect + conversion on every request, sandbox without
#      injected latency), 1 connection                          [p95 <= 30 ms]
#   4. memory: RSS after the runs, against the configured cache bound
# wrk runs on the same machine and takes CPU from the gateway; numbers are conservative.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-15s}"
PATIENT="${PATIENT:-9692136744}"       # its C-CDA is 789 KB (9690937286: 225 KB)
COLD_PATIENT="${COLD_PATIENT:-9690937472}"
PORT="${PORT:-18080}"
COLD_PORT="${COLD_PORT:-18081}"
BIN="$ROOT/target/release/xhuma"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)"; exit 1; }
cargo build --release -p xhuma >/dev/null

start() { # port data-dir extra-env...
  local port="$1" dir="$2"; shift 2
  env RUST_LOG=warn XHUMA_LIMITS__RATE_PER_SECOND=0 XHUMA_SANDBOX__FIXTURES="$ROOT/../shared/fixtures" "$@" \
    "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$dir" >"$dir.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "gateway on $port did not become ready"; cat "$dir.log"; exit 1
}

request() { # kind nhs|uid
  local env_ns='xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"'
  local hdr="<soap:Header><wsa:Action>$1</wsa:Action><wsa:MessageID>urn:uuid:$(cat /proc/sys/kernel/random/uuid)</wsa:MessageID></soap:Header>"
  echo "<soap:Envelope $env_ns>$hdr<soap:Body>$2</soap:Body></soap:Envelope>"
}
iti38_body() {
  request urn:ihe:iti:2007:CrossGatewayQuery "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><query:ResponseOption returnComposedObjects=\"true\" returnType=\"LeafClass\"/><rim:AdhocQuery id=\"urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d\"><rim:Slot name=\"\$XDSDocumentEntryPatientId\"><rim:ValueList><rim:Value>'$1^^^&amp;2.16.840.1.113883.2.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot><rim:Slot name=\"\$XDSDocumentEntryStatus\"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot><rim:Slot name=\"\$XDSDocumentEntryType\"><rim:ValueList><rim:Value>('urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"
}
iti39_body() { # uid home repo
  request urn:ihe:iti:2007:CrossGatewayRetrieve "<RetrieveDocumentSetRequest xmlns=\"urn:ihe:iti:xds-b:2007\"><DocumentRequest><HomeCommunityId>urn:oid:$2</HomeCommunityId><RepositoryUniqueId>$3</RepositoryUniqueId><DocumentUniqueId>$1</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest>"
}
post() { curl -s -H 'Content-Type: application/soap+xml; charset=UTF-8' --data-binary "@$2" "$1"; }
run() { # name url body connections
  echo "== $1 (wrk, $4 connections, $DURATION)"
  local threads=2; [ "$4" -lt 2 ] && threads=1
  BODY="$3" wrk -t"$threads" -c"$4" -d"$DURATION" --latency -s "$ROOT/crates/xhuma/bench/post.lua" "$2" | grep RESULT
}

HOME_ID=1.3.6.1.4.1.21367.2017.2.6.19
REPO_ID=1.3.6.1.4.1.21367.2017.2.6.19.1

mkdir -p "$WORK/hot" "$WORK/cold"
start "$PORT" "$WORK/hot"
BASE="http://127.0.0.1:$PORT"
iti38_body "$PATIENT" > "$WORK/iti38.xml"
UID_=$(post "$BASE/SOAP/iti38" "$WORK/iti38.xml" | grep -o 'value="2\.25\.[0-9]*"' | head -1 | cut -d'"' -f2)
[ -n "$UID_" ] || { echo "no document for $PATIENT"; exit 1; }
iti39_body "$UID_" "$HOME_ID" "$REPO_ID" > "$WORK/iti39.xml"
SIZE=$(post "$BASE/SOAP/iti39" "$WORK/iti39.xml" | wc -c)
echo "ITI-39 response size for $PATIENT: $SIZE bytes (base64 inline document)"

run "1. cached ITI-39" "$BASE/SOAP/iti39" "$WORK/iti39.xml" 64
run "2. ITI-38, document cached" "$BASE/SOAP/iti38" "$WORK/iti38.xml" 64

start "$COLD_PORT" "$WORK/cold" XHUMA_CACHE__DOCUMENT_TTL_SECS=0
iti38_body "$COLD_PATIENT" > "$WORK/cold38.xml"
post "http://127.0.0.1:$COLD_PORT/SOAP/iti38" "$WORK/cold38.xml" >/dev/null   # PDS/SDS cached, token fetched
run "3. cold ITI-38 ($COLD_PATIENT: GP Connect + conversion each time)" "http://127.0.0.1:$COLD_PORT/SOAP/iti38" "$WORK/cold38.xml" 1
iti38_body "$PATIENT" > "$WORK/cold38big.xml"
post "http://127.0.0.1:$COLD_PORT/SOAP/iti38" "$WORK/cold38big.xml" >/dev/null
run "3b. cold ITI-38 ($PATIENT, the largest fixture, 1.1 MB bundle)" "http://127.0.0.1:$COLD_PORT/SOAP/iti38" "$WORK/cold38big.xml" 1

echo "== 4. memory"
for p in "${PIDS[@]}"; do
  echo "pid $p RSS $(ps -o rss= -p "$p" | tr -d ' ') KiB (cache bound: 256 MiB default)"
done
