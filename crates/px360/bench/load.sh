#!/usr/bin/env bash
# PX360 load benchmark: events accepted per second, event-to-stage-completion latency and API
# read latency, against a freshly seeded server (SQLite or PostgreSQL).
#
#   crates/px360/bench/load.sh [sqlite|postgres] [seconds] [connections]
#
# Needs: wrk, curl, python3, sqlite3 (SQLite) or psql (PostgreSQL on 127.0.0.1:5432, user postgres).
# Builds nothing: set PX360_BIN (default target/release/px360; `cargo build --release -p px360`).
set -euo pipefail
BACKEND=${1:-sqlite}
DUR=${2:-20}
CONN=${3:-32}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BIN=${PX360_BIN:-$ROOT/target/release/px360}
PORT=$((20000 + RANDOM % 20000))
DATA=$(mktemp -d)
PW=bench-admin-password
PGDB=px360_bench_$$
export PX360_ADMIN_PASSWORD=$PW RUST_LOG=${RUST_LOG:-warn}

cleanup() {
  [[ -n "${SERVER:-}" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  [[ "$BACKEND" == postgres ]] && psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

if [[ "$BACKEND" == postgres ]]; then
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $PGDB" >/dev/null
  export PX360_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PGDB"
  SQL() { psql -At -h 127.0.0.1 -U postgres -d "$PGDB" -c "$1"; }
  LAT_SQL="SELECT round((extract(epoch FROM (si.completed_recorded_at::timestamptz - e.received_at::timestamptz)) * 1000)::numeric, 2) FROM inbound_events e JOIN stage_instances si ON si.completed_by_event_id = e.id"
else
  unset PX360_DATABASE_URL || true
  SQL() { sqlite3 "$DATA/px360.db" "$1"; }
  LAT_SQL="SELECT round((julianday(si.completed_recorded_at) - julianday(e.received_at)) * 86400000.0, 2) FROM inbound_events e JOIN stage_instances si ON si.completed_by_event_id = e.id"
fi

"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" --events-burst 1000000 --events-per-second 1000000 > "$DATA/server.log" 2>&1 &
SERVER=$!
BASE=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$BASE/health/" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import sys,json; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
TOKEN=$(curl -sf "$BASE/api/auth/login" -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PW\"}" | json 'd["access_token"]')
HOSP=$(curl -sf "$BASE/api/hospitals" -H "authorization: Bearer $TOKEN" | json '[h["id"] for h in d if h["code"]=="RGH"][0]')
export PX360_BENCH_KEY=$(curl -sf "$BASE/api/api-keys" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"hospital_id\":\"$HOSP\",\"name\":\"bench\",\"source_systems\":[\"*\"]}" | json 'd["api_key"]')
export PX360_BENCH_TOKEN=$TOKEN PX360_BENCH_RUN=run$$
export PX360_BENCH_PATIENT=$(curl -sf "$BASE/api/patients?limit=1" -H "authorization: Bearer $TOKEN" | json 'd[0]["id"]')

echo "== $BACKEND: ingest ${DUR}s, $CONN connections"
wrk -t2 -c"$CONN" -d"${DUR}s" -s "$HERE/events.lua" "$BASE" | grep RESULT | sed 's/^/ingest /'

# Drain: wait until every accepted event is processed.
START=$(date +%s.%N)
for _ in $(seq 600); do
  LEFT=$(SQL "SELECT COUNT(*) FROM inbound_events WHERE status IN ('received','failed')")
  [[ "$LEFT" == 0 ]] && break; sleep 0.5
done
END=$(date +%s.%N)
TOTAL=$(SQL "SELECT COUNT(*) FROM inbound_events")
echo "drain backlog_after_load_s=$(python3 -c "print(round($END-$START,2))") events_total=$TOTAL left=$LEFT"
SQL "$LAT_SQL" | python3 -c "
import sys
v=sorted(float(x) for x in sys.stdin if x.strip())
p=lambda q: v[min(len(v)-1,int(q*len(v)))]
print(f'event_to_stage n={len(v)} p50_ms={p(.50):.1f} p95_ms={p(.95):.1f} p99_ms={p(.99):.1f} max_ms={v[-1]:.1f}')"

# A freshly loaded PostgreSQL table has no planner statistics until autovacuum's next round
# (up to a minute): take them now, as autovacuum would, so the reads are planned on real row counts.
[[ "$BACKEND" == postgres ]] && SQL "ANALYZE" >/dev/null

echo "== $BACKEND: API reads 10s, 16 connections"
wrk -t2 -c16 -d10s -s "$HERE/read.lua" "$BASE" | grep RESULT | sed 's/^/reads /'
