#!/usr/bin/env bash
# Installs what PrefPlay's tests need on a fresh Debian machine:
#   - chromium: the browser for end-to-end tests, and its SwiftShader Vulkan driver, which
#     gives Dawn (the `webgpu` npm package) a WebGPU adapter on machines without a GPU;
#   - libvulkan1: the Vulkan loader Dawn opens;
#   - unzip: Info-ZIP, which checks the page's zip exports (CRCs, stored weights) in a unit test;
#   - xz-utils: the device pack's compressor (tests/gpu/device-bench.test.ts builds and runs a pack);
#   - python3: runs the TRL exports' train.py against stand-in packages and the judges exported as
#     Python reward functions (tests/unit/trl-*.test.ts).
# Idempotent: does nothing when all are present. Needs root (or sudo) to install.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || need+=(chromium)
command -v unzip >/dev/null || need+=(unzip)
command -v xz >/dev/null || need+=(xz-utils)
command -v python3 >/dev/null || need+=(python3)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libvulkan.so.1 ] || need+=(libvulkan1)

if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "setup-test-env: installing ${need[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup-test-env: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

/usr/bin/chromium --version
echo "setup-test-env: SwiftShader ICD at /usr/lib/chromium/vk_swiftshader_icd.json"
