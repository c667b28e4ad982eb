#!/bin/sh
# irdrop-study.sh - the IR-drop study of docs/device.md: builds build/prime-irdrop
# (src/cli/irdrop.c) and prints the effect of wire resistance on column
# currents against array fill and tile size, with the error of the fast forms
# against the exact nodal solve. The printout is docs/logs/irdrop-study.txt:
#   sh scripts/irdrop-study.sh > docs/logs/irdrop-study.txt
set -e
cd "$(dirname "$0")/.."
make --no-print-directory build/prime-irdrop >&2
echo '# prime-irdrop (segments 1 ohm, no terminal resistance)'
build/prime-irdrop --r 1
echo
echo '# prime-irdrop --r 1 --r-term 100 (segments 1 ohm, driver and sense 100 ohm)'
build/prime-irdrop --r 1 --r-term 100
echo
echo '# prime-irdrop --r 0.25 (segments 0.25 ohm)'
build/prime-irdrop --r 0.25 --quick
