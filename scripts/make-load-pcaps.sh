#!/usr/bin/env bash
# Generates the pcaps `pasokh load` plays (one per path of the day: the caller's keys as RFC 4733
# events or in-band tones, and speech from a bundled prompt WAV, as continuous 20 ms PCMA
# frames), and the call-takers' raw A-law audio, into DIR (default ./load-pcaps). The load
# commands make their own on every run; this is for reading them or replaying a path by hand:
#   sipp 127.0.0.1:5060 -sf sipp-scenarios/load/caller.xml -s 1888 -inf callers.csv \
#     -set hold_ms 15000 -set second_pt 101 -mi 127.0.0.1 -mp 41000   (caller.pcap in the cwd)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-load-pcaps}
[ -n "${PASOKH_BIN:-}" ] || cargo build --release --quiet
"${PASOKH_BIN:-./target/release/pasokh}" load pcaps "$OUT"
