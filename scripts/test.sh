#!/usr/bin/env bash
# Runs Pasokh's whole test suite: `cargo fmt --check` and clippy (warnings are errors), unit and
# scenario tests on a virtual clock, then end-to-end tests with SIPp, baresip and headless
# Chromium against the release binary over 127.0.0.1.
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

# Formatting and lints are checked before the tests, so CI fails on them as on a failing test.
# rustfmt and clippy come from rustup; without rustup there is nothing to install them with.
for tool in fmt:rustfmt clippy:clippy; do
  subcommand=${tool%%:*} component=${tool#*:}
  if ! cargo "$subcommand" --version >/dev/null 2>&1; then
    if ! have rustup; then
      echo "cargo $subcommand is missing and there is no rustup to add the $component component" >&2
      exit 1
    fi
    echo "adding the $component component"
    rustup component add "$component"
  fi
done
cargo fmt --check
# --release: clippy then reuses the release build's build scripts and proc macros (sqlx, serde),
# which the tests below need anyway; dependencies are still checked once more in check mode.
cargo clippy --all-targets --release --locked -- -D warnings

# One release build serves both the tests and the binary they drive. Two test threads: the
# end-to-end tests each run an engine and a peer, and the machine may have only two cores.
cargo test --release --locked -- --test-threads="${PASOKH_TEST_THREADS:-2}"
