import { defineConfig } from 'vitest/config';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

// Three tiers (docs/design.md): unit (pure TS, float64 references), gpu (WGSL on real Dawn WebGPU
// in Node), e2e (the built app in headless Chromium). GPU tiers run one file at a time:
// SwiftShader already uses every core.
export default defineConfig({
  test: {
    projects: [
      // unit: 60 s, not vitest's 5 s: a test that spawns python3 (ast.parse of exported scripts) took
      // over 5 s once on a loaded 2-core machine; speed is the bench's business, never a test's
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000 } },
      {
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          env: { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? SWIFTSHADER },
        },
      },
      {
        // The native f16 kernels (`enable f16;`): only on an adapter with `shader-f16`, where
        // they fail (never skip) without it — so `npm test` and CI leave this project out
        // (`npm run test:gpu-f16`). No SwiftShader default: the system's GPU driver is the point.
        test: {
          name: 'gpu-f16',
          include: ['tests/gpu-f16/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 120_000,
          globalSetup: ['tests/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
