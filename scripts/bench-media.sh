#!/usr/bin/env bash
# Media capacity: CALLS concurrent two-way calls to the echo test (*43). Each SIPp caller streams
# µ-law (PT 0, 20 ms) for the whole call while the engine plays back to it every 20 ms. Calls ramp
# up at RATE a second, then all CALLS are held together for HOLD_S seconds and hung up by SIPp.
# During that steady window a capture on the loopback interface (dumpcap, CAPTURE_S seconds) gives
# the packets in and out and the spacing of the engine's outgoing packets as a receiver sees it
# (scripts/rtp_spacing.py); the engine's CPU per packet and memory per call, and SIPp's own CPU
# (the generator must not be the bottleneck), are read from /proc over the same window.
# Usage: scripts/bench-media.sh [CALLS] [HOLD_S]
#   env: RATE=100 CAPTURE_S=10 RTP_PORTS=10000-30000, MEDIA_WORKERS (the engine's media_workers)
source "$(dirname "$0")/bench-lib.sh"
CALLS=${1:-1000}; HOLD=${2:-30}; RATE=${RATE:-100}; CAPTURE=${CAPTURE_S:-10}
RTP_PORTS=${RTP_PORTS:-10000-30000}
SIPP_MEDIA_PORT=40000 # SIPp streams every call from this one port: outside the engine's range.
((HOLD >= 6)) || { echo "HOLD_S must be at least 6 s"; exit 2; }
((CAPTURE <= HOLD - 4)) || CAPTURE=$((HOLD - 4))
need sipp:sip-tester python3:python3 curl:curl sox:sox dumpcap:tshark
start_engine media ${MEDIA_WORKERS:+"media_workers = $MEDIA_WORKERS"}
trap stop_engine EXIT
scripts=$PWD/scripts
scenario=$PWD/sipp-scenarios/uac_bench_media.xml
cd "$WORK"
# What the callers say: the benchmark prompt as raw µ-law, looped for the whole call.
sox "$OLDPWD/prompts/fa/ivr/bench.wav" -r 8000 -c 1 -t ul caller.ul
sleep 1
rss_idle=$(engine_rss_kb)

ramp=$(((CALLS + RATE - 1) / RATE))
# Every call lasts ramp + HOLD, so from the last call's start all CALLS are up for HOLD seconds.
timeout $((ramp * 2 + HOLD + 60)) sipp "127.0.0.1:$SIP_PORT" -sf "$scenario" -s '*43' \
  -i 127.0.0.1 -p 5091 -mi 127.0.0.1 -mp "$SIPP_MEDIA_PORT" -r "$RATE" -rp 1000 -m "$CALLS" -l "$CALLS" \
  -d $(((ramp + HOLD) * 1000)) -buff_size 4194304 -rtp_buffsize 4194304 -nostdin \
  -trace_stat -stf stat.csv -fd 1 -trace_err > sipp.out 2>&1 &
runner=$!
sleep 0.5
SIPP_PID=$(pgrep -P "$runner" -x sipp || true)
[ -n "$SIPP_PID" ] || { echo "SIPp did not start:"; cat sipp.out; exit 1; }

# Steady window: 2 s after the last call was placed.
sleep $((ramp + 2))
{ head -n 1 stat.csv; tail -n 1 stat.csv; } > window-start.csv
active=$(engine_metric pasokh_calls_active)
t0=$(date +%s.%N); cpu0=$(engine_cpu); scpu0=$(proc_cpu "$SIPP_PID"); busy0=$(machine_busy)
wake0=$(engine_metric pasokh_media_wakeups_total); late0=$(engine_metric pasokh_media_wakeups_late_total)
steal0=$(machine_steal)
# The machine's own wake-up lateness under the same load: the floor for any pacing.
python3 "$scripts/clock_jitter.py" "$CAPTURE" > clock.txt 2>&1 &
clock=$!
# A 16 MiB kernel buffer: a larger one stalls the whole machine as the capture starts.
dumpcap -i lo -P -s 64 -B 16 -f "udp and (src portrange $RTP_PORTS or dst portrange $RTP_PORTS)" \
  -a "duration:$CAPTURE" -w media.pcap 2> dumpcap.err || true
