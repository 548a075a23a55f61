#!/usr/bin/env bash
# Regenerates the Persian prompt WAVs from the manifests prompts/fa/*.tsv.
#
# Usage: scripts/make-prompts.sh [ID...]
#   no ID   regenerate every prompt listed in any manifest
#   ID...   regenerate only these (e.g. num/20 queue/all_busy)
#
# Manifest lines are `id<TAB>text`; blank lines and lines starting with `#` are
# ignored. The text is Persian speech for espeak-ng, or one of these sounds:
#   @beep                     1 kHz tone, 0.4 s
#   @tone:FREQ[+FREQ]:SECONDS a (dual) tone, e.g. @tone:425:1 or @tone:350+440:2
#   @silence:SECONDS          silence
#   @music                    about 20 s of soft synthesised hold music
# A human recording at prompts/recorded/fa/<id>.{wav,flac,ogg,mp3} replaces the
# synthetic voice for that id (see prompts/fa/README.md).
#
# Output: prompts/fa/<id>.wav, 8 kHz mono 16-bit PCM. The same manifests give
# byte-identical files on every run (no dither, fixed random seed), so the
# script is safe to re-run and its output diffs cleanly.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROMPTS="$ROOT/prompts/fa"
RECORDED="$ROOT/prompts/recorded/fa"
# Slightly slower than espeak's default 175 words/min: callers are often
# stressed, on a noisy line, listening through an old handset.
SPEED=150

die() { echo "make-prompts: $*" >&2; exit 1; }

for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool is not installed (apt-get install espeak-ng sox libsox-fmt-all)"
done
espeak-ng -v fa -q "آزمون" 2>/dev/null || die "espeak-ng has no Persian (fa) voice"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# sox with a fixed random seed (-R) and no dither (-D): repeatable output.
SOX=(sox -R -D)
OUT_FORMAT=(-r 8000 -c 1 -b 16 -e signed-integer)
# Trim the silence espeak leaves at both ends, keep a short natural gap so
# prompts played back to back (numbers, dates) do not run into each other.
TIDY=(silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0.03 0.06)

