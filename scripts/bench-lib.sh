# Shared helpers of the benchmark commands (sourced, not run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need() {
  local missing=()
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}"); done
  if ((${#missing[@]})); then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# start_engine NAME EXTRA_TOML... : starts the release binary on free loopback ports; sets
# ENGINE_PID, SIP_PORT, HTTP_PORT, WORK. PASOKH_BIN=FILE runs that binary instead of building.
start_engine() {
  [ -n "${PASOKH_BIN:-}" ] || cargo build --release --quiet
  WORK=$(mktemp -d "/tmp/pasokh-bench-$1-XXXX")
  SIP_PORT=${SIP_PORT:-5090}
  HTTP_PORT=${HTTP_PORT:-8090}
  shift
  {
    echo "sip = \"127.0.0.1:$SIP_PORT\""
    echo "http = \"127.0.0.1:$HTTP_PORT\""
    echo "data = \"$WORK/data\""
    echo "rtp_ports = \"${RTP_PORTS:-10000-30000}\""
    # The load generator is one source carrying every call, like a carrier's trunk.
    echo "max_unconfirmed_per_source = 100000"
    echo "max_port_share_per_source = 100"
    printf '%s\n' "$@"
  } > "$WORK/pasokh.toml"
  RUST_LOG=${RUST_LOG:-warn} "${PASOKH_BIN:-./target/release/pasokh}" serve --config "$WORK/pasokh.toml" > "$WORK/engine.log" 2>&1 &
  ENGINE_PID=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/api/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "engine did not start:"; cat "$WORK/engine.log"; exit 1
}

stop_engine() { kill "$ENGINE_PID" 2>/dev/null || true; wait "$ENGINE_PID" 2>/dev/null || true; }

# CPU seconds (user+system) the engine has used so far.
engine_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$ENGINE_PID/stat"; }
engine_rss_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$ENGINE_PID/status"; }
# Resident memory of the engine now, in KB.
engine_rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$ENGINE_PID/status"; }
# Waits (up to 60 s) until the engine uses under 2% of a core, e.g. until it has worked off a backlog.
wait_engine_quiet() {
  local before after
  for _ in $(seq 120); do
    before=$(engine_cpu); sleep 0.5; after=$(engine_cpu)
    awk -v a="$before" -v b="$after" 'BEGIN {exit !(b - a < 0.01)}' && return 0
  done
  echo "engine still busy after 60 s"
}
# CPU seconds (user+system) process PID has used so far (0 once it has gone).
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The value of one unlabelled /metrics series (e.g. pasokh_calls_active), or "?" when absent.
engine_metric() {
  { curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" || true; } | awk -v n="$1" '$1 == n {v = $2} END {print (v == "" ? "?" : v)}'
}
# CPU seconds the hypervisor took from this machine's vCPUs so far (steal), over all cores.
machine_steal() { awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {print $9/hz; exit}' /proc/stat; }
# CPU seconds all processes have used so far, over all cores (to see what else loads the machine).
machine_busy() { awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" {print ($2+$3+$4+$7+$8+$9)/hz; exit}' /proc/stat; }

# sipp_response_times OUT: every response time (ms) SIPp's -trace_rtt wrote to *_rtt.csv, one a
# line in OUT. Columns are found by their header name (`Date_ms;response_time_ms;rtd_no`): the
# third column is the response-time counter's number, not a time. Fails when the column is absent
# or holds the same value throughout (see require_varying).
sipp_response_times() {
  python3 - "$1" <<'PY'
import csv, glob, sys
out, times = sys.argv[1], []
for path in sorted(glob.glob("*_rtt.csv")):
    with open(path) as f:
        rows = csv.DictReader(f, delimiter=";")
        if "response_time_ms" not in (rows.fieldnames or []):
            sys.exit(f"{path}: no response_time_ms column (header {rows.fieldnames})")
        times += [row["response_time_ms"] for row in rows if row["response_time_ms"]]
open(out, "w").write("".join(f"{t}\n" for t in times))
PY
  require_varying "SIPp response_time_ms" "$1"
}

# require_varying WHAT FILE: fails loudly when FILE (one number a line) holds more than a few
# samples that are all equal. A measured quantity never is; a constant column means the wrong
# column was parsed (as when latency was read from SIPp's rtd_no, always 1).
require_varying() {
  awk -v what="$1" 'NR == 1 {first = $1} $1 != first {varies = 1}
    END {if (NR > 5 && !varies) {printf "ERROR: %s is %s in all %d samples: wrong column parsed?\n", what, first, NR > "/dev/stderr"; exit 1}}' "$2"
}
