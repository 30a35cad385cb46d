// scripts/device-bench.sh's check that the pack it is about to run is this checkout's bench: the
// commit MANIFEST.txt names against `git rev-parse HEAD`, the pack's shaders against ./shaders,
// and dirty trees then and now. The script runs from a copy in a scratch project folder that has
// no node_modules (as on a lent GPU, so a stale pack is warned about, never rebuilt) with a fake
// pack whose `node` does nothing: only the log's pack lines are read, not a bench.
import { describe, it, expect, beforeEach, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(__dirname, '..', '..');
const base = mkdtempSync(join(tmpdir(), 'prefplay-pack-check-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
// a python3 without torch first on PATH: the script's torch import check alone would take seconds
const bin = join(base, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'python3'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });

let n = 0;
let root: string, pack: string;
const env = () => ({ PATH: `${bin}:/usr/bin:/bin`, HOME: root, PREFPLAY_PACK: pack, LANG: 'C' });
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', root, ...args], { env: env(), encoding: 'utf8' }).trim();
const xz = (path: string, text: string) => writeFileSync(path, execFileSync('xz', ['-0', '-c'], { input: text }));
const manifest = (firstLine: string) => writeFileSync(join(pack, 'MANIFEST.txt'), `${firstLine}\nnode v0 (fake)\n`);

beforeEach(() => {
  root = join(base, `root${++n}`);
  pack = join(base, `pack${n}`);
  mkdirSync(join(root, 'scripts'), { recursive: true });
  mkdirSync(join(root, 'shaders'));
  mkdirSync(join(root, 'src'));
  copyFileSync(join(repo, 'scripts', 'device-bench.sh'), join(root, 'scripts', 'device-bench.sh'));
  writeFileSync(join(root, 'shaders', 'matmul.wgsl'), '// kernel v1\n');
  writeFileSync(join(root, 'src', 'main.ts'), 'export {};\n');
  mkdirSync(join(pack, 'app', 'shaders'), { recursive: true });
  mkdirSync(join(pack, 'lib'));
  xz(join(pack, 'node.xz'), '#!/bin/sh\n[ "$1" = --version ] && echo v0-fake\nexit 0\n');
  xz(join(pack, 'dawn.node.xz'), '');
  xz(join(pack, 'app', 'bench.mjs.xz'), '');
  writeFileSync(join(pack, 'app', 'shaders', 'matmul.wgsl'), '// kernel v1\n');
});

/** The log's lines about the pack (the run itself fails: the fake node writes no bench.json). */
function packLines(): string[] {
  const out = join(root, 'out');
  const r = spawnSync('bash', [join(root, 'scripts', 'device-bench.sh'), '--smoke', out], { cwd: base, env: env(), encoding: 'utf8', timeout: 60_000 });
  expect(r.error).toBeUndefined();
  return readFileSync(join(out, 'log.txt'), 'utf8').split('\n').filter((l) => l.startsWith('device-bench: ') && /pack|checkout/.test(l));
}

describe('device-bench.sh checks the pack against the checkout', () => {
  it('outside a git checkout: compares the shaders only, and warns when they differ', { timeout: 30_000 }, () => {
    manifest('PrefPlay device pack, built 2026-01-01T00:00:00Z from 0123abc');
    expect(packLines()).toEqual(['device-bench: not a git checkout: the pack\'s commit (0123abc) is not checked against it; its app/shaders/ match ./shaders']);
    writeFileSync(join(root, 'shaders', 'matmul.wgsl'), '// kernel v2\n');
    const [line, ...rest] = packLines();
    expect(rest).toEqual([]);
    expect(line).toMatch(/^device-bench: WARNING: the pack's shaders \(app\/shaders\/\) differ from .*\/shaders: this run measures the pack's bench, not this checkout's/);
  });

  it('in a git checkout: warns when the pack was built from another commit, or names none', { timeout: 30_000 }, () => {
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'one');
    const head = git('rev-parse', 'HEAD');
    manifest('PrefPlay device pack, built 2026-01-01T00:00:00Z from 0123abc');
    expect(packLines()).toEqual([`device-bench: WARNING: the pack was built from commit 0123abc, this checkout is at ${head.slice(0, 12)}: this run measures the pack's bench, not this checkout's (rebuild it with scripts/device-pack.sh where npm works, then carry it again)`]);
    manifest('PrefPlay device pack, built 2026-01-01T00:00:00Z from ?');
    expect(packLines()).toEqual([expect.stringContaining(`WARNING: the pack was built from commit ? (its MANIFEST.txt names none), this checkout is at ${head.slice(0, 12)}`)]);
  });

  it('in a git checkout at the pack\'s commit: silent when both trees were clean, warns about uncommitted changes then or now', { timeout: 30_000 }, () => {
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'one');
    const short = git('rev-parse', '--short', 'HEAD');
    manifest(`PrefPlay device pack, built 2026-01-01T00:00:00Z from ${short}`);
    expect(packLines()).toEqual([]);
    writeFileSync(join(root, 'notes.txt'), 'not in the pack\n'); // outside what goes into the pack
    expect(packLines()).toEqual([]);
    manifest(`PrefPlay device pack, built 2026-01-01T00:00:00Z from ${short} (with uncommitted changes)`);
    expect(packLines()).toEqual([`device-bench: WARNING: the pack was built from commit ${short} with uncommitted changes: it holds them as they were then, and this checkout may differ`]);
    manifest(`PrefPlay device pack, built 2026-01-01T00:00:00Z from ${short}`);
    writeFileSync(join(root, 'src', 'main.ts'), 'export const x = 1;\n');
    expect(packLines()).toEqual([`device-bench: WARNING: this checkout has uncommitted changes under src/, shaders/ or the package files: the pack (built 2026-01-01T00:00:00Z from ${short}) may not hold them; rebuild it with scripts/device-pack.sh to be sure`]);
  });
});
