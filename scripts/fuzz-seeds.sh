#!/usr/bin/env bash
# Writes the generated fuzz seeds (binary ones and copies of the bundled flows) into
# fuzz/corpus/, from tests/fuzz_seeds.rs. Hand-written text seeds are committed as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
PASOKH_WRITE_FUZZ_SEEDS=1 cargo test --release --locked --test fuzz_seeds
du -sh fuzz/corpus
