#!/usr/bin/env bash
# Runs the cargo-fuzz targets one after another, each for SECONDS_PER_TARGET (default 300),
# single-process (-jobs=1), and prints one line per target: seconds, executions, crash or not.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The committed
# seeds in fuzz/corpus/<target>/ are read but never written: what the fuzzer finds goes to
# fuzz/work/<target>/ (git-ignored), crashes to fuzz/artifacts/<target>/. Logs in fuzz/work/.
# Builds are release with debug assertions and overflow checks (cargo-fuzz's default); the
# address sanitizer is off by default (the code is safe Rust, and it halves the executions):
# FUZZ_BUILD_FLAGS="--sanitizer address" scripts/fuzz.sh turns it back on. See docs/fuzzing.md.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=300
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Build once, so build time is not counted as fuzzing time.
read -r -a flags <<<"${FUZZ_BUILD_FLAGS:---sanitizer none}"
cargo +nightly fuzz build "${flags[@]}" || exit 2

failed=0
printf '%-22s %8s %14s  %s\n' target seconds executions result
for target in "${targets[@]}"; do
    mkdir -p "work/$target" "artifacts/$target"
    log="work/$target.log"
    start=$(date +%s)
    cargo +nightly fuzz run "${flags[@]}" "$target" "work/$target" "corpus/$target" -- \
        -jobs=1 -workers=1 -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1
    status=$?
    elapsed=$(( $(date +%s) - start ))
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [[ -z $runs ]]; then
        runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    fi
    if [[ $status -eq 0 ]]; then
        result=ok
    else
        failed=1
        artifact=$(grep -o 'artifacts/[^ ]*' "$log" | tail -1)
        result="CRASH ${artifact:-(see fuzz/$log)}"
    fi
    printf '%-22s %8s %14s  %s\n' "$target" "$elapsed" "${runs:-?}" "$result"
done
exit $failed
