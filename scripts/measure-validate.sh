#!/usr/bin/env bash
# Peak memory and wall time of `validate` on a generated ~100 MB JSON Lines file (README
# numbers). The file goes to /tmp, never into the repository.
# Usage: bash scripts/measure-validate.sh [SIZE_MB]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${1:-100}"
FILE="${TMPDIR:-/tmp}/prefplay-measure-${SIZE_MB}mb.jsonl"
node scripts/gen-pairs-jsonl.mjs "$FILE" "$SIZE_MB"
REPORT="$(mktemp)"
TIMES="$(mktemp)"
# one node process (no npx wrapper), so the peak RSS is the validator's own
set +e
/usr/bin/time -v node --import tsx src/cli/main.ts validate --pairs "$FILE" --max-reported 20 >"$REPORT" 2>"$TIMES"
STATUS=$?
set -e
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(JSON.stringify({ bytes: r.bytes, rows: r.rows, accepted: r.accepted, rejected: r.rejectedCount, truncated: r.truncated, warnings: r.warningCounts }));
' "$REPORT"
grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$TIMES"
echo "exit status: $STATUS (1 = some rows rejected, as generated)"
echo "machine: $(nproc) cores, $(node --version)"
rm -f "$REPORT" "$TIMES" "$FILE"
