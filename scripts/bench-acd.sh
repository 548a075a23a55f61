#!/usr/bin/env bash
# ACD capacity. SIPp plays both sides: one SIPp UAS is every call-taker (registered with digest
# auth from the same port, then logged in through the REST API), another SIPp dials `benchq`, a
# line whose flow queues the call for 1888 at once (no keys to press).
#
#   scripts/bench-acd.sh latency [AGENTS] [WAITING] [DURATION_S]    (defaults 50 200 120)
#     AGENTS call-takers serve a queue that never has fewer than WAITING callers waiting (SIPp
#     holds AGENTS + WAITING citizens' calls, a new one as soon as one ends). Each call-taker
#     answers at once, talks TALK_S seconds (5) and hangs up; the engine then gives them 10 s of
#     wrap-up and offers them the next call. Reports, median and p99, the time from the agent becoming
#     available (their BYE + 10 s, on a capture of the agents' SIP port) to the INVITE reaching
#     them (same capture), and from the end of wrap-up to the offer in the engine's queue_log;
#     and the engine's CPU over DURATION_S seconds (scripts/acd_latency.py).
#     Citizens echo what they hear (-rtp_echo), agents stream a tone: media flows all along.
#
#   scripts/bench-acd.sh bridged [CALLS] [HOLD_S]                    (defaults 600 30)
#     CALLS citizens (ramped at RATE a second, 50) each bridged to one of CALLS call-takers, all
#     held together HOLD_S seconds with audio both ways: citizens stream a 401 Hz tone, agents a
#     1003 Hz tone (every 20 ms frame of either differs), so every call has four RTP streams. A
#     capture (dumpcap, CAPTURE_S seconds, 10) in the steady window counts the packets of every
#     stream and the sequence gaps, and checks what the engine forwards: each packet it sends one
#     side must carry the other side's next frame; a frame of the peer's audio that never comes out
#     is a loss (a silent packet between two consecutive frames is a late frame waited for).
#     Reports failed calls, loss, and the engine's CPU, memory and jitter counters.
#     Target: at least 600 calls with 0 loss.
#
#   scripts/bench-acd.sh browser [CALLS] [HOLD_S]                    (defaults 300 30)
#     As `bridged`, with every call-taker an agent page: a WebRTC peer on the engine's own str0m
#     (examples/browser_peers.rs: signs in, opens the phone's WebSocket, logs in, answers each ring
#     with an SDP offer, ICE and DTLS-SRTP, a 1 kHz PCMA tone out). The pages count the citizens'
#     frames they receive after 2 s of settling and the gaps in their RTP time (lost frames); the
#     engine's jitter and pacer counters over a CAPTURE_S window cover the other direction.
#     Reports connected legs, loss, and the engine's CPU and memory per call. RATE defaults to 20.
#     Target: at least 300 browser-bridged calls with 0 loss.
#
#   scripts/bench-acd.sh                                             latency and bridged, with the defaults
#
# env: PASOKH_BIN=FILE (else builds), SIP_PORT/HTTP_PORT (5090/8090), RTP_PORTS (10000-30000),
# TALK_S=5, RATE=50, CAPTURE_S=10; the citizens' SIPp uses CALLER_PORT (5091) and CALLER_MEDIA
# (40000, +2), the agents' AGENT_PORT (5092) and AGENT_MEDIA (50000): keep the media ports outside
# the engine's RTP range and apart. SIPp sends all its calls' RTP from that one media port.
source "$(dirname "$0")/bench-lib.sh"
need sipp:sip-tester python3:python3 curl:curl sox:sox dumpcap:tshark
REPO=$PWD
CALLER_PORT=${CALLER_PORT:-5091}
AGENT_PORT=${AGENT_PORT:-5092}
CALLER_MEDIA=${CALLER_MEDIA:-40000}
AGENT_MEDIA=${AGENT_MEDIA:-50000}
RTP_PORTS=${RTP_PORTS:-10000-30000}
RUNNERS=()

