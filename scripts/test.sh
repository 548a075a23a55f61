#!/usr/bin/env bash
# Runs Pasokh's whole test suite: `cargo fmt --check` and clippy (warnings are errors), unit and
# scenario tests on a virtual clock, then end-to-end tests with SIPp, baresip and headless
# Chromium against the release binary over 127.0.0.1.
# Installs the Debian build and test tools it needs when they are missing (by package name, with
# apt-get); Rust itself comes from rustup, which it names when cargo is missing or too old.
set -euo pipefail
cd "$(dirname "$0")/.."

# The oldest Rust that builds Pasokh and its dependencies: rust-version in Cargo.toml.
rust_version=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)
rustup_hint="install Rust $rust_version or newer from rustup: curl --proto '=https' -sSf https://sh.rustup.rs | sh -s -- -y, then . \"\$HOME/.cargo/env\" (Debian's packaged rustc is too old)"
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: $rustup_hint" >&2
  exit 1
fi
rustc_version=$(rustc --version | cut -d' ' -f2)
if [ "$(printf '%s\n%s\n' "$rust_version" "$rustc_version" | sort -V | head -n1)" != "$rust_version" ]; then
  echo "rustc $rustc_version is older than $rust_version: $rustup_hint" >&2
  exit 1
fi

need=()
have() { command -v "$1" >/dev/null 2>&1; }
# A C compiler and make: SQLite is compiled into the binary (libsqlite3-sys, bundled).
have cc && have make || need+=(build-essential)
have sipp || need+=(sip-tester)
have svwar || need+=(sipvicious)
have baresip || need+=(baresip-core)
have sox || need+=(sox libsox-fmt-all)
have espeak-ng || need+=(espeak-ng)
have chromedriver || need+=(chromium chromium-driver)
# A certificate for the HTTPS test, and a client that trusts only it.
have openssl || need+=(openssl)
have curl || need+=(curl ca-certificates)
if ((${#need[@]})); then
  echo "installing build and test tools: ${need[*]}"
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
