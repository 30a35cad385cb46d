// The device-ready run (scripts/device-pack.sh + scripts/device-bench.sh, SPEC §7) end to end on
// this machine: a pack built here (fast xz, this machine's Vulkan loader) is unpacked into a
// temporary folder and run with an environment that names no Node, no node_modules and no
// project folder — only the pack's node, dawn.node, bundled bench and libvulkan — against
// SwiftShader, and it writes the JSON: ours, TF.js and jax-js on one adapter. Where python3 has
// torch, scripts/torch_step.py runs too (on the CPU) and must see the same starting log-probs as
// the engine. On a machine with an NVIDIA GPU the same script runs the full plan (docs/perf.md).
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'prefplay-pack-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('device-ready bench pack', () => {
  it('packs node, dawn.node, the bundled bench and the Vulkan loader, and runs from the pack alone', () => {
    const pack = join(dir, 'pack');
    const out = join(dir, 'out');
    execFileSync('bash', ['scripts/device-pack.sh', pack], { cwd: root, env: { ...process.env, XZ_LEVEL: '0', PACK_VULKAN: 'system' }, stdio: 'pipe' });
    for (const f of ['node.xz', 'dawn.node.xz', 'app/bench.mjs.xz', 'app/shaders/matmul.wgsl', 'app/node_modules/webgpu/index.js', 'lib/libvulkan.so.1', 'MANIFEST.txt']) expect(existsSync(join(pack, f)), f).toBe(true);
    expect(readFileSync(join(pack, 'MANIFEST.txt'), 'utf8')).toMatch(/@jax-js\/jax 0\.1\.\d+/);

    // no PATH entry with a node of its own, no NODE_PATH, run from a folder outside the project
    const env = { PATH: '/usr/bin:/bin', HOME: dir, PREFPLAY_PACK: pack, VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' };
    execFileSync('bash', [join(root, 'scripts/device-bench.sh'), '--smoke', out], { cwd: dir, env, stdio: 'pipe', timeout: 540_000 });
    const log = readFileSync(join(out, 'log.txt'), 'utf8');
    expect(log).toContain(`LD_LIBRARY_PATH=${join(pack, 'lib')}`);
    // the pack was just built from this checkout: the script reads its MANIFEST's commit as HEAD's
    // and its shaders as ./shaders (tests/unit/device-bench-pack.test.ts: the warnings otherwise)
    expect(log).not.toMatch(/the pack was built from commit \S+, this checkout is at|shaders \(app\/shaders\/\) differ|building it/);
    const report = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
    expect(report.machine.runtime, log).toMatch(/^node v\d+/);
    expect(report.adapter.description + report.adapter.architecture).toMatch(/swiftshader/i);
    expect(report.peer?.name).toMatch(/TensorFlow\.js/);
    expect(report.jaxjs?.name).toMatch(/jax-js/);
    const [step] = report.train_step;
    expect(step).toMatchObject({ preset: 'tiny', B: 2, T: 16 });
    expect(step.ratio).toBeGreaterThan(0);
    expect(step.ratio_jaxjs).toBeGreaterThan(0);
    expect(report.ratios.train_step_vs_jaxjs.tiny).toBe(step.ratio_jaxjs);
    expect(report.matmul[0].ratio_jaxjs).toBeGreaterThan(0);
    expect(report.f16.status).toBe('shader-f16: not available'); // SwiftShader; the section is in the bundle
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('| tiny | 2 × 16 |');
    expect(summary).toContain('f16: shader-f16: not available');
    expect(readdirSync(out).sort()).toEqual(expect.arrayContaining(['bench.json', 'log.txt', 'summary.md', 'torch.json']));

    const torch = JSON.parse(readFileSync(join(out, 'torch.json'), 'utf8')) as Array<{ preset: string; B: number; T: number; logp_seq0: number }>;
    if (torch.length) {
      // same weights and batch: sequence 0's completion log-prob sum agrees to f32 rounding
      const t = torch.find((x) => x.preset === 'tiny' && x.B === 2 && x.T === 16)!;
      expect(Math.abs(t.logp_seq0 - step.check.logp_seq0)).toBeLessThan(1e-3);
    }
  }, 600_000);
});
