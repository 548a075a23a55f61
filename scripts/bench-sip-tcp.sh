#!/usr/bin/env bash
# SIP over TCP under a hostile client. (1) One connection pipelines OPTIONS and never reads the
# answers: the engine's memory before, at its peak and after the client has gone, and whether the
# engine closed the connection. (2) The engine's CPU for COUNT OPTIONS with a header of about
# HEADER_BYTES, sent whole, one byte per send as fast as the client can, and one byte per send
# paced so the engine reads them one at a time (the paced run takes COUNT x HEADER_BYTES x ~0.25 ms).
# Usage: scripts/bench-sip-tcp.sh [FLOOD_S] [COUNT] [HEADER_BYTES]    (env: PASOKH_BIN)
source "$(dirname "$0")/bench-lib.sh"
FLOOD_S=${1:-6}; COUNT=${2:-200}; HEADER_BYTES=${3:-4000}
need python3:python3 curl:curl
start_engine sip-tcp
trap stop_engine EXIT
client="python3 scripts/sip_tcp_hostile.py"
sleep 1
echo "never reads, ${FLOOD_S} s: $($client flood 127.0.0.1 "$SIP_PORT" "$FLOOD_S" "$ENGINE_PID")"
sleep 1
echo "connections closed as not reading: $( { curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" || true; } |
  awk '$1 == "pasokh_sip_tcp_closed_total{reason=\"not_reading\"}" {print $2}')"
for mode in whole bytes paced; do
  wait_engine_quiet
  cpu0=$(engine_cpu)
  result=$($client segments 127.0.0.1 "$SIP_PORT" "$COUNT" "$HEADER_BYTES" "$mode")
  cpu1=$(engine_cpu)
  echo "$result engine CPU $(awk -v a="$cpu0" -v b="$cpu1" -v n="$COUNT" 'BEGIN {printf "%.2f s = %.0f µs per message", b - a, 1e6 * (b - a) / n}')"
done
