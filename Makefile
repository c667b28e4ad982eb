# Makefile - builds and tests PRIME-sim (./build.sh wraps it; docs/architecture.md).
#
#   make [-j2]         all: the CLI tools and the C test programs (default)
#   make tests         the C test programs (every tests/c/test_*.c)
#   make test-c        runs them
#   make asan          every C test built and run under AddressSanitizer + UBSan
#   make wasm          wasm/prime.wasm (SIMD) and build/prime-scalar.wasm
#   make golden        native and native scalar outputs against tests/golden/
#   make golden-update rewrites tests/golden/ (review the diff in the commit)
#   make node          the node and browser tests (wasm API, page)
#   make fuzz          tests/fuzz/run.sh (FUZZ=mode passes a mode)
#   make bench         benchmarks (prints figures; never part of the tests)
#   make check         everything `./build.sh test` runs, one step after the other
#   make docs-figures  copies the test run's screenshots and figures into docs/
#   make clean
#
# Every source is compiled once per object set into build/obj/<set>/ and kept
# there; headers are tracked (-MMD -MP), so a second `make` builds nothing.
# Object sets (the flags of each are those of the binaries built from it):
#   native  -O2        build/prime, the C tests, build/golden
#   scalar  -O2 -DPRIME_NO_SIMD   build/prime-scalar, build/golden-scalar
#   tools   -O3        build/prime-<name> for src/cli/<name>.c (trainers, results)
#   asan    -O1 -g -fsanitize=address,undefined   build/asan/test_*
# All sets take -fopenmp: only src/train_vae.c has OpenMP pragmas, so for the
# other files the flag changes nothing but the link (libgomp).

B := build
O := $(B)/obj
CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif

# -ffp-contract=off: no fused multiply-add, so native, scalar and wasm builds
# round every float the same way (identical spikes across builds).
CFLAGS_COMMON := -std=c11 -Wall -Wextra -ffp-contract=off -Isrc -I/usr/include/stb -D_GNU_SOURCE
DEPFLAGS := -MMD -MP
LIBS := -lm -lz -pthread

FLAGS_native := $(CFLAGS_COMMON) -O2 -fopenmp
FLAGS_scalar := $(CFLAGS_COMMON) -O2 -fopenmp -DPRIME_NO_SIMD
FLAGS_tools := $(CFLAGS_COMMON) -O3 -fopenmp
FLAGS_asan := $(CFLAGS_COMMON) -O1 -g -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=undefined

# The core (native and wasm) and the native-only parts (datasets, trainers).
CORE_SRC := src/prime_util.c src/prime_kernels.c src/prime_normal.c src/prime_device.c src/prime_crossbar.c \
            src/prime_policy.c src/prime_core.c src/prime_batch.c src/prime_model.c src/prime_modelfile.c src/prime_npz.c src/prime_image.c src/events.c \
            src/prime_vae.c src/prime_vae_io.c src/prime_onnx.c src/device_fx.c src/irdrop.c src/device_opts.c src/device_wire.c \
            src/prime_zip.c src/prime_pickle.c src/prime_import.c \
            src/prime_graph.c src/prime_graph_run.c src/prime_graph_io.c src/prime_graph_import.c src/prime_graph_clf.c