# Loads every manifest into ids[] / texts[], refusing malformed lines.
declare -a ids=() texts=()
declare -A seen=()
load_manifests() {
    local manifest line id text n
    shopt -s nullglob
    local manifests=("$PROMPTS"/*.tsv)
    [[ ${#manifests[@]} -gt 0 ]] || die "no manifests in prompts/fa/"
    for manifest in "${manifests[@]}"; do
        n=0
        while IFS= read -r line || [[ -n "$line" ]]; do
            n=$((n + 1))
            line="${line%$'\r'}"
            [[ -z "${line//[[:space:]]/}" || "$line" == \#* ]] && continue
            [[ "$line" == *$'\t'* ]] || die "${manifest#"$ROOT"/}:$n: expected id<TAB>text"
            id="${line%%$'\t'*}"
            text="${line#*$'\t'}"
            [[ "$id" =~ ^[a-z0-9_]+(/[a-z0-9_]+)*$ ]] || die "${manifest#"$ROOT"/}:$n: bad id '$id'"
            [[ -n "$text" ]] || die "${manifest#"$ROOT"/}:$n: empty text for $id"
            [[ -z "${seen[$id]:-}" ]] || die "${manifest#"$ROOT"/}:$n: $id already defined at ${seen[$id]}"
            seen[$id]="${manifest#"$ROOT"/}:$n"
            ids+=("$id")
            texts+=("$text")
        done <"$manifest"
    done
}

# A slow arpeggio over I-vi-IV-V twice, soft plucked notes on a quiet sine pad.
make_music() {
    local out="$1" bars=() i=0 chord n1 n2 n3 n4
    local progression=(
        "C4 E4 G4 C5" "A3 C4 E4 A4" "F3 A3 C4 F4" "G3 B3 D4 G4"
        "C4 E4 G4 E5" "A3 C4 E4 C5" "D4 F4 A4 F4" "G3 B3 D4 B4"
    )
    for chord in "${progression[@]}"; do
        read -r n1 n2 n3 n4 <<<"$chord"
        # One channel per voice (pluck needs 44.1 kHz), each plucked string
        # delayed half a second more than the last, then mixed down.
        "${SOX[@]}" -r 44100 -c 6 -n -r 8000 -c 1 -b 16 "$WORK/arp$i.wav" \
            synth 2.5 pluck "$n1" pluck "$n2" pluck "$n3" pluck "$n4" \
            sine "$n1" sine "$n3" \
            delay 0 0.5 1.0 1.5 0 0 remix 1v0.25,2v0.25,3v0.25,4v0.25,5v0.04,6v0.04 \
            fade q 0.05 2.5 0.4
        bars+=("$WORK/arp$i.wav")
        i=$((i + 1))
    done
    # Join first and fade before reverb: sox's fade misjudges the length otherwise.
    "${SOX[@]}" "${bars[@]}" "$WORK/bars.wav"
    "${SOX[@]}" "$WORK/bars.wav" "${OUT_FORMAT[@]}" "$out" \
        lowpass 2500 fade t 0 -0 1.5 reverb 30 50 60 norm -10
}

# Writes the sound or speech for one manifest entry to $2.
render() {
    local id="$1" out="$2" text="$3" source ext freqs secs
    for ext in wav flac ogg mp3; do
        source="$RECORDED/$id.$ext"
        if [[ -f "$source" ]]; then
            "${SOX[@]}" "$source" "${OUT_FORMAT[@]}" "$out" "${TIDY[@]}" norm -3
            return
        fi
    done
    case "$text" in
    @beep)
        "${SOX[@]}" -n "${OUT_FORMAT[@]}" "$out" synth 0.4 sine 1000 fade 0.01 0.4 0.01 norm -6
        ;;
    @tone:*)
        [[ "$text" =~ ^@tone:([0-9]+)(\+([0-9]+))?:([0-9]+(\.[0-9]+)?)$ ]] ||
            die "$id: bad tone '$text' (want @tone:FREQ[+FREQ]:SECONDS)"
        freqs=(sine "${BASH_REMATCH[1]}")
        [[ -n "${BASH_REMATCH[3]}" ]] && freqs+=(sine "${BASH_REMATCH[3]}")
        secs="${BASH_REMATCH[4]}"
        "${SOX[@]}" -r 8000 -c "$((${#freqs[@]} / 2))" -n "${OUT_FORMAT[@]}" "$out" \
            synth "$secs" "${freqs[@]}" remix - fade 0.01 "$secs" 0.01 norm -6
        ;;
    @silence:*)
        secs="${text#@silence:}"
        [[ "$secs" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$id: bad silence '$text'"
        "${SOX[@]}" -n "${OUT_FORMAT[@]}" "$out" trim 0 "$secs"
        ;;
    @music)
        make_music "$out"
        ;;
    @*)
        die "$id: unknown sound '$text'"
        ;;
    *)
        printf '%s\n' "$text" >"$WORK/text.txt"
        espeak-ng -v fa -s "$SPEED" -b 1 -f "$WORK/text.txt" -w "$WORK/speech.wav" ||
            die "$id: espeak-ng failed"
        "${SOX[@]}" "$WORK/speech.wav" "${OUT_FORMAT[@]}" "$out" "${TIDY[@]}" norm -3
        ;;
    esac
}

main() {
    load_manifests
    declare -A wanted=()
    local id i count=0
    for id in "$@"; do
        [[ -n "${seen[$id]:-}" ]] || die "unknown prompt id '$id'"
        wanted[$id]=1
    done
    for i in "${!ids[@]}"; do
        id="${ids[$i]}"
        [[ $# -eq 0 || -n "${wanted[$id]:-}" ]] || continue
        mkdir -p "$(dirname "$PROMPTS/$id")"
        # Render beside the target, then rename: a failure never leaves a half file.
        render "$id" "$WORK/out.wav" "${texts[$i]}"
        mv -f "$WORK/out.wav" "$PROMPTS/$id.wav"
        count=$((count + 1))
    done
    echo "make-prompts: wrote $count prompt(s) under prompts/fa/"
}

main "$@"
