#!/usr/bin/env bash
# results-events.sh - the "Other events" section of docs/results.md (markdown on stdout):
# the shipped classifiers on events they were not trained on, and the realism score
# of each event model with the PRIME authors' network (docs/data.md).
# Usage: scripts/results-events.sh [N]   (N test samples per dataset, default 500)
# Frame files go to build/events/ (made once per N; delete them to remake).
# Event models: the synthesizer with motion 0 (the default events; the digits model also saw
# augmented copies, docs/training.md) and motion 1 (the camera moves, as recorded), and the independent v2e-style
# model of scripts/dvs_emulator.py (never used for training).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
B=build/events
mkdir -p "$B"
[ -x build/prime-results ] && [ -x build/prime-samples ] || make -j2 tools >&2
models=("models/nmnist-digits.prime mnist" "models/nmnist-fashion.prime fashion")
echo "## Other events"
echo
echo "Made by \`scripts/results-events.sh $N\`: the first $N test samples of each dataset (events seeded as the"
echo "trainer's test split, docs/data.md) turned into events three ways, and every shipped classifier run on"
echo "each (ideal ADC, no read noise; build/prime-results --frames)."
echo
for spec in "${models[@]}"; do
  set -- $spec
  d=$2
  [ -f "$B/$d-$N.psmp" ] || build/prime-samples "$d" test "$N" "$B/$d-$N.psmp" 1001 >/dev/null
  [ -f "$B/$d-$N-motion0.pfrm" ] || node scripts/event-frames.mjs "$B/$d-$N.psmp" "$B/$d-$N-motion0.pfrm" >&2
  [ -f "$B/$d-$N-motion1.pfrm" ] || node scripts/event-frames.mjs "$B/$d-$N.psmp" "$B/$d-$N-motion1.pfrm" --motion 1 >&2
  [ -f "$B/$d-$N-emulator.pfrm" ] || /usr/bin/python3 scripts/dvs_emulator.py "$B/$d-$N.psmp" "$B/$d-$N-emulator.pfrm" >&2
done
echo "| model | synthesizer, motion 0 (the default events) | synthesizer, motion 1 | independent emulator |"
echo "|---|---|---|---|"
for spec in "${models[@]}"; do
  set -- $spec
  [ -f "$1" ] || { echo "| $1 | not trained yet | | |"; continue; }
  row="| $1 |"
  for ev in motion0 motion1 emulator; do
    acc=$(build/prime-results "$1" "$2" --n "$N" --frames "$B/$2-$N-$ev.pfrm" | sed -n 's/^| ideal ADC | 0 | \([0-9.]* %\) .*/\1/p')
    row="$row $acc |"
  done
  echo "$row"
done
echo
echo "Realism score: the PRIME authors' network trained on the real N-MNIST recordings (scripts/realism.py,"
echo "docs/data.md) on the same mnist frames; the paper reports 77.0 % load saved on the recordings."
echo
echo '```'
if ! /usr/bin/python3 scripts/realism.py "$B/mnist-$N-motion0.pfrm" "$B/mnist-$N-motion1.pfrm" "$B/mnist-$N-emulator.pfrm" --n "$N" 2>&1 | sed 's/ ([0-9.]* s)$//'; then
  echo "(scripts/realism.py failed: see above)"
fi
echo '```'
echo