NATIVE_SRC := src/data.c src/augment.c src/device_table.c src/train.c src/train_fit.c src/train_kern.c src/train_wasm.c src/train_vae.c src/classifier.c src/inpaint_eval.c
CLI_NAMES := $(filter-out prime prime_bench,$(patsubst src/cli/%.c,%,$(wildcard src/cli/*.c)))
TEST_NAMES := $(patsubst tests/c/%.c,%,$(wildcard tests/c/test_*.c))

TOOLS := $(B)/prime $(B)/prime-scalar $(CLI_NAMES:%=$(B)/prime-%)
TESTS := $(TEST_NAMES:%=$(B)/%)
ASAN_TESTS := $(TEST_NAMES:%=$(B)/asan/%)
GOLDEN := $(B)/golden $(B)/golden-scalar

# libraries of set S: $(call libs,S)
libs = $(O)/$(1)/libprime-native.a $(O)/$(1)/libprime.a
objs = $(patsubst src/%.c,$(O)/$(1)/%.o,$(2))

.PHONY: all native tools tests test-c asan wasm golden golden-update node fuzz fuzz-short bench \
        check docs-figures clean
.DEFAULT_GOAL := all

all: tools tests $(GOLDEN)
native: all
tools: $(TOOLS)
tests: $(TESTS)

# ------------------------------------------------------------------ objects
# $(O)/<set>/<file>.o from src/<file>.c and from tests/c/<file>.c
define objset
$(O)/$(1)/%.o: src/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(FLAGS_$(1)) $$(DEPFLAGS) -c -o $$@ $$<
$(O)/$(1)/tests/%.o: tests/c/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(FLAGS_$(1)) $$(DEPFLAGS) -c -o $$@ $$<
$(O)/$(1)/libprime.a: $(call objs,$(1),$(CORE_SRC))
	@rm -f $$@
	ar rcs $$@ $$^
$(O)/$(1)/libprime-native.a: $(call objs,$(1),$(NATIVE_SRC))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach s,native scalar tools asan,$(eval $(call objset,$(s))))

# ------------------------------------------------------------------ programs
$(B)/prime: $(O)/native/cli/prime.o $(O)/native/cli/prime_bench.o $(call libs,native)
	$(CC) $(FLAGS_native) -o $@ $^ $(LIBS)
$(B)/prime-scalar: $(O)/scalar/cli/prime.o $(O)/scalar/cli/prime_bench.o $(call libs,scalar)
	$(CC) $(FLAGS_scalar) -o $@ $^ $(LIBS)
$(B)/prime-%: $(O)/tools/cli/%.o $(call libs,tools)
	$(CC) $(FLAGS_tools) -o $@ $^ $(LIBS)
$(B)/test_%: $(O)/native/tests/test_%.o $(call libs,native)
	$(CC) $(FLAGS_native) -o $@ $^ $(LIBS)
$(B)/asan/test_%: $(O)/asan/tests/test_%.o $(call libs,asan)
	@mkdir -p $(@D)
	$(CC) $(FLAGS_asan) -o $@ $^ $(LIBS)
$(B)/golden: $(O)/native/tests/golden.o $(call libs,native)
	$(CC) $(FLAGS_native) -o $@ $^ $(LIBS)
$(B)/golden-scalar: $(O)/scalar/tests/golden.o $(call libs,scalar)
	$(CC) $(FLAGS_scalar) -o $@ $^ $(LIBS)

# ------------------------------------------------------------------ wasm
# emcc flags, one by one:
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
EMCC := NODE_PATH=/usr/share/nodejs emcc
EMFLAGS = $(CFLAGS_COMMON) -O3 --no-entry -sSTANDALONE_WASM \
    -sEXPORTED_FUNCTIONS=$(shell tr -d ' \n' < wasm/exports.json) \
    -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=1GB -sABORTING_MALLOC=0 -sINITIAL_MEMORY=16MB
WASM_API := src/wasm_api.c src/wasm_graph.c
WASM_DEPS := $(CORE_SRC) $(WASM_API) $(wildcard src/*.h) wasm/exports.json

wasm: wasm/prime.wasm $(B)/prime-scalar.wasm wasm/prime-train.wasm
wasm/prime.wasm: $(WASM_DEPS)
	$(EMCC) $(EMFLAGS) -msimd128 -o $@ $(CORE_SRC) $(WASM_API)
$(B)/prime-scalar.wasm: $(WASM_DEPS)
	@mkdir -p $(@D)
	$(EMCC) $(EMFLAGS) -DPRIME_NO_SIMD -o $@ $(CORE_SRC) $(WASM_API)


# The mask trainer for re-pruning in the page (src/train_wasm.c, wasm/prime-train.js):
# the same flags (one thread: pthread_create fails without -pthread and the
# trainer then runs every chunk on the calling thread), plus the trainer and its
# entry points; its exports are in wasm/train-exports.json. Committed, as prime.wasm.
TRAIN_WASM_SRC := $(CORE_SRC) src/train.c src/train_kern.c src/train_wasm.c
wasm/prime-train.wasm: $(TRAIN_WASM_SRC) $(wildcard src/*.h) wasm/train-exports.json
	$(EMCC) $(CFLAGS_COMMON) -O3 --no-entry -sSTANDALONE_WASM \
	    -sEXPORTED_FUNCTIONS=$(shell tr -d ' \n' < wasm/train-exports.json) \
	    -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=1GB -sABORTING_MALLOC=0 -sINITIAL_MEMORY=32MB \
	    -msimd128 -o $@ $(TRAIN_WASM_SRC)

# ------------------------------------------------------------------ tests
# Each runner runs its programs one at a time (some share scratch files) and
# runs them all, failing at the end if one failed; `make -j2` only builds in parallel.
test-c: $(TESTS)
	@fail=0; for t in $(TESTS); do echo "-- $$t"; $$t || fail=1; done; exit $$fail
asan: $(ASAN_TESTS)
	@fail=0; for t in $(ASAN_TESTS); do echo "-- $$t (AddressSanitizer + UBSan)"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t || fail=1; done; exit $$fail

# tests/golden/README.md: what the files hold, the tolerance
golden: $(GOLDEN)
	$(B)/golden check tests/golden
	$(B)/golden-scalar check tests/golden
	$(B)/golden check-v2 tests/golden
	$(B)/golden-scalar check-v2 tests/golden
golden-update: $(B)/golden
	$(B)/golden write tests/golden
	@echo "tests/golden/ rewritten: review \`git diff tests/golden\` before committing"

NODE_TESTS = $(wildcard tests/node/*.test.mjs tests/browser/*.test.mjs)
node: wasm tools
	node --test --test-concurrency=1 $(NODE_TESTS)

# the fuzzers live in tests/fuzz/ (run.sh builds and runs them; FUZZ=mode is passed on)
fuzz:
	@if [ -f tests/fuzz/run.sh ]; then bash tests/fuzz/run.sh $(FUZZ); else echo "no tests/fuzz/run.sh"; fi
fuzz-short:
	@if [ -f tests/fuzz/run.sh ]; then bash tests/fuzz/run.sh short; else echo "no tests/fuzz/run.sh: no fuzz smoke run"; fi

# one step after the other (each builds what it needs), all of them even if one fails
CHECK_STEPS := test-c asan golden fuzz-short node
check:
	@fail=0; for s in $(CHECK_STEPS); do echo "== make $$s"; $(MAKE) --no-print-directory $$s || fail=1; done; \
	    if [ $$fail = 0 ]; then echo "== all tests passed"; else echo "== TESTS FAILED"; fi; exit $$fail

bench: tools wasm
	node scripts/bench.mjs $(ARGS)

# The browser test writes its screenshots to build/docs-img/ and its load
# figures to build/web-figures.md; this copies them into docs/ (docs/web.md).
docs-figures:
	node scripts/docs-figures.mjs

clean:
	rm -rf $(O) $(B)/asan $(TOOLS) $(TESTS) $(GOLDEN) $(B)/prime-scalar.wasm

# keep the object files of the chained rules (cli/, tests/) between runs
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
