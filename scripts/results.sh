#!/usr/bin/env bash
# results.sh - writes docs/results.md from the shipped models on held-out data.
# Usage: scripts/results.sh [N] [NI] [NE] [ND]
#   N   test samples per classification model (default 2000)
#   NE  test samples per dataset for the "Other events" section (default 500;
#       scripts/results-events.sh)
#   ND  test samples per pass of the "Device effects" section (default 300;
#       scripts/results-device.sh, which can also update that section alone)
#   NI  test images per inpainting dataset (default 100; ~3 s CPU per image
#       for both datasets with 32-channel models, about a quarter of that at 16)
# Inpainting models (a missing one is skipped with a line saying so):
#   VAE_MNIST, VAE_MNIST_SW, VAE_FASHION, VAE_FASHION_SW
#     default models/inpaint-{mnist,fashion}{,-software}.pvae
#   CLF_MNIST, CLF_FASHION  IS classifiers, default models/is-{mnist,fashion}.pclf
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
NI=${2:-100}
NE=${3:-500}
ND=${4:-300}
[ -x build/prime-results ] || ./build.sh native
[ -x build/prime-devres ] || make -j1 build/prime-devres
out=docs/results.md
t0=$(date +%s)
{
  echo "# Results"
  echo
  echo "Made by \`scripts/results.sh $N $NI\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'))."
  echo "Every number below comes from the simulator (build/prime-results, src/cli/results.c) on held-out"
  echo "test samples; software baselines of the classification networks from the trainer logs named in"
  echo "each section (docs/training.md), those of the inpainting networks evaluated here."
  echo
  echo "## Classification"
  echo
  for spec in "models/nmnist-digits.prime mnist docs/logs/nmnist-digits-baseline.log" \
              "models/nmnist-fashion.prime fashion docs/logs/nmnist-fashion-baseline.log"; do
    set -- $spec
    if [ ! -f "$1" ]; then echo "### $1: not trained yet"; echo; continue; fi
    if [ -f "$3" ]; then build/prime-results "$1" "$2" --n "$N" --baseline-log "$3"
    else build/prime-results "$1" "$2" --n "$N"; fi
  done
  scripts/results-events.sh "$NE" || echo "(scripts/results-events.sh failed: see the script's stderr)"
  scripts/results-device.sh "$ND" || echo "(scripts/results-device.sh failed: see the script's stderr)"
  echo "## Inpainting"
  echo
  echo "The inpainting network of docs/inpainting.md. IS: the Inception Score with the repo's"
  echo "own classifier (models/is-*.pclf, trained by scripts/train-models.sh is), which stands in for the"
  echo "Inception network; how it was trained and its accuracy: docs/inpainting.md."
  echo
  for d in mnist fashion; do
    D=${d^^}
    m=$(eval echo "\${VAE_$D:-models/inpaint-$d.pvae}")
    s=$(eval echo "\${VAE_${D}_SW:-models/inpaint-$d-software.pvae}")
    c=$(eval echo "\${CLF_$D:-models/is-$d.pclf}")
    if [ ! -f "$m" ]; then echo "### Inpainting on $d: $m not found, skipped"; echo; continue; fi
    [ -f "$s" ] || echo "Software baseline $s not found: its rows are skipped." >&2
    case "$m" in *"$d"*) ;; *) echo "**Stand-in:** \`$m\` was trained on another dataset than $d (set VAE_$D)."; echo ;; esac
    build/prime-results inpaint "$d" --masks "$m" --software "$s" --clf "$c" --n "$NI" ||
      { echo "(prime-results inpaint $d failed: see the script's stderr)"; echo; }
  done
  echo "Whole script: $(( $(date +%s) - t0 )) s wall."
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
