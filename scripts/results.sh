#!/usr/bin/env bash
# results.sh - writes docs/results.md from the shipped models on held-out data.
# Usage: scripts/results.sh [N]   (N test samples per model, default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
[ -x build/prime-results ] || ./build.sh native
out=docs/results.md
{
  echo "# Results"
  echo
  echo "Made by \`scripts/results.sh $N\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'))."
  echo "Every number below comes from the simulator (build/prime-results, src/cli/results.c) on held-out"
  echo "test samples; software baselines from the trainer logs named in each section (docs/training.md)."
  echo
  for spec in "models/nmnist-digits.prime mnist docs/logs/nmnist-digits-baseline.log" \
              "models/nmnist-fashion.prime fashion docs/logs/nmnist-fashion-baseline.log"; do
    set -- $spec
    if [ ! -f "$1" ]; then echo "### $1: not trained yet"; echo; continue; fi
    if [ -f "$3" ]; then build/prime-results "$1" "$2" --n "$N" --baseline-log "$3"
    else build/prime-results "$1" "$2" --n "$N"; fi
  done
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
