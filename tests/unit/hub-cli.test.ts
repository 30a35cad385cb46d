// `--model hf:ORG/NAME[@REV]` in the CLI without a GPU: the environment (HF_ENDPOINT, HF_HOME,
// HF_TOKEN, HF_HUB_OFFLINE), the progress lines on stderr, and the one-line errors of a bad id,
// 404 and 401, through commands that fail or finish before touching the GPU. The local Hub
// stand-in serves the models; never the real Hub.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { UsageError } from '../../src/cli/command';
import { resolveModelDir } from '../../src/cli/model-load';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { writeGptFolder } from '../helpers/hub-models';

const tmp = mkdtempSync(join(tmpdir(), 'prefplay-hub-cli-'));
const gptDir = writeGptFolder(join(tmp, 'src-gpt'));
const pairs = join(tmp, 'pairs.jsonl');
writeFileSync(pairs, '{"prompt": "2+2=", "chosen": "4", "rejected": "5"}\n');
const ENV = ['HF_ENDPOINT', 'HF_HOME', 'HF_HUB_CACHE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
let server: HubServer;
let gated: HubServer;
let stderr: string[];

beforeAll(async () => {
  server = await startHubServer({ models: { 'test-org/tiny-gpt': gptDir } });
  gated = await startHubServer({ models: { 'test-org/gated': gptDir }, token: 'hf_cli_secret' });
});
afterAll(async () => {
  await server.stop();
  await gated.stop();
});

function setEnv(env: Partial<Record<(typeof ENV)[number], string>>) {
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, env);
  stderr = [];
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void stderr.push(a.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => {});
}
afterEach(() => {
  vi.restoreAllMocks();
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('CLI --model hf:ORG/NAME', () => {
  it('resolves to the snapshot folder under $HF_HOME/hub, with progress lines, then from the cache', async () => {
    const home = join(tmp, 'home1');
    setEnv({ HF_ENDPOINT: server.endpoint, HF_HOME: home });
    expect(await main(['validate', '--model', 'hf:test-org/tiny-gpt', '--pairs', pairs])).toBe(0);
    const dir = join(home, 'hub', 'models--test-org--tiny-gpt', 'snapshots', server.commitOf('test-org/tiny-gpt'));
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(true);
    expect(stderr[0]).toBe(`hf:test-org/tiny-gpt: downloading from ${server.endpoint} into ${join(home, 'hub')}`);
    expect(stderr.some((l) => /^hf:test-org\/tiny-gpt: \S+ \(\d of 5 files\): .* \(100 %\), .*\/s$/.test(l))).toBe(true);
    expect(stderr.at(-1)).toMatch(new RegExp(`^hf:test-org/tiny-gpt: 5 files \\(.* KB\\) in ${dir}$`));
    // the second time: the folder at once, nothing printed
    stderr.length = 0;
    expect(await resolveModelDir('hf:test-org/tiny-gpt')).toBe(dir);
    expect(stderr).toEqual([]);
    // HF_HUB_OFFLINE: no request
    process.env.HF_HUB_OFFLINE = '1';
    const n = server.requests.length;
    expect(await resolveModelDir('hf:test-org/tiny-gpt')).toBe(dir);
    expect(server.requests.length).toBe(n);
  });

  it('a cached model: a moved branch is downloaded; one stderr line when the Hub cannot be checked or is another', async () => {
    const home = join(tmp, 'home4');
    const s = await startHubServer({ models: { 'test-org/tiny-gpt': gptDir } });
    const other = await startHubServer({ models: { 'test-org/tiny-gpt': gptDir } });
    try {
      setEnv({ HF_ENDPOINT: s.endpoint, HF_HOME: home });
      await resolveModelDir('hf:test-org/tiny-gpt');
      // the branch moved on (new weights, a new commit): the new snapshot, the changed file only
      const v2 = writeGptFolder(join(tmp, 'src-gpt-v2'), 9);
      s.options.models['test-org/tiny-gpt'] = v2;
      s.options.commits = { 'test-org/tiny-gpt@main': 'c'.repeat(40) };
      const n = s.requests.length;
      stderr.length = 0;
      const next = await resolveModelDir('hf:test-org/tiny-gpt');
      expect(next).toBe(join(home, 'hub', 'models--test-org--tiny-gpt', 'snapshots', 'c'.repeat(40)));
      expect(s.requests.slice(n).filter((r) => r.path.includes('/resolve/')).map((r) => r.path)).toEqual([`/test-org/tiny-gpt/resolve/${'c'.repeat(40)}/model.safetensors`]);
      expect(readFileSync(join(next, 'model.safetensors'))).toEqual(readFileSync(join(v2, 'model.safetensors')));
      expect(stderr.at(-1)).toMatch(new RegExp(`^hf:test-org/tiny-gpt: 5 files \\(.* KB\\) in ${next}$`));
      // the old snapshot is kept (as huggingface_hub keeps it)
      expect(existsSync(join(home, 'hub', 'models--test-org--tiny-gpt', 'snapshots', s.commitOf('test-org/tiny-gpt'), 'model.safetensors'))).toBe(true);
      // another HF_ENDPOINT is not asked about it: the cached snapshot, one line saying so
      process.env.HF_ENDPOINT = other.endpoint;
      stderr.length = 0;
      expect(await resolveModelDir('hf:test-org/tiny-gpt')).toBe(next);
      expect(other.requests).toEqual([]);
      expect(stderr).toEqual([`hf:test-org/tiny-gpt: using the cached snapshot ${'c'.repeat(12)} in ${next}; not checked for a newer revision of main: it was downloaded from ${s.endpoint}`]);
      // its own endpoint down: one line saying why
      process.env.HF_ENDPOINT = s.endpoint;
      await s.stop();
      stderr.length = 0;
      expect(await resolveModelDir('hf:test-org/tiny-gpt')).toBe(next);
      // (refused, or the socket Node's fetch had kept open to it found closed)
      expect(stderr).toEqual([expect.stringMatching(/; could not check .* for a newer revision of main \((ECONNREFUSED|UND_ERR_SOCKET)\)$/)]);
      expect(stderr[0].startsWith(`hf:test-org/tiny-gpt: using the cached snapshot ${'c'.repeat(12)} in ${next}; could not check ${s.endpoint} for`)).toBe(true);
    } finally {
      await s.stop();
      await other.stop();
    }
  });

  it('a snapshot cached before manifests recorded their endpoint is checked at HF_ENDPOINT, which the manifest then records', async () => {
    const home = join(tmp, 'home-unrecorded');
    const s = await startHubServer({ models: { 'test-org/tiny-gpt': gptDir } });
    try {
      setEnv({ HF_ENDPOINT: s.endpoint, HF_HOME: home });
      const dir = await resolveModelDir('hf:test-org/tiny-gpt');
      const commit = s.commitOf('test-org/tiny-gpt');
      const manifestPath = join(home, 'hub', 'models--test-org--tiny-gpt', '.prefplay', `${commit}.json`);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
      delete manifest.endpoint;
      writeFileSync(manifestPath, JSON.stringify(manifest));
      const n = s.requests.length;
      stderr.length = 0;
      expect(await resolveModelDir('hf:test-org/tiny-gpt')).toBe(dir);
      // asked like any cached branch (one revision call), nothing to say, the endpoint recorded
      expect(s.requests.slice(n).map((r) => r.path)).toEqual(['/api/models/test-org/tiny-gpt/revision/main']);
      expect(stderr).toEqual([]);
      expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toEqual({ ...manifest, endpoint: s.endpoint });
    } finally {
      await s.stop();
    }
  });

  it('a malformed id, 404 and offline misses are one-line usage errors', async () => {
    setEnv({ HF_ENDPOINT: server.endpoint, HF_HOME: join(tmp, 'home2') });
    const run = (model: string) => main(['logps', '--model', model, '--pairs', pairs, '--out', join(tmp, 'x.jsonl')]);
    await expect(run('hf:gpt2')).rejects.toThrow(new UsageError('--model "hf:gpt2": expected hf:ORG/NAME or hf:ORG/NAME@REVISION, e.g. hf:HuggingFaceTB/SmolLM2-135M-Instruct (models without an organisation moved under one: hf:gpt2 is hf:openai-community/gpt2)'));
    await expect(run('hf:test-org/missing')).rejects.toThrow(new UsageError(`--model hf:test-org/missing: no model test-org/missing on ${server.endpoint} (HTTP 404)`));
    await expect(run('hf:test-org/tiny-gpt@nope')).rejects.toThrow(/^--model hf:test-org\/tiny-gpt@nope: test-org\/tiny-gpt has no revision "nope"/);
    await expect(run('test-org/tiny-gpt')).rejects.toThrow(/no such folder \(for a model on the Hugging Face Hub, write hf:test-org\/tiny-gpt\)/);
    process.env.HF_HUB_OFFLINE = '1';
    await expect(run('hf:test-org/tiny-gpt')).rejects.toThrow(new UsageError('--model hf:test-org/tiny-gpt: not in the cache, and offline mode is on (nothing is downloaded)'));
    process.env.HF_ENDPOINT = 'not a url';
    await expect(run('hf:test-org/tiny-gpt')).rejects.toThrow(/^HF_ENDPOINT: the Hub endpoint "not a url" is not a URL/);
  });

  it('a gated model: 401 says to set HF_TOKEN; with HF_TOKEN the token reaches the server', async () => {
    setEnv({ HF_ENDPOINT: gated.endpoint, HF_HOME: join(tmp, 'home3') });
    const err = await resolveModelDir('hf:test-org/gated').catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^--model hf:test-org\/gated: the Hub answered HTTP 401: the model is gated or private .* then set HF_TOKEN to an access token/);
    expect((err as Error).message).not.toContain('\n');
    process.env.HF_TOKEN = 'hf_cli_secret';
    const n = gated.requests.length;
    expect(await main(['validate', '--model', 'hf:test-org/gated', '--pairs', pairs])).toBe(0);
    const reqs = gated.requests.slice(n);
    expect(reqs.length).toBe(6);
    expect(reqs.every((r) => r.authorization === 'Bearer hf_cli_secret' && r.status === 200)).toBe(true);
  });
});
