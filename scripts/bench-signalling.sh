#!/usr/bin/env bash
# Signalling capacity: SIPp's basic call (INVITE/100/200/ACK, hold, BYE/200) to 137 at RATE calls
# a second for DURATION seconds. Reports failed calls, retransmissions, INVITE→200 p50/p99, and
# the engine's CPU and peak memory. Usage: scripts/bench-signalling.sh [RATE] [DURATION_S] [HOLD_MS]
# The caller offers `a=inactive` media: the engine negotiates, opens and frees an RTP port per
# call, but no audio flows, so this measures SIP handling, not the media stack (see bench-media).
source "$(dirname "$0")/bench-lib.sh"
RATE=${1:-1000}; DURATION=${2:-60}; HOLD=${3:-3000}
need sipp:sip-tester python3:python3 curl:curl
start_engine signalling 'rtp_inactivity_s = 600'
trap stop_engine EXIT
cd "$WORK"
cpu0=$(engine_cpu)
timeout $((DURATION + HOLD / 1000 + 60)) sipp "127.0.0.1:$SIP_PORT" -sf "$OLDPWD/sipp-scenarios/uac_bench_signalling.xml" -s 137 \
  -i 127.0.0.1 -p 5091 -mi 127.0.0.1 -mp 6000 -r "$RATE" -rp 1000 -m $((RATE * DURATION)) \
  -l $((RATE * (HOLD / 1000 + 5))) -d "$HOLD" -buff_size 4194304 -nostdin -trace_stat -stf stat.csv -fd 1 \
  -trace_rtt -rtt_freq 1000 -trace_err > sipp.out 2>&1 || true
cpu1=$(engine_cpu)
sipp_response_times response_times.txt
python3 - "$RATE" "$DURATION" "$HOLD" "$cpu0" "$cpu1" "$(engine_rss_mb)" <<'PY'
import csv, sys
rate, duration, hold, cpu0, cpu1, rss = sys.argv[1:]
rows = list(csv.DictReader(open("stat.csv"), delimiter=";"))
last = rows[-1]
times = sorted(float(line) for line in open("response_times.txt"))
pct = lambda p: times[min(len(times) - 1, int(p * len(times)))] if times else float("nan")
elapsed = float(duration) + float(hold) / 1000
print(f"rate {rate}/s for {duration}s, hold {hold} ms")
print(f"calls: {last['SuccessfulCall(C)']} ok, {last['FailedCall(C)']} failed, {last['Retransmissions(C)']} retransmissions")
print(f"INVITE->200: p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, max {max(times, default=float('nan')):.2f} ms (n={len(times)})")
print(f"engine CPU: {float(cpu1) - float(cpu0):.1f} s over ~{elapsed:.0f} s = {100 * (float(cpu1) - float(cpu0)) / elapsed:.0f}% of one core; peak RSS {rss} MB")
PY
