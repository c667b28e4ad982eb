#!/usr/bin/env bash
# run.sh - builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) into
# build/fuzz/, makes the seed corpus (make-corpus.sh), replays the committed
# crash inputs (tests/fuzz/regress/<harness>/) and fuzzes each harness.
#
#   tests/fuzz/run.sh short            ~20 s per harness (part of ./build.sh test)
#   tests/fuzz/run.sh long SECONDS     SECONDS per harness, or until RUNS (10^6) runs
#                                      (JOBS=2 harnesses at a time, nice'd)
#   tests/fuzz/run.sh build            build only
#
# The wasm fuzzer (wasm-fuzz.mjs) runs as one more harness when wasm/prime.wasm and
# node are there. Prints per harness: executions, coverage (cov/ft of libFuzzer's last
# status line), corpus size, crashes; exits non-zero on any crash or a
# failing regression input. Logs: build/fuzz/log/<harness>.txt, crash
# inputs: build/fuzz/crash/<harness>/. docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:-short}
SECS=${2:-20}
[ "$MODE" = short ] && SECS=20
F=build/fuzz
HARNESSES="model model_v2 vae clf npy npz tensors image nmnist frames events device graph"
# the Makefile's CORE_SRC (the core, as the wasm build) and the native parts the harnesses use
CORE=$(sed -n '/^CORE_SRC :=/,/[^\\]$/p' Makefile | sed 's/^CORE_SRC :=//; s/\\$//' | tr -s ' \n' ' ')
SRC="$CORE src/data.c src/classifier.c"
# -fsanitize=fuzzer,address,undefined: libFuzzer + ASan + UBSan; UBSan reports abort
# (-fno-sanitize-recover) so libFuzzer counts them as crashes; the fuzzing macro
# makes the model file's CRC non-fatal (src/prime_model.c, prime_load); images are
# capped at 1024 per side instead of 4096 so that no input decodes 16 M pixels
# (the same code refuses or decodes them, 16 times faster).
CF="-std=c11 -g -O1 -ffp-contract=off -Isrc -I/usr/include/stb -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -DPRIME_IMAGE_MAX_SIDE=1024 \
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

build() {
    mkdir -p $F/obj
    local objs=()
    for s in $SRC; do
        local o=$F/obj/$(basename "$s" .c).o
        if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ src/prime.h -nt "$o" ] || [ "$0" -nt "$o" ]; then
            clang $CF -fsanitize=fuzzer-no-link -c -o "$o" "$s" -Wno-unknown-pragmas
        fi
        objs+=("$o")
    done
    for h in $HARNESSES; do
        clang $CF -fsanitize=fuzzer -o $F/fuzz_$h tests/fuzz/fuzz_$h.c "${objs[@]}" -lm -lz -pthread
    done
    gcc -std=c11 -O1 -Isrc -I/usr/include/stb -D_GNU_SOURCE -o $F/make_seeds tests/fuzz/make_seeds.c \
        $SRC -lm -lz -pthread
}

# Options common to every run: 2 GB RSS / single malloc, 10 s per input, no leak
# reports for the networks kept across inputs (fuzz_npz, fuzz_device).
OPTS="-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1"

# Replays every committed crash input of harness $1; 0 if all pass.
replay() {
    local d=tests/fuzz/regress/$1
    [ -d "$d" ] && [ -n "$(ls "$d")" ] || return 0
    $F/fuzz_$1 $OPTS "$d"/* > $F/log/$1-regress.txt 2>&1 || { echo "$1: regression input FAILED (see $F/log/$1-regress.txt)"; return 1; }
}

# Fuzzes harness $1 for $SECS seconds (long: also stops at 10^6 runs); writes its log.
# "wasm" is the Node fuzzer of the wasm build (tests/fuzz/wasm-fuzz.mjs).
fuzz_one() {
    local h=$1 runs=""
    if [ $h = wasm ]; then
        local wcount=100000
        [ "$MODE" = long ] && wcount=${RUNS:-1000000}
        nice -n 10 node tests/fuzz/wasm-fuzz.mjs --count $wcount --seconds $SECS > $F/log/wasm.txt 2>&1 || true
        return
    fi
    [ "$MODE" = long ] && runs="-runs=${RUNS:-1000000}"
    mkdir -p $F/crash/$h $F/work/$h
    local t0=$(date +%s)
    nice -n 10 $F/fuzz_$h $OPTS -max_total_time=$SECS $runs -artifact_prefix=$F/crash/$h/ \
        $F/work/$h $F/corpus/$h > $F/log/$h.txt 2>&1 || true
    echo "seconds: $(( $(date +%s) - t0 ))" >> $F/log/$h.txt
}

# One summary line for harness $1 from its log.
summary() {
    local log=$F/log/$1.txt
    local execs=$(sed -n 's/.*stat::number_of_executed_units: *//p' "$log" | tail -1)
    local st=$(grep -E '^#[0-9]+' "$log" | tail -1)
    local cov=$(echo "$st" | sed -n 's/.*cov: \([0-9]*\).*/\1/p') ft=$(echo "$st" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    local corp=$(echo "$st" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
    local secs=$(sed -n 's/^seconds: //p' "$log" | tail -1)
    local crashes=$(ls $F/crash/$1 | wc -l)
    printf '%-8s execs %9s  cov %5s  ft %6s  corpus %-12s crashes %s  seconds %s\n' "$1" "${execs:-0}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "${secs:-?}"
    [ "$crashes" = 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' "$log"
}

build
[ "$MODE" = build ] && exit 0
tests/fuzz/make-corpus.sh > /dev/null
rm -rf $F/log $F/crash $F/work
mkdir -p $F/log
fail=0
for h in $HARNESSES; do replay $h || fail=1; done
# the wasm fuzzer joins when the wasm build and node are there
WASM=""
[ -f wasm/prime.wasm ] && command -v node >/dev/null && WASM=wasm
JOBS=${JOBS:-1}
ORDER="$HARNESSES $WASM"
# long runs: the slowest harnesses (per execution) first, JOBS_LONG at a time,
# the next one starting as soon as one finishes
[ "$MODE" = long ] && JOBS=${JOBS_LONG:-2} && ORDER="events device $WASM vae image model model_v2 graph npz tensors frames clf nmnist npy"
running=0
for h in $ORDER; do
    if [ $running -ge $JOBS ]; then wait -n; running=$((running - 1)); fi
    fuzz_one $h &
    running=$((running + 1))
done
wait
{
    echo "# tests/fuzz/run.sh $MODE $SECS (RUNS=${RUNS:-1000000}, JOBS=$JOBS), commit $(git rev-parse --short HEAD 2>/dev/null), $(date -u)"
    for h in $HARNESSES; do summary $h || echo "CRASH $h"; done
    for h in $HARNESSES; do
        echo "## $h"
        grep -E '^#[0-9]+' $F/log/$h.txt | tail -1
        grep -E '^stat::|^seconds' $F/log/$h.txt
    done
    [ -n "$WASM" ] && echo "## wasm" && tail -12 $F/log/wasm.txt
} > $F/summary.txt
grep -q '^CRASH' $F/summary.txt && fail=1
sed -n '2,/^## /p' $F/summary.txt | grep -v '^## '
if [ -n "$WASM" ]; then
    grep -E '^FAIL|^wasm fuzz' $F/log/wasm.txt || true
    grep -q 'no failures' $F/log/wasm.txt || fail=1
fi
[ $fail = 0 ] && echo "fuzz: no crashes" || echo "fuzz: CRASHES (inputs in $F/crash/, logs in $F/log/)"
exit $fail
