#!/usr/bin/env bash
# IVR capacity: RATE calls a second for DURATION seconds to the `bench` line. Each call is
# answered, hears one ~3 s prompt (prompts/fa/ivr/bench.wav) and is hung up by the engine; SIPp
# echoes the prompt's packets back (-rtp_echo), so media flows both ways, and answers the engine's
# BYE. Reports failed calls, INVITE→200 p50/p99, the call length, and the engine's CPU and memory.
# Target: 300 calls/s with 0 failed and p99 < 50 ms over 60 s.
# Usage: scripts/bench-ivr.sh [RATE] [DURATION_S]     (env: RTP_PORTS=10000-30000)
source "$(dirname "$0")/bench-lib.sh"
RATE=${1:-300}; DURATION=${2:-60}
SIPP_MEDIA_PORT=40000 # SIPp's echo socket (and +2): outside the engine's RTP range.
need sipp:sip-tester python3:python3 curl:curl
start_engine ivr 'extra_lines = ["bench"]'
trap stop_engine EXIT
cd "$WORK"
sleep 1
rss_idle=$(engine_rss_kb)
t0=$(date +%s.%N); cpu0=$(engine_cpu); busy0=$(machine_busy)
timeout $((DURATION + 60)) sipp "127.0.0.1:$SIP_PORT" -sf "$OLDPWD/sipp-scenarios/uac_bench_ivr.xml" -s bench \
  -i 127.0.0.1 -p 5091 -mi 127.0.0.1 -mp "$SIPP_MEDIA_PORT" -rtp_echo -r "$RATE" -rp 1000 \
  -m $((RATE * DURATION)) -l $((RATE * 10)) -buff_size 4194304 -nostdin -trace_stat -stf stat.csv -fd 1 \
  -trace_rtt -rtt_freq "$RATE" -trace_err > sipp.out 2>&1 &
runner=$!
sleep 0.5
SIPP_PID=$(pgrep -P "$runner" -x sipp || true)
[ -n "$SIPP_PID" ] || { echo "SIPp did not start:"; cat sipp.out; exit 1; }
scpu0=0 # SIPp started after t0: all its CPU so far falls in the window
# Halfway through the run: the engine's memory and SIPp's CPU at full load.
sleep $((DURATION / 2))
rss_load=$(engine_rss_kb); scpu1=$(proc_cpu "$SIPP_PID"); th=$(date +%s.%N); cpuh=$(engine_cpu); busyh=$(machine_busy)
wait "$runner" || true
t1=$(date +%s.%N); cpu1=$(engine_cpu)
sleep 1 # /metrics is refreshed about twice a second
sipp_response_times response_times.txt
answered=$(engine_metric pasokh_calls_answered_total); ended=$(engine_metric pasokh_calls_ended_total)
python3 - "$RATE" "$DURATION" "$t0" "$t1" "$th" "$cpu0" "$cpu1" "$scpu0" "$scpu1" "$rss_idle" "$rss_load" \
  "$(engine_rss_mb)" "$answered" "$ended" "$cpuh" "$busy0" "$busyh" <<'PY'
import csv, os, sys
rate, duration = sys.argv[1:3]
t0, t1, th, cpu0, cpu1, scpu0, scpu1, rss_idle, rss_load = map(float, sys.argv[3:12])
peak, answered, ended = sys.argv[12:15]
cpuh, busy0, busyh = map(float, sys.argv[15:18])
rows = list(csv.DictReader(open("stat.csv"), delimiter=";"))
last = rows[-1]
times = sorted(float(line) for line in open("response_times.txt"))
pct = lambda p: times[min(len(times) - 1, int(p * len(times)))] if times else float("nan")
def secs(v):  # SIPp's hh:mm:ss:micro
    try:
        h, m, sec, us = (int(x) for x in v.split(":"))
        return f"{3600 * h + 60 * m + sec + us / 1e6:.2f} s"
    except (AttributeError, ValueError):
        return "?"
peak_calls = max(int(r["CurrentCall"]) for r in rows)
print(f"rate {rate}/s for {duration}s to the bench line (one ~3 s prompt, engine hangs up)")
print(f"calls: {last['SuccessfulCall(C)']} ok, {last['FailedCall(C)']} failed, {last['Retransmissions(C)']} retransmissions; "
      f"engine answered {answered}, ended {ended}; up to {peak_calls} at once; mean call length {secs(last.get('CallLength(C)'))}")
print(f"INVITE->200: p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, max {max(times, default=float('nan')):.2f} ms (n={len(times)}; SIPp counts whole ms)")
print(f"engine CPU: {cpu1 - cpu0:.1f} s over {t1 - t0:.0f} s = {100 * (cpu1 - cpu0) / (t1 - t0):.0f}% of one core; "
      f"RSS {rss_idle / 1024:.1f} MB idle, {rss_load / 1024:.1f} MB at full load, peak {peak} MB")
other = (busyh - busy0) - (cpuh - cpu0) - (scpu1 - scpu0)
print(f"generator: SIPp used {100 * (scpu1 - scpu0) / (th - t0):.0f}% of one core in the first half; everything "
      f"else {100 * other / (th - t0):.0f}% of one core, of {os.cpu_count()} cores")
PY
