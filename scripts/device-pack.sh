#!/usr/bin/env bash
# Builds the pack that scripts/device-bench.sh runs on a machine with a GPU and no Node, npm or
# registry (SPEC §7, docs/perf.md "A run on a lent GPU"). Run here, after `npm ci`:
#
#   bash scripts/device-pack.sh [PACK_DIR]        # default .device-pack (ignored by git)
#
# PACK_DIR/
#   node.xz                      this machine's `node` binary, xz-compressed (~25 MB)
#   dawn.node.xz                 the `webgpu` package's Dawn build for linux-x64 (~6 MB)
#   app/bench.mjs.xz             the bench bundled by esbuild (scripts/device-bench-entry.ts: the
#                                CLI's `bench`, TensorFlow.js, jax-js; `webgpu` left external)
#   app/shaders/*.wgsl           the kernels (src/engine/shaders-node.ts finds them beside the bundle)
#   app/node_modules/webgpu/     the package's index.js and package.json (dawn.node goes in at run time)
#   lib/libvulkan.so.1           the Vulkan loader (Debian's libvulkan1), which Dawn dlopens
#   MANIFEST.txt                 versions and sha256 of what went in
#
# XZ_LEVEL (default 9) trades pack size for build time; PACK_VULKAN=system copies this machine's
# loader instead of downloading Debian's package (the test uses both, to stay quick and offline). Everything is a plain
# file (no symbolic links: the device tool carries a link as a link).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACK="${1:-$ROOT/.device-pack}"
LEVEL="${XZ_LEVEL:-9}"
ARCH="$(uname -m)"
cd "$ROOT"

[ "$ARCH" = x86_64 ] || { echo "device-pack: the lent machines are x86-64; this one is $ARCH" >&2; exit 1; }
NODE_BIN="$(command -v node)"; NODE_BIN="$(readlink -f "$NODE_BIN")"
DAWN="$ROOT/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$DAWN" ] || { echo "device-pack: $DAWN is missing: run \`npm ci\` first" >&2; exit 1; }
[ -x "$ROOT/node_modules/.bin/esbuild" ] || { echo "device-pack: esbuild is missing: run \`npm ci\` first" >&2; exit 1; }

rm -rf "$PACK"
mkdir -p "$PACK/app/shaders" "$PACK/app/node_modules/webgpu" "$PACK/lib"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "device-pack: bundling the bench (esbuild)"
"$ROOT/node_modules/.bin/esbuild" scripts/device-bench-entry.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --log-level=warning --outfile="$tmp/bench.mjs" \
  --banner:js="import { createRequire as __prefplayRequire } from 'node:module'; const require = __prefplayRequire(import.meta.url);"
xz -T0 "-$LEVEL" -c "$tmp/bench.mjs" > "$PACK/app/bench.mjs.xz"
cp shaders/*.wgsl "$PACK/app/shaders/"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$PACK/app/node_modules/webgpu/"

echo "device-pack: compressing node ($NODE_BIN, $(node --version)) and dawn.node (xz -$LEVEL)"
xz -T0 "-$LEVEL" -c "$NODE_BIN" > "$PACK/node.xz"
xz -T0 "-$LEVEL" -c "$DAWN" > "$PACK/dawn.node.xz"

echo "device-pack: the Vulkan loader"
vulkan=""
download() { (cd "$tmp" && apt-get download libvulkan1 >/dev/null 2>&1); }
if [ "${PACK_VULKAN:-apt}" = apt ]; then
  if download || { apt-get update -qq >/dev/null 2>&1 && download; }; then
    dpkg-deb -x "$tmp"/libvulkan1_*.deb "$tmp/vk"
    vulkan="$(find "$tmp/vk" -name 'libvulkan.so.1.*' -type f | head -n 1)"
    vulkan_from="$(basename "$tmp"/libvulkan1_*.deb)"
  fi
fi
if [ -z "$vulkan" ]; then # no apt: this machine's own copy of the same package
  vulkan="$(readlink -f /usr/lib/x86_64-linux-gnu/libvulkan.so.1 2>/dev/null || true)"
  vulkan_from="this machine's $vulkan"
fi
[ -f "$vulkan" ] || { echo "device-pack: no libvulkan.so.1 (apt-get download libvulkan1 failed and none is installed)" >&2; exit 1; }
cp "$vulkan" "$PACK/lib/libvulkan.so.1"

{
  echo "PrefPlay device pack, built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "node $(node --version) ($NODE_BIN)"
  echo "webgpu $(node -p "require('./node_modules/webgpu/package.json').version")"
  echo "@tensorflow/tfjs-core $(node -p "require('./node_modules/@tensorflow/tfjs-core/package.json').version")"
  echo "@jax-js/jax $(node -p "require('./node_modules/@jax-js/jax/package.json').version")"
  echo "libvulkan.so.1 from $vulkan_from"
  echo
  (cd "$PACK" && find . -type f ! -name MANIFEST.txt | sort | xargs sha256sum)
} > "$PACK/MANIFEST.txt"
echo "device-pack: $PACK ($(du -sh "$PACK" | cut -f1))"
