#!/usr/bin/env bash
# The bench on a machine with a GPU and no Node, npm or registry (SPEC §7; docs/perf.md "A run on
# a lent GPU"): unpacks the pack that scripts/device-pack.sh built (this machine's node, Dawn's
# dawn.node, the bundled bench, the Vulkan loader), points the loader at the NVIDIA Vulkan driver,
# runs `bench` (ours, TensorFlow.js and jax-js on the same adapter), then scripts/torch_step.py
# where python3 has torch, and writes the JSON, in under 5 minutes.
#
#   bash scripts/device-bench.sh [--smoke] [OUT_DIR]     # OUT_DIR: $OUT on the device, else ./device-bench-out
#
# On the device (device tool): carry `.device-pack`, run `bash scripts/device-bench.sh`.
# First the pack is checked against this checkout (MANIFEST.txt's commit against HEAD, its shaders
# against ./shaders): a stale pack is rebuilt where node_modules can, else run after a WARNING.
# --smoke: one tiny case and one small matmul — what tests/gpu/device-bench.test.ts runs here on
# SwiftShader (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json) to test the packing.
#
# Writes OUT_DIR/bench.json (default cases, memory plans executed), bench-gpt2.json (GPT-2 small
# 1 × 128 and 8 × 512, real models' matmul shapes), bench-llama.json (SmolLM2-135M, ours only),
# torch.json (PyTorch fp32 and bf16 for the same GPT-2 cases), summary.md (every table and ours ÷
# PyTorch), log.txt. Each run has a time cap inside a 280 s budget; a run that hits it leaves a
# note in summary.md and the others still run.
# On a GPU with `shader-f16`, each bench run also checks the native f16 kernels against float64
# (and against their emulated form) and times the f16 matmul: the JSON's `f16` (selfcheck_ok,
# per-case error ÷ bound, GFLOP/s next to f32) and a line of summary.md (a failed self-check is
# listed under "Failed checks"). Without it `f16.status` is "shader-f16: not available". The
# fuller checks, `npm run test:gpu-f16` (tests/gpu-f16/), need a checkout with npm, not this pack.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLAN=gpu
if [ "${1:-}" = --smoke ]; then PLAN=smoke; shift; fi
OUTDIR="${1:-${OUT:-$ROOT/device-bench-out}}"
PACK="${PREFPLAY_PACK:-$ROOT/.device-pack}"
BUDGET="${DEVICE_BENCH_BUDGET:-280}"
mkdir -p "$OUTDIR"
LOG="$OUTDIR/log.txt"
: > "$LOG"
say() { echo "device-bench: $*" | tee -a "$LOG" >&2; }

can_build() { [ -d "$ROOT/node_modules/webgpu" ] && command -v node >/dev/null; }
FRESH="" # set when this run built the pack: it holds this checkout as it is now
build_pack() { # WHY
  say "$1: building it (scripts/device-pack.sh)"
  bash "$ROOT/scripts/device-pack.sh" "$PACK" >>"$LOG" 2>&1 || { say "packing failed (see $LOG)"; exit 1; }
  FRESH=1
}
if [ ! -f "$PACK/node.xz" ]; then
  if can_build; then
    build_pack "no pack at $PACK"
  else
    say "no pack at $PACK and no node_modules to build one: run scripts/device-pack.sh where npm works, then carry the pack"
    exit 1
  fi
fi

# Is the pack this checkout's bench? MANIFEST.txt's first line names the commit it was built from
# (scripts/device-pack.sh: "PrefPlay device pack, built DATE from SHORT_SHA", then " (with
# uncommitted changes)" where `git diff` was not empty), and app/shaders/ holds ./shaders as it
# was. A pack known to differ — another commit than `git rev-parse HEAD`, or other shaders — is
# rebuilt where node_modules can build one; elsewhere (a lent GPU: no npm, no registry, and the
# device tool's copy of the working tree has no .git, so only the shaders can be compared there)
# it is run as it is, after a WARNING. A pack that may differ — built from a dirty tree, or this
# checkout has uncommitted changes to what goes into it — gets a WARNING only.
MANIFEST_HEAD="$(head -n 1 "$PACK/MANIFEST.txt" 2>/dev/null)"
PACK_COMMIT="$(sed -n '1s/^PrefPlay device pack, built .* from \([0-9a-f]\{4,40\}\)\( .*\)\{0,1\}$/\1/p' "$PACK/MANIFEST.txt" 2>/dev/null)"
HEAD_COMMIT="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null)"
ROOT_SHADERS="$([ -d "$ROOT/shaders" ] && command -v diff >/dev/null && echo yes)"
stale=""
if [ -n "$HEAD_COMMIT" ] && [ "${HEAD_COMMIT#"$PACK_COMMIT"}" = "$HEAD_COMMIT" ]; then # also when the MANIFEST names no commit
  stale="the pack was built from commit ${PACK_COMMIT:-? (its MANIFEST.txt names none)}, this checkout is at ${HEAD_COMMIT:0:12}"
elif [ -n "$ROOT_SHADERS" ] && ! diff -rq "$ROOT/shaders" "$PACK/app/shaders" >/dev/null 2>&1; then
  stale="the pack's shaders (app/shaders/) differ from $ROOT/shaders"
fi
if [ -n "$FRESH" ]; then
  : # built above from this checkout
elif [ -n "$stale" ] && can_build; then
  build_pack "$stale"
elif [ -n "$stale" ]; then
  say "WARNING: $stale: this run measures the pack's bench, not this checkout's (rebuild it with scripts/device-pack.sh where npm works, then carry it again)"
