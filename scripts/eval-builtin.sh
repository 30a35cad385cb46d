#!/usr/bin/env bash
# Judged win rates of the built-in model before and after STEPS updates of DPO and of ORPO on
# a built-in preference set (default: arithmetic), judged on the set's held-out test prompts
# (SET-test) and on 150 of its training prompts, at temperature 1 and greedily. Everything
# lands in OUT_DIR as JSON.
# Usage: bash scripts/eval-builtin.sh [SET] [OUT_DIR] [STEPS] [BATCH] [LR] [WARMUP]
set -euo pipefail
SET=${1:-arithmetic}
OUT=${2:-runs/builtin-$SET}
STEPS=${3:-200}
BATCH=${4:-8}
LR=${5:-1e-4}
WARMUP=${6:-10}
mkdir -p "$OUT"
cli() { npx tsx src/cli/main.ts "$@"; }
judge_all() { # MODEL TAG: all held-out prompts, and 150 training prompts
  for t in 1 0; do
    cli judge --model "$1" --set "$SET-test" --samples 0 --seed 1 --temperature "$t" --out "$OUT/$2-T$t.samples.jsonl" > "$OUT/$2-T$t.json"
    cli judge --model "$1" --set "$SET" --samples 150 --seed 1 --temperature "$t" > "$OUT/$2-train-T$t.json"
    echo "$2 T=$t: held-out $(grep '"win_rate"' "$OUT/$2-T$t.json") training prompts $(grep '"win_rate"' "$OUT/$2-train-T$t.json")"
  done
}
[ -f "$OUT/before-T0.json" ] || judge_all builtin before
for m in dpo orpo; do
  start=$(date +%s)
  cli train --model builtin --pairs "public/data/$SET.jsonl" --method "$m" --beta 0.1 --lr "$LR" --warmup-steps "$WARMUP" --steps "$STEPS" --batch-size "$BATCH" --seed 0 --out "$OUT/$m" --quiet
  echo "$m: $STEPS steps in $(( $(date +%s) - start )) s; last: $(tail -1 "$OUT/$m/metrics.jsonl")"
  judge_all "$OUT/$m/model" "$m"
done
