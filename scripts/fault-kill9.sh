#!/usr/bin/env bash
# Crash under load, ROUNDS times: SIPp calls the `bench` line at RATE calls a second (every call
# files a message when the engine hangs up); at a random moment the engine's committed messages
# are read from the database (a message is committed before anything is said to the caller, so
# these are the acknowledged ones) and the engine is killed with SIGKILL at once; it is started
# again on the same data, and every message read before the crash must still be there.
# Usage: scripts/fault-kill9.sh [ROUNDS] [RATE]      Reports acknowledged and lost messages.
source "$(dirname "$0")/bench-lib.sh"
ROUNDS=${1:-20}; RATE=${2:-100}
need sipp:sip-tester sqlite3:sqlite3 curl:curl
start_engine kill9 'extra_lines = ["bench"]'
CONFIG="$WORK/pasokh.toml"
DB="$WORK/data/pasokh.db"
SIPP_PID=""
trap 'stop_engine; [ -z "$SIPP_PID" ] || kill "$SIPP_PID" 2>/dev/null || true' EXIT
restart() {
  RUST_LOG=warn ./target/release/pasokh serve --config "$CONFIG" >> "$WORK/engine.log" 2>&1 &
  ENGINE_PID=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/api/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "engine did not restart:"; tail -20 "$WORK/engine.log"; exit 1
}
committed() { sqlite3 -readonly "$DB" "SELECT id FROM messages ORDER BY id" 2>/dev/null | sort; }
acknowledged_total=0; lost_total=0
for round in $(seq "$ROUNDS"); do
  timeout 60 sipp "127.0.0.1:$SIP_PORT" -sf sipp-scenarios/uac_bench_ivr.xml -s bench -i 127.0.0.1 \
    -p 5091 -mi 127.0.0.1 -mp 40000 -rtp_echo -r "$RATE" -m $((RATE * 30)) -nostdin > /dev/null 2>&1 &
  SIPP_PID=$!
  sleep "$(awk -v s="$RANDOM" 'BEGIN {srand(s); printf "%.2f", 2 + 3 * rand()}')"
  committed > "$WORK/before"
  kill -9 "$ENGINE_PID"; wait "$ENGINE_PID" 2>/dev/null || true
  kill "$SIPP_PID" 2>/dev/null || true; wait "$SIPP_PID" 2>/dev/null || true
  sleep 0.5
  restart
  committed > "$WORK/after"
  acknowledged=$(wc -l < "$WORK/before")
  lost=$(comm -23 "$WORK/before" "$WORK/after" | wc -l)
  acknowledged_total=$((acknowledged_total + acknowledged - ${last_acknowledged:-0}))
  last_acknowledged=$acknowledged
  lost_total=$((lost_total + lost))
  echo "round $round: $acknowledged messages committed before this kill (all rounds so far), $lost of them missing after the restart"
done
echo "$ROUNDS kill -9 under $RATE calls/s: $acknowledged_total acknowledged messages, $lost_total lost"
[ "$lost_total" -eq 0 ]