else
  if [ -z "$HEAD_COMMIT" ]; then say "not a git checkout: the pack's commit (${PACK_COMMIT:-none named}) is not checked against it${ROOT_SHADERS:+; its app/shaders/ match ./shaders}"; fi
  case "$MANIFEST_HEAD" in *"uncommitted changes"*) say "WARNING: the pack was built from commit ${PACK_COMMIT:-?} with uncommitted changes: it holds them as they were then, and this checkout may differ";; esac
  if [ -n "$HEAD_COMMIT" ] && [ -n "$(git -C "$ROOT" status --porcelain -- src shaders scripts/device-bench-entry.ts package.json package-lock.json 2>/dev/null)" ]; then
    say "WARNING: this checkout has uncommitted changes under src/, shaders/ or the package files: the pack (${MANIFEST_HEAD#PrefPlay device pack, }) may not hold them; rebuild it with scripts/device-pack.sh to be sure"
  fi
fi

W="$(mktemp -d /tmp/prefplay-device.XXXXXX)"
trap 'rm -rf "$W"' EXIT
cp -r "$PACK/app" "$W/app"
xz -dc "$PACK/node.xz" > "$W/node" && chmod +x "$W/node"
mkdir -p "$W/app/node_modules/webgpu/dist/linux-x64"
xz -dc "$PACK/dawn.node.xz" > "$W/app/node_modules/webgpu/dist/linux-x64/dawn.node"
xz -d "$W/app/bench.mjs.xz"
NODE="$W/node"
BENCH="$W/app/bench.mjs"

# The Vulkan loader from the pack, then the NVIDIA driver's own folders; the NVIDIA ICD if the
# environment names none (the loader's search path may not include the driver's mount).
export LD_LIBRARY_PATH="$PACK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu/nvidia; do
  [ -d "$d" ] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$f" ]; then export VK_DRIVER_FILES="$f" VK_ICD_FILENAMES="$f"; break; fi
  done
fi

{
  echo "plan $PLAN, pack $PACK"
  head -n 7 "$PACK/MANIFEST.txt" 2>/dev/null
  echo "node $NODE $("$NODE" --version) (unpacked from the pack)"
  echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  nproc 2>/dev/null | sed 's/^/cpus /'
} >>"$LOG" 2>&1

# run NAME CAP_S COMMAND...: runs with the smaller of CAP_S and what is left of the budget
run() {
  local name="$1" cap="$2"; shift 2
  local left=$((BUDGET - SECONDS))
  [ "$left" -lt "$cap" ] && cap="$left"
  if [ "$cap" -lt 10 ]; then say "$name: skipped, the ${BUDGET} s budget is spent"; echo "- $name: skipped (budget spent)" >>"$W/notes.md"; return; fi
  say "$name (cap ${cap} s)"
  local t0=$SECONDS
  timeout --kill-after=5 "$cap" "$@" >>"$LOG" 2>&1
  local rc=$?
  say "$name: exit $rc after $((SECONDS - t0)) s"
  [ "$rc" -eq 0 ] || echo "- $name: exit $rc after $((SECONDS - t0)) s (cap ${cap} s; 124 = hit the cap)" >>"$W/notes.md"
}

TORCH=""
if command -v python3 >/dev/null && python3 -c 'import torch' >/dev/null 2>&1; then TORCH=python3; fi
torch_case() { # PRESET B T CAP
  [ -n "$TORCH" ] || return 0
  run "torch $1 $2x$3" "$4" "$TORCH" "$ROOT/scripts/torch_step.py" --preset "$1" --batch "$2" --seq "$3" --json "$W/torch-$1-$2x$3.json"
}

if [ "$PLAN" = smoke ]; then
  run "bench (smoke)" 240 "$NODE" "$BENCH" --case tiny:2x16 --matmul 64x96x32 --reps 1 --no-memory-plan --no-profile --no-generate --json "$OUTDIR/bench.json" --markdown "$W/bench.md"
  [ -n "$TORCH" ] && run "torch tiny 2x16 (cpu)" 60 "$TORCH" "$ROOT/scripts/torch_step.py" --preset tiny --batch 2 --seq 16 --steps 2 --warmup 0 --cpu --json "$W/torch-tiny-2x16.json"
else
  run "bench: default cases (generation tokens/s too), memory plans executed" 90 "$NODE" "$BENCH" --reps 5 --memory-run --json "$OUTDIR/bench.json" --markdown "$W/bench.md"
  run "bench: GPT-2 small, real models' matmuls" 110 "$NODE" "$BENCH" --case gpt2:1x128 --case gpt2:8x512 \
    --matmul 512x2304x768 --matmul 2048x2048x768 --matmul 4096x3072x768 --matmul 128x49152x576 --reps 5 --no-memory-plan --no-generate \
    --json "$OUTDIR/bench-gpt2.json" --markdown "$W/bench-gpt2.md"
  torch_case gpt2 8 512 40
  torch_case gpt2 1 128 25
  run "bench: SmolLM2-135M (ours only)" 40 "$NODE" "$BENCH" --case smollm2-135m:1x128 --case smollm2-135m:8x512 \
    --matmul 4096x576x576 --reps 5 --no-peer --no-memory-plan --no-generate --json "$OUTDIR/bench-llama.json" --markdown "$W/bench-llama.md"
  torch_case builtin 4 64 20
fi
[ -n "$TORCH" ] || say "python3 with torch not found: no PyTorch ratio"

"$NODE" "$ROOT/scripts/device-summary.mjs" "$OUTDIR" "$W" >>"$LOG" 2>&1 || say "summary failed (see log.txt)"
say "done in ${SECONDS} s: $(cd "$OUTDIR" && ls | tr '\n' ' ')"
[ -f "$OUTDIR/bench.json" ]
