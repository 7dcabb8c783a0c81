#!/usr/bin/env bash
# PX360 survey benchmark (issue 15, item 7): stage completed → message handed to the provider, and
# the patient survey page's server time, against a freshly seeded server (SQLite or PostgreSQL).
#
#   crates/px360/bench/surveys.sh [sqlite|postgres] [seconds] [completions per minute]
#
# The server runs with the demo surveys (no delay, no quiet hours) and SMS through a loopback
# stand-in for Twilio's Messages API (bench/twilio_standin.py) that records when each message
# arrived. Every completion is a new patient (the 7-day recontact window would skip repeats):
# the script registers them first, then posts one ED_DEPARTURE (the emergency journey's final,
# surveyed stage) per patient, paced at the given rate, and joins the arrival times with the
# stages' completion times. Then wrk GETs /s/{token} over every token sent.
#
# Needs: wrk, curl, python3, sqlite3 (SQLite) or psql (PostgreSQL on 127.0.0.1:5432, user postgres).
# Builds nothing: set PX360_BIN (default target/release/px360; `cargo build --release -p px360`).
set -euo pipefail
BACKEND=${1:-sqlite}
DUR=${2:-60}
RATE=${3:-1000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BIN=${PX360_BIN:-$ROOT/target/release/px360}
PORT=$((20000 + RANDOM % 20000))
SMS_PORT=$((PORT + 1))
DATA=$(mktemp -d)
PW=bench-admin-password
PGDB=px360_sbench_$$
RUN=SB$$
N=$(( DUR * RATE / 60 ))
export PX360_ADMIN_PASSWORD=$PW RUST_LOG=${RUST_LOG:-warn}

cleanup() {
  [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  [[ -n "${STANDIN:-}" ]] && kill "$STANDIN" 2>/dev/null && wait "$STANDIN" 2>/dev/null || true
  [[ "$BACKEND" == postgres ]] && psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

if [[ "$BACKEND" == postgres ]]; then
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $PGDB" >/dev/null
  export PX360_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDB"
  SQL() { psql -At -F'|' -h 127.0.0.1 -U postgres -d "$PGDB" -c "$1"; }
else
  unset PX360_DATABASE_URL || true
  SQL() { sqlite3 "$DATA/px360.db" "$1"; }
fi

python3 "$HERE/twilio_standin.py" "$SMS_PORT" "$DATA/arrivals.txt" &
STANDIN=$!
cat > "$DATA/delivery.toml" <<TOML
[sms]
provider = "twilio"
account_sid = "ACbench0000000000000000000000000000"
auth_token = "bench-auth-token"
from = "+15005550006"
base_url = "http://127.0.0.1:$SMS_PORT/"

# Above the offered rate: the benchmark measures our latency, not a provider's throttle.
[rate_limits]
email = { per_second = 10.0, burst = 20 }
sms = { per_second = 200.0, burst = 200 }
whatsapp = { per_second = 50.0, burst = 50 }
TOML

BASE=http://127.0.0.1:$PORT
PX360_SURVEY_DELIVERY="$DATA/delivery.toml" PX360_PUBLIC_URL="$BASE" \
  "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" --events-burst 1000000 --events-per-second 1000000 \
  --trusted-proxies 127.0.0.1 > "$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "$BASE/health/" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import sys,json; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
TOKEN=$(curl -sf "$BASE/api/auth/login" -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PW\"}" | json 'd["access_token"]')
HOSP=$(curl -sf "$BASE/api/hospitals" -H "authorization: Bearer $TOKEN" | json '[h["id"] for h in d if h["code"]=="RGH"][0]')
DEPT=$(curl -sf "$BASE/api/departments" -H "authorization: Bearer $TOKEN" | json "[x['id'] for x in d if x['code']=='ED' and x['hospital_id']=='$HOSP'][0]")
KEY=$(curl -sf "$BASE/api/api-keys" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"hospital_id\":\"$HOSP\",\"name\":\"bench\",\"source_systems\":[\"*\"]}" | json 'd["api_key"]')

echo "== $BACKEND: registering $N patients"
python3 "$HERE/survey_driver.py" patients "$BASE" "$TOKEN" "$HOSP" "$DEPT" "$N" "$RUN"
[[ "$BACKEND" == postgres ]] && SQL "ANALYZE" >/dev/null

echo "== $BACKEND: $N stage completions at $RATE per minute"
python3 "$HERE/survey_driver.py" events "$BASE" "$KEY" "$N" "$RATE" "$RUN"

# Drain: wait until every message of the run reached the stand-in (or 60 s pass).
for _ in $(seq 120); do
  GOT=$(wc -l < "$DATA/arrivals.txt")
  [[ "$GOT" -ge "$N" ]] && break; sleep 0.5
done
echo "messages at provider=$GOT of $N; decisions: $(SQL "SELECT decision || ':' || reason || '=' || COUNT(*) FROM survey_invitations GROUP BY decision, reason" | tr '\n' ' ')"
SQL "SELECT t.token_hash, si.completed_recorded_at FROM survey_tokens t JOIN survey_invitations i ON i.id = t.invitation_id JOIN stage_instances si ON si.id = i.stage_instance_id" > "$DATA/completions.txt"
python3 "$HERE/survey_driver.py" latency "$DATA/arrivals.txt" "$DATA/completions.txt"

echo "== $BACKEND: survey page GET over $GOT tokens, 10s, 16 connections"
awk '$2 != "-" {print $2}' "$DATA/arrivals.txt" > "$DATA/tokens.txt"
PX360_BENCH_TOKENS="$DATA/tokens.txt" wrk -t2 -c16 -d10s -s "$HERE/survey_page.lua" "$BASE" | grep RESULT | sed 's/^/survey_page /'