t1=$(date +%s.%N); cpu1=$(engine_cpu); scpu1=$(proc_cpu "$SIPP_PID"); busy1=$(machine_busy)
wake1=$(engine_metric pasokh_media_wakeups_total); late1=$(engine_metric pasokh_media_wakeups_late_total)
steal1=$(machine_steal)
wait "$clock" || true
rss_load=$(engine_rss_kb)
python3 "$scripts/rtp_spacing.py" media.pcap --engine-ports "$RTP_PORTS" --json > spacing.json

wait "$runner" || true
sleep 2
rss_after=$(engine_rss_kb)
python3 - "$CALLS" "$HOLD" "$RATE" "$active" "$t0" "$t1" "$cpu0" "$cpu1" "$scpu0" "$scpu1" \
  "$rss_idle" "$rss_load" "$rss_after" "$busy0" "$busy1" "$(engine_rss_mb)" <<'PY'
import csv, json, os, sys
calls, hold, rate, active = sys.argv[1:5]
t0, t1, cpu0, cpu1, scpu0, scpu1, rss_idle, rss_load, rss_after, busy0, busy1 = map(float, sys.argv[5:16])
peak = sys.argv[16]
concurrent = list(csv.DictReader(open("window-start.csv"), delimiter=";"))[-1]["CurrentCall"]
calls = int(calls)
s = json.load(open("spacing.json"))
if s["capture_s"] <= 0:
    sys.exit("no RTP to or from the engine's ports was captured")
rows = list(csv.DictReader(open("stat.csv"), delimiter=";"))
last = rows[-1]
wall = t1 - t0
cpu = (cpu1 - cpu0) / wall
pps = (s["packets_in"] + s["packets_out"]) / s["capture_s"]
sp, wa = s["spacing_ms"], s["wander_ms"]
expect = calls * 50
print(f"{calls} calls to *43 at {rate}/s, held {hold} s together; at the window's start {concurrent} up in SIPp, {active} in the engine")
print(f"calls: {last['SuccessfulCall(C)']} ok, {last['FailedCall(C)']} failed, {last['Retransmissions(C)']} retransmissions")
print(f"capture {s['capture_s']:.1f} s: engine sent {s['packets_out'] / s['capture_s']:.0f} pkt/s in {s['streams_out']} streams, "
      f"received {s['packets_in'] / s['capture_s']:.0f} pkt/s from {s['streams_in']} (expected {expect} each way); "
      f"fewest packets in one outgoing stream {s['stream_packets_min']} (median {s['stream_packets_median']})")
print(f"spacing error |gap - 20 ms| of the engine's packets: p50 {sp['p50']:.3f} ms, p99 {sp['p99']:.3f} ms, "
      f"max {sp['max']:.3f} ms (n={s['gaps_measured']}); missing {s['missing_packets']}, "
      f"schedule wander per stream p99 {wa['p99']:.3f} ms")
print(f"engine CPU: {100 * cpu:.0f}% of one core = {1e6 * cpu / pps:.2f} µs per packet (in + out, {pps:.0f} pkt/s)")
print(f"engine memory: RSS {rss_idle / 1024:.1f} MB idle, {rss_load / 1024:.1f} MB with {calls} calls "
      f"= {(rss_load - rss_idle) / calls:.1f} KB per call; {rss_after / 1024:.1f} MB after they ended; peak {peak} MB")
other = (busy1 - busy0) - (cpu1 - cpu0) - (scpu1 - scpu0)
print(f"generator: SIPp used {100 * (scpu1 - scpu0) / wall:.0f}% of one core over the window; everything else "
      f"(the capture included) {100 * other / wall:.0f}% of one core, of {os.cpu_count()} cores")
PY
python3 - "$wake0" "$wake1" "$late0" "$late1" "$steal0" "$steal1" "$t0" "$t1" <<'PY'
import sys
try:
    wake0, wake1, late0, late1, steal0, steal1, t0, t1 = map(float, sys.argv[1:9])
except ValueError:
    sys.exit("media worker counters missing from /metrics")
wakes = max(1.0, wake1 - wake0)
print(f"media workers: {wake1 - wake0:.0f} wake-ups, {100 * (late1 - late0) / wakes:.2f}% more than 1 ms late; "
      f"CPU time stolen by the host (steal) {100 * (steal1 - steal0) / (t1 - t0):.1f}% of one core")
PY
echo "machine: $(cat clock.txt)"
tr '\r' '\n' < dumpcap.err | grep -h -i 'dropped' | sed 's/^/capture: /' || true
echo "capture kept in $WORK/media.pcap (scripts/rtp_spacing.py reads it)"