# acd_engine NAME: an engine whose `benchq` line sends every call straight to queue 1888.
acd_engine() {
  [ -n "${PASOKH_BIN:-}" ] || cargo build --release --quiet
  BIN=$(realpath "${PASOKH_BIN:-./target/release/pasokh}")
  PASOKH_BIN=$BIN
  FLOWS=$(mktemp -d /tmp/pasokh-bench-acd-flows-XXXX)
  cp ivr-flows/*.yaml "$FLOWS/"
  cat > "$FLOWS/benchq.yaml" <<'YAML'
# benchq: the ACD benchmark's line. The caller is queued for 1888 at once (no menu); when a
# call-taker answers, the call is filed like 1888's "0: a call-taker" path.
line: "benchq"
description: "ACD benchmark: straight into the 1888 queue"
start: wait

nodes:
  wait:
    type: queue
    queue: "1888"
    answered: talk
    otherwise: bye

  talk:
    type: end
    kind: guidance

  bye:
    type: hangup
YAML
  "$BIN" flows check --flows "$FLOWS" > "$FLOWS/check.out" 2>&1 \
    || { echo "the benchmark flows do not check:"; cat "$FLOWS/check.out"; exit 1; }
  start_engine "acd-$1" "flows = \"$FLOWS\"" 'extra_lines = ["benchq"]' \
    'md5_only_user_agents = ["sipp-agent"]'
  trap acd_cleanup EXIT
  TOKEN=$("$BIN" token create --role admin --config "$WORK/pasokh.toml")
  cd "$WORK"
}

acd_cleanup() {
  local r
  for r in "${RUNNERS[@]}"; do kill "$r" 2>/dev/null || true; done
  for r in "${RUNNERS[@]}"; do wait "$r" 2>/dev/null || true; done
  stop_engine
  rm -rf "$FLOWS"
}

# board EXPR: a Python expression over /api/queues (`b` the snapshot, `q` queue 1888's entry).
board() {
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/api/queues" | python3 -c "
import json, sys
b = json.load(sys.stdin)
q = next((q for q in b['queues'] if q['name'] == '1888'), {})
print($1)"
}

# at_least EXPR N: whether `board EXPR` is at least N now.
at_least() { [ "$(board "$1" 2>/dev/null || echo -1)" -ge "$2" ]; }
# metric_at_least NAME N: whether the /metrics series NAME is at least N now.
metric_at_least() { local v; v=$(engine_metric "$1"); [ "$v" != "?" ] && [ "${v%.*}" -ge "$2" ]; }

# wait_for WHAT SECONDS COMMAND...: runs COMMAND every 0.5 s until it succeeds.
wait_for() {
  local what=$1 limit=$2
  shift 2
  for _ in $(seq $((limit * 2))); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  echo "timed out after ${limit}s waiting for $what"
  exit 1
}

# agents_ready FIRST COUNT SCENARIO SIPP_ARGS...: adds call-takers FIRST.. (queue 1888, password
# pwID), registers them (digest, MD5) from AGENT_PORT, starts the SIPp UAS playing them on that
# same port, and logs them in. Sets AGENTS_PID (the SIPp process) and AGENTS_RUNNER.
agents_ready() {
  local first=$1 count=$2 scenario=$3 id i
  shift 3
  echo "setting up $count call-takers ($first-$((first + count - 1))): add, register, log in" >&2
  for ((i = 0; i < count; i++)); do
    id=$((first + i))
    "$BIN" agent add "$id" --name "Agent $id" --password "pw$id" --queue 1888 \
      --config "$WORK/pasokh.toml" > /dev/null
  done
  wait_for "the engine to load $count agents" 30 at_least "sum(q['agents'].values())" "$count"
  # One SIPp run per agent, all from AGENT_PORT (see bench_acd_agent_register.xml).
  for ((i = 0; i < count; i++)); do
    id=$((first + i))
    timeout 20 sipp "127.0.0.1:$SIP_PORT" -sf "$REPO/sipp-scenarios/bench_acd_agent_register.xml" \
      -s "$id" -au "$id" -ap "pw$id" -i 127.0.0.1 -p "$AGENT_PORT" -m 1 -nostdin -trace_err \
      > register.out 2>&1 \
      || { echo "REGISTER of agent $id failed:"; cat register.out ./*_errors.log 2>/dev/null; exit 1; }
  done
  wait_for "$count registered agents" 10 metric_at_least pasokh_registered_contacts "$count"
  timeout 3600 sipp "127.0.0.1:$SIP_PORT" -sf "$REPO/sipp-scenarios/$scenario" \
    -i 127.0.0.1 -p "$AGENT_PORT" -mi 127.0.0.1 -mp "$AGENT_MEDIA" -l $((count * 2)) \
    -buff_size 4194304 -rtp_buffsize 4194304 -nostdin -trace_err -trace_stat -stf agents-stat.csv \
    -fd 1 "$@" \
    > agents.out 2>&1 &
  AGENTS_RUNNER=$!
  RUNNERS+=("$AGENTS_RUNNER")
  sleep 0.5
  AGENTS_PID=$(pgrep -P "$AGENTS_RUNNER" -x sipp || true)
  [ -n "$AGENTS_PID" ] || { echo "the agents' SIPp did not start:"; cat agents.out; exit 1; }
  for ((i = 0; i < count; i++)); do
    id=$((first + i))
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' -d '{"action":"login"}' \
      "http://127.0.0.1:$HTTP_PORT/api/agents/$id/state")
    [ "$code" = 202 ] || { echo "login of agent $id: HTTP $code"; exit 1; }
  done
  wait_for "$count agents available" 30 at_least "q['agents']['available']" "$count"
}

# The citizens' SIPp in the background; sets CALLERS_PID and CALLERS_RUNNER.
callers_start() {
  timeout "$1" sipp "127.0.0.1:$SIP_PORT" -s benchq -i 127.0.0.1 -p "$CALLER_PORT" -mi 127.0.0.1 \
    -mp "$CALLER_MEDIA" -buff_size 4194304 -rtp_buffsize 4194304 -nostdin -trace_err \
    -trace_stat -stf stat.csv -fd 1 "${@:2}" > sipp.out 2>&1 &
  CALLERS_RUNNER=$!
  RUNNERS+=("$CALLERS_RUNNER")
  sleep 0.5
  CALLERS_PID=$(pgrep -P "$CALLERS_RUNNER" -x sipp || true)
  [ -n "$CALLERS_PID" ] || { echo "the citizens' SIPp did not start:"; cat sipp.out; exit 1; }
}

# sipp_totals FILE [FIELD]: calls ok, failed and retransmissions from the last line of a SIPp
# statistics file, or only FIELD's value ("?" when the file has no line yet).
sipp_totals() {
  python3 - "$@" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter=";"))
last = rows[-1] if rows else {}
if len(sys.argv) > 2:
    print(last.get(sys.argv[2], "?"))
else:
    print(f"{last.get('SuccessfulCall(C)', '?')} ok, {last.get('FailedCall(C)', '?')} failed, "
          f"{last.get('Retransmissions(C)', '?')} retransmissions")
PY
}

latency() {
  local agents=${1:-50} waiting=${2:-200} duration=${3:-120} talk=${TALK_S:-5}
  acd_engine latency
  sox -n -r 8000 -c 1 -t ul agent.ul synth 1 sine 1003 vol 0.3
  agents_ready 3001 "$agents" bench_acd_agent_talk.xml -d $((talk * 1000))
  local total=$((agents + waiting))
  callers_start $((duration + 600)) -sf "$REPO/sipp-scenarios/bench_acd_caller_wait.xml" \
    -rtp_echo -r 100 -rp 1000 -l "$total" -m 1000000
  # Ramp-up: every line taken (all agents busy, the rest waiting).
  wait_for "$total calls in the engine" 60 metric_at_least pasokh_calls_active "$total"
  local t0 cpu0 scpu0 acpu0 busy0 t1 cpu1 scpu1 acpu1 busy1 a samples=""
  t0=$(date +%s.%N); cpu0=$(engine_cpu); scpu0=$(proc_cpu "$CALLERS_PID")
  acpu0=$(proc_cpu "$AGENTS_PID"); busy0=$(machine_busy)
  # The agents' SIP traffic over the window: when each hangs up, when each is offered a call.
  dumpcap -i lo -P -f "udp port $AGENT_PORT" -a "duration:$duration" -w sip.pcap 2> dumpcap.err &
  local capture=$!
  RUNNERS+=("$capture")
  local end=$(($(date +%s) + duration))
  while (($(date +%s) < end)); do
    a="q['agents']"
    samples+="$(board "f\"{q['waiting']},{$a['on_call'] + $a['ringing']},{$a['wrap_up']}\"" || true) "
    sleep 2
  done
  t1=$(date +%s.%N); cpu1=$(engine_cpu); scpu1=$(proc_cpu "$CALLERS_PID")
  acpu1=$(proc_cpu "$AGENTS_PID"); busy1=$(machine_busy)
  local rss_load
  rss_load=$(engine_rss_kb)
  wait "$capture" || true
  sleep 1 # the queue log is written in batches
  echo "ACD latency: $agents agents (talk ${talk} s, wrap-up 10 s), at least $waiting waiting, ${duration} s"
  tr '\r' '\n' < dumpcap.err | grep -h -i 'dropped' | sed 's/^/SIP capture: /' || true
  echo "citizens: $(sipp_totals stat.csv); agents' phones: $(sipp_totals agents-stat.csv) (calls up at the end are cut)"
  python3 "$REPO/scripts/acd_latency.py" "$WORK/data/pasokh.db" --capture sip.pcap --agent-port "$AGENT_PORT" \
    --from-ms "$(python3 -c "print(int($t0 * 1000))")" --to-ms "$(python3 -c "print(int($t1 * 1000))")"
  python3 - "$t0" "$t1" "$cpu0" "$cpu1" "$scpu0" "$scpu1" "$acpu0" "$acpu1" "$busy0" "$busy1" \
    "$rss_load" "$(engine_rss_mb)" "$samples" <<'PY'
import os, sys
t0, t1, cpu0, cpu1, scpu0, scpu1, acpu0, acpu1, busy0, busy1, rss = map(float, sys.argv[1:12])
peak, samples = sys.argv[12], sys.argv[13].split()
rows = [tuple(int(v) for v in s.split(",")) for s in samples if s.count(",") == 2]
wall = t1 - t0
if rows:
    waits = sorted(r[0] for r in rows)
    print(f"waiting calls (every 2 s): min {waits[0]}, median {waits[len(waits) // 2]}, max {waits[-1]}; "
          f"agents talking or ringing median {sorted(r[1] for r in rows)[len(rows) // 2]}, "
          f"in wrap-up median {sorted(r[2] for r in rows)[len(rows) // 2]}")
print(f"engine CPU: {cpu1 - cpu0:.1f} s over {wall:.0f} s = {100 * (cpu1 - cpu0) / wall:.0f}% of one core; "
      f"RSS {rss / 1024:.1f} MB, peak {peak} MB")
other = (busy1 - busy0) - (cpu1 - cpu0) - (scpu1 - scpu0) - (acpu1 - acpu0)
print(f"generator: citizens' SIPp {100 * (scpu1 - scpu0) / wall:.0f}%, agents' SIPp "
      f"{100 * (acpu1 - acpu0) / wall:.0f}% of one core; everything else {100 * other / wall:.0f}% "
      f"of one core, of {os.cpu_count()} cores")
PY
}

bridged() {
  local calls=${1:-600} hold=${2:-30} rate=${RATE:-50} capture=${CAPTURE_S:-10}
  ((hold >= 6)) || { echo "HOLD_S must be at least 6 s"; exit 2; }
  ((capture <= hold - 4)) || capture=$((hold - 4))
  acd_engine bridged
  sox -n -r 8000 -c 1 -t ul caller.ul synth 1 sine 401 vol 0.3
  sox -n -r 8000 -c 1 -t ul agent.ul synth 1 sine 1003 vol 0.3
  agents_ready 4001 "$calls" bench_acd_agent_wait.xml
  sleep 1
  local rss_idle ramp
  rss_idle=$(engine_rss_kb)
  ramp=$(((calls + rate - 1) / rate))
  # Every citizen stays ramp + HOLD seconds, so from the last call on all are up HOLD seconds.
  callers_start $((ramp * 2 + hold + 60)) -sf "$REPO/sipp-scenarios/uac_bench_media.xml" \
    -r "$rate" -rp 1000 -m "$calls" -l "$calls" -d $(((ramp + hold) * 1000))
  sleep $((ramp + 2))
  local bridged_now t0 cpu0 scpu0 acpu0 busy0 t1 cpu1 scpu1 acpu1 busy1 rss_load
  bridged_now=$(board "q['agents']['on_call']")
  t0=$(date +%s.%N); cpu0=$(engine_cpu); scpu0=$(proc_cpu "$CALLERS_PID")
  acpu0=$(proc_cpu "$AGENTS_PID"); busy0=$(machine_busy)
  local skipped0 skipped1
  skipped0=$(engine_metric pasokh_media_frames_skipped_total)
  # Only this run's streams: SIPp sends every call's RTP from its one media port. The kernel
  # buffer stays at 16 MiB: allocating a larger one as the capture starts stalls every thread
  # of this machine (a bare SCHED_FIFO sleeper: 100 ms at 64 MiB, 250 ms at 128 MiB), which
  # made the media workers skip frames the moment the measurement began.
  dumpcap -i lo -P -s 128 -B 16 -a "duration:$capture" -w media.pcap \
    -f "udp and (port $CALLER_MEDIA or port $AGENT_MEDIA) and portrange $RTP_PORTS" 2> dumpcap.err || true
  skipped1=$(engine_metric pasokh_media_frames_skipped_total)
  t1=$(date +%s.%N); cpu1=$(engine_cpu); scpu1=$(proc_cpu "$CALLERS_PID")
  acpu1=$(proc_cpu "$AGENTS_PID"); busy1=$(machine_busy)
  rss_load=$(engine_rss_kb)
  local jitter="" m
  for m in received sent jitter_underruns jitter_gaps jitter_late jitter_overflow jitter_shrunk; do
    jitter+="${m#jitter_} $(engine_metric "pasokh_rtp_${m}_total"), "
  done
  jitter+="pacer frames skipped $(engine_metric pasokh_media_frames_skipped_total)"
  jitter+=" ($((skipped1 - skipped0)) during the capture)"
  wait "$CALLERS_RUNNER" || true
  sleep 3 # the engine hangs up the agents
  local agents_end
  agents_end=$(sipp_totals agents-stat.csv)
  echo "ACD bridged calls: $calls citizens at $rate/s, each bridged to its own agent, held ${hold} s together"
  echo "at the window's start $bridged_now agents on a call"
  echo "citizens: $(sipp_totals stat.csv); agents' phones: $agents_end"
  echo "engine's RTP counters since start (/metrics): $jitter"
  local lossless=yes
  python3 "$REPO/scripts/acd_media.py" media.pcap --engine-ports "$RTP_PORTS" \
    --caller-ports "$CALLER_MEDIA" --agent-ports "$AGENT_MEDIA" \
    --caller-audio caller.ul --agent-audio agent.ul --calls "$calls" || lossless=no
  python3 - "$calls" "$t0" "$t1" "$cpu0" "$cpu1" "$scpu0" "$scpu1" "$acpu0" "$acpu1" "$busy0" \
    "$busy1" "$rss_idle" "$rss_load" "$(engine_rss_mb)" <<'PY'
import os, sys
calls = int(sys.argv[1])
t0, t1, cpu0, cpu1, scpu0, scpu1, acpu0, acpu1, busy0, busy1, rss_idle, rss_load = map(float, sys.argv[2:14])
peak = sys.argv[14]
wall = t1 - t0
print(f"engine CPU: {100 * (cpu1 - cpu0) / wall:.0f}% of one core over the capture ({wall:.0f} s)")
print(f"engine memory: RSS {rss_idle / 1024:.1f} MB idle, {rss_load / 1024:.1f} MB with {calls} bridged calls "
      f"= {(rss_load - rss_idle) / calls:.1f} KB per call; peak {peak} MB")
other = (busy1 - busy0) - (cpu1 - cpu0) - (scpu1 - scpu0) - (acpu1 - acpu0)
print(f"generator: citizens' SIPp {100 * (scpu1 - scpu0) / wall:.0f}%, agents' SIPp "
      f"{100 * (acpu1 - acpu0) / wall:.0f}% of one core; everything else (the capture included) "
      f"{100 * other / wall:.0f}% of one core, of {os.cpu_count()} cores")
PY
  local dropped
  dropped=$(tr '\r' '\n' < dumpcap.err \
    | sed -n "s/.*received\/dropped on interface .*: [0-9]*\/\([0-9]*\).*/\1/p" | tail -n 1)
  tr '\r' '\n' < dumpcap.err | grep -h -i 'dropped' | sed 's/^/capture: /' || true
  python3 - "$WORK/data/pasokh.db" "$calls" "$lossless" "$(sipp_totals stat.csv 'SuccessfulCall(C)')" \
    "$(sipp_totals stat.csv 'FailedCall(C)')" "$(sipp_totals agents-stat.csv 'FailedCall(C)')" "${dropped:-?}" <<'PY'
import sqlite3, sys
db, calls, lossless, ok, failed, agents_failed, dropped = sys.argv[1:]
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
kinds = dict(con.execute("SELECT kind, COUNT(*) FROM queue_log GROUP BY kind").fetchall())
print("queue log: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
faults = sum(kinds.get(k, 0) for k in ("ring_no_answer", "reject", "offer_failed", "overflow", "abandon"))
met = (lossless == "yes" and ok == calls and failed == "0" and agents_failed == "0" and faults == 0
       and kinds.get("answer", 0) == int(calls))
n = int(calls)
target = ("met" if met else "NOT met") if n >= 600 else f"not tried ({n} calls)"
print(f"result: {n} agent-bridged calls held together with {'0' if lossless == 'yes' else 'some'} loss, "
      f"{failed} failed citizens' calls, {agents_failed} failed agents' calls, {faults} missed offers, "
      f"overflows or abandons: {'clean' if met else 'NOT clean'}; target of at least 600 calls with "
      f"0 loss: {target}")
if lossless != "yes" and dropped != "0":
    print(f"note: the capture itself dropped {dropped} packets, which show as missing")
PY
  echo "capture kept in $WORK/media.pcap"
}

browser() {
  local calls=${1:-300} hold=${2:-30} rate=${RATE:-20} window=${CAPTURE_S:-10}
  ((hold >= 6)) || { echo "HOLD_S must be at least 6 s"; exit 2; }
  ((window <= hold - 4)) || window=$((hold - 4))
  acd_engine browser
  sox -n -r 8000 -c 1 -t ul caller.ul synth 1 sine 401 vol 0.3
  (cd "$REPO" && cargo build --release --quiet --example browser_peers)
  local peers_bin="$REPO/target/release/examples/browser_peers" id i
  echo "setting up $calls call-takers (5001-$((5000 + calls))) in agent pages" >&2
  for ((i = 1; i <= calls; i++)); do
    id=$((5000 + i))
    "$BIN" agent add "$id" --name "Agent $id" --password "pw$id" --queue 1888 \
      --config "$WORK/pasokh.toml" > /dev/null
  done
  wait_for "the engine to load $calls agents" 30 at_least "sum(q['agents'].values())" "$calls"
  local ramp run
  ramp=$(((calls + rate - 1) / rate))
  run=$((ramp * 2 + hold + 20))
  "$peers_bin" "127.0.0.1:$HTTP_PORT" 5001 "$calls" "$run" > peers.json 2> peers.err &
  local peers_runner=$!
  RUNNERS+=("$peers_runner")
  wait_for "$calls agent pages available" 60 at_least "q['agents']['available']" "$calls"
  sleep 1
  local rss_idle
  rss_idle=$(engine_rss_kb)
  callers_start $((ramp * 2 + hold + 60)) -sf "$REPO/sipp-scenarios/uac_bench_media.xml" \
    -r "$rate" -rp 1000 -m "$calls" -l "$calls" -d $(((ramp + hold) * 1000))
  wait_for "$calls calls bridged" $((ramp + 30)) at_least "q['agents']['on_call']" "$calls"
  sleep 2
  local m counters0="" counters1="" t0 t1 cpu0 cpu1 scpu0 scpu1 pcpu0 pcpu1 busy0 busy1 rss_load
  for m in received sent jitter_underruns jitter_gaps jitter_late; do
    counters0+="$(engine_metric "pasokh_rtp_${m}_total") "
  done
  counters0+="$(engine_metric pasokh_media_frames_skipped_total)"
  t0=$(date +%s.%N); cpu0=$(engine_cpu); scpu0=$(proc_cpu "$CALLERS_PID")
  pcpu0=$(proc_cpu "$peers_runner"); busy0=$(machine_busy)
  sleep "$window"
  t1=$(date +%s.%N); cpu1=$(engine_cpu); scpu1=$(proc_cpu "$CALLERS_PID")
  pcpu1=$(proc_cpu "$peers_runner"); busy1=$(machine_busy)
  rss_load=$(engine_rss_kb)
  for m in received sent jitter_underruns jitter_gaps jitter_late; do
    counters1+="$(engine_metric "pasokh_rtp_${m}_total") "
  done
  counters1+="$(engine_metric pasokh_media_frames_skipped_total)"
  local on_call
  on_call=$(board "q['agents']['on_call']")
  wait "$CALLERS_RUNNER" || true
  wait "$peers_runner" || true
  echo "ACD browser-bridged calls: $calls SIPp citizens at $rate/s, each bridged to its own agent page"
  echo "(a str0m WebRTC peer: ICE, DTLS-SRTP, PCMA), held ${hold} s together; $on_call on a call at the window's end"
  echo "citizens: $(sipp_totals stat.csv)"
  echo "pages: $(cat peers.json)"
  grep -v "signed in" peers.err | head -5 || true
  python3 - "$calls" "$t0" "$t1" "$cpu0" "$cpu1" "$scpu0" "$scpu1" "$pcpu0" "$pcpu1" "$busy0" \
    "$busy1" "$rss_idle" "$rss_load" "$(engine_rss_mb)" "$counters0" "$counters1" peers.json <<'PY'
import json, os, sys
calls = int(sys.argv[1])
t0, t1, cpu0, cpu1, scpu0, scpu1, pcpu0, pcpu1, busy0, busy1, rss_idle, rss_load = map(float, sys.argv[2:14])
peak = sys.argv[14]
c0 = [float(v) if v != "?" else 0.0 for v in sys.argv[15].split()]
c1 = [float(v) if v != "?" else 0.0 for v in sys.argv[16].split()]
delta = dict(zip(["received", "sent", "underruns", "gaps", "late", "skipped"], [b - a for a, b in zip(c0, c1)]))
wall = t1 - t0
try:
    pages = json.load(open(sys.argv[17]))
except Exception:
    pages = {}
engine = 100 * (cpu1 - cpu0) / wall
print(f"engine over the {wall:.0f} s window: CPU {engine:.0f}% of one core = {engine / calls:.3f}% per bridged call; "
      f"RTP received {delta['received'] / wall:.0f}/s (expected {calls * 100}/s from both sides), "
      f"jitter underruns {delta['underruns']:.0f}, gaps {delta['gaps']:.0f}, late {delta['late']:.0f}, "
      f"pacer frames skipped {delta['skipped']:.0f}")
print(f"engine memory: RSS {rss_idle / 1024:.1f} MB idle, {rss_load / 1024:.1f} MB with {calls} bridged calls "
      f"= {(rss_load - rss_idle) / calls:.1f} KB per call; peak {peak} MB")
other = (busy1 - busy0) - (cpu1 - cpu0) - (scpu1 - scpu0) - (pcpu1 - pcpu0)
print(f"generator: citizens' SIPp {100 * (scpu1 - scpu0) / wall:.0f}%, the pages (one thread) "
      f"{100 * (pcpu1 - pcpu0) / wall:.0f}% of one core; everything else {100 * other / wall:.0f}% of one core, "
      f"of {os.cpu_count()} cores")
lost = pages.get("frames_lost", "?")
connected = pages.get("connected", 0)
engine_loss = delta["gaps"] + delta["underruns"] + delta["skipped"]
clean = connected == calls and lost == 0 and pages.get("failed", 1) == 0 and engine_loss == 0
print(f"result: {connected} of {calls} browser legs connected; the pages lost {lost} of "
      f"{pages.get('frames_received', '?')} frames from the citizens after 2 s of settling; the engine's legs "
      f"{engine_loss:.0f} gaps, underruns or skipped frames in the window: {'0 loss' if clean else 'NOT clean'}; "
      f"target of at least 300 browser-bridged calls with 0 loss: {'met' if clean and calls >= 300 else 'not met'}")
PY
}

case "${1:-all}" in
  latency) shift; latency "$@" ;;
  bridged) shift; bridged "$@" ;;
  browser) shift; browser "$@" ;;
  all) (latency); echo; (bridged) ;;
  *) sed -n '2,30p' "$0"; exit 2 ;;
esac
