#!/usr/bin/env bash
# bench-train.sh - the mask trainer against PyTorch on the CPU, side by side in one run
# (`./build.sh bench train`; never part of the tests): build/prime-train --bench N
# and scripts/bench-torch-train.py (the same network, loss, Adam and batch), each at
# one and two threads, alternated ROUNDS times; prints the median samples/s of each
# by process CPU time (all threads; steadier than wall time on the shared cores) and
# by wall time, and our/PyTorch ratios. --vae: the inpainting trainer instead
# (build/prime-train_vae --bench N --ch 16, one thread: it has no threads yet,
# against scripts/bench-torch-train-vae.py). Needs build/prime-train(_vae) and
# Debian's python3-torch.
#
#   scripts/bench-train.sh [--batches 4] [--rounds 3] [--baseline] [--vae]
set -euo pipefail
cd "$(dirname "$0")/.."
NB=4 ROUNDS=3 MODE=() VAE=0
while [ $# -gt 0 ]; do
    case "$1" in
    --batches) NB=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --baseline) MODE=(--baseline) ;;
    --vae) VAE=1 ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
    esac
    shift
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ "$VAE" = 1 ]; then
    cp build/prime-train_vae "$T/ours" # private copy: other jobs may rebuild build/
    for r in $(seq "$ROUNDS"); do
        "$T/ours" --bench "$NB" --batch 32 --ch 16 "${MODE[@]}" | tail -1 >>"$T/ours.jsonl"
        /usr/bin/python3 scripts/bench-torch-train-vae.py --batches "$NB" --batch 32 --ch 16 --threads 1,2 "${MODE[@]}" >>"$T/torch.jsonl"
    done
else
    cp build/prime-train "$T/ours" # private copy: other jobs may rebuild build/
    "$T/ours" --bench 1 --batch 32 "${MODE[@]}" >/dev/null # frame cache
    for r in $(seq "$ROUNDS"); do
        for th in 1 2; do
            "$T/ours" --bench "$NB" --batch 32 --threads "$th" "${MODE[@]}" | tail -1 >>"$T/ours.jsonl"
        done
        /usr/bin/python3 scripts/bench-torch-train.py --batches "$NB" --batch 32 --threads 1,2 "${MODE[@]}" >>"$T/torch.jsonl"
    done
fi
/usr/bin/python3 - "$T/ours.jsonl" "$T/torch.jsonl" "$ROUNDS" <<'PY'
import json, os, statistics, sys
rows = [json.loads(l) for f in sys.argv[1:3] for l in open(f) if l.strip()]
def med(e, th, k):
    v = [r[k] for r in rows if r["engine"] == e and r["threads"] == th]
    return statistics.median(v) if v else float("nan")
ours = rows[0]["engine"]; torch = next(r["engine"] for r in rows if r["engine"] != ours)
mode = rows[0]["mode"]
print(f"{ours} ({mode}, batch {rows[0]['batch']}, T {rows[0]['T']}, {rows[0]['samples']} samples a run) against {torch}, median of {sys.argv[3]} alternated runs, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
print(f"  {'threads':<8}{'ours CPU/wall':>24}{'PyTorch CPU/wall':>26}{'ratio CPU':>11}{'ratio wall':>12}")
for th in (1, 2):
    oc, ow, tc, tw = med(ours, th, "samples_per_cpu_s"), med(ours, th, "samples_per_wall_s"), med(torch, th, "samples_per_cpu_s"), med(torch, th, "samples_per_wall_s")
    if oc != oc:  # no run of ours at this thread count (the VAE trainer has one thread)
        print(f"  {th:<8}{'(one thread only)':>24}{f'{tc:.1f} / {tw:.1f} /s':>26}{'-':>11}{'-':>12}")
        continue
    print(f"  {th:<8}{f'{oc:.1f} / {ow:.1f} /s':>24}{f'{tc:.1f} / {tw:.1f} /s':>26}{f'{oc / tc:.2f}x':>11}{f'{ow / tw:.2f}x':>12}")
PY
