#!/usr/bin/env bash
# Runs Pasokh's whole test suite: unit and scenario tests on a virtual clock, then end-to-end
# tests with SIPp, baresip and headless Chromium against the release binary over 127.0.0.1.
# Installs the Debian test tools it needs when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have sipp || need+=(sip-tester)
have baresip || need+=(baresip-core)
have sox || need+=(sox libsox-fmt-all)
have espeak-ng || need+=(espeak-ng)
have chromedriver || need+=(chromium chromium-driver)
if ((${#need[@]})); then
  echo "installing test tools: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# One release build serves both the tests and the binary they drive. Two test threads: the
# end-to-end tests each run an engine and a peer, and the machine may have only two cores.
cargo test --release --locked -- --test-threads="${PASOKH_TEST_THREADS:-2}"
