// `--model hf:ORG/NAME` end to end on real WebGPU, against the local Hub stand-in (never the real
// Hub): `HF_ENDPOINT=http://127.0.0.1:PORT npm run cli -- logps --model hf:ORG/NAME …` on a
// sharded Llama-family checkpoint writes exactly the log-probs of the local folder; the same
// command works again with the server stopped (cache); `train --model hf:… --ref-model hf:…`
// runs from the cache; a gated copy downloads with HF_TOKEN, through a broken-off shard that is
// continued with a Range request.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../src/cli/main';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { writeShardedLlamaFolder } from '../helpers/hub-models';

const tmp = mkdtempSync(join(tmpdir(), 'prefplay-cli-hub-'));
const llamaDir = writeShardedLlamaFolder(join(tmp, 'src-llama'), 7);
const shards = readdirSync(llamaDir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f)).sort();
const pairs = join(tmp, 'pairs.jsonl');
writeFileSync(
  pairs,
  [
    { prompt: 'The capital of France is', chosen: ' Paris.', rejected: ' Lyon, I think.' },
    { prompt: '2+2=', chosen: '4', rejected: '22' },
    { prompt: '서울은', chosen: ' 한국의 수도', rejected: ' 일본' },
    { prompt: '', chosen: 'comment es-tu?', rejected: 'bien' },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n') + '\n',
);
const logpsArgs = (model: string, out: string) => ['logps', '--model', model, '--pairs', pairs, '--out', out, '--max-length', '48', '--batch-size', '2', '--quiet'];
const ENV = ['HF_ENDPOINT', 'HF_HOME', 'HF_HUB_CACHE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_HUB_OFFLINE'] as const;
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
const servers: HubServer[] = [];

function setEnv(env: Partial<Record<(typeof ENV)[number], string>>) {
  for (const k of ENV) delete process.env[k];
  Object.assign(process.env, env);
}
afterEach(() => {
  vi.restoreAllMocks();
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
afterAll(async () => {
  for (const s of servers) await s.stop();
});

describe('CLI --model hf:ORG/NAME on WebGPU', () => {
  const home = join(tmp, 'hf-home');
  const localOut = join(tmp, 'local.jsonl');

  it('HF_ENDPOINT=… npm run cli -- logps --model hf:ORG/NAME (sharded Llama) = the local folder; again with the server stopped', async () => {
    expect(shards.length).toBeGreaterThanOrEqual(3);
    const server = await startHubServer({ models: { 'test-org/tiny-llama': llamaDir } });
    servers.push(server);
    expect(await main(logpsArgs(llamaDir, localOut))).toBe(0);
    const local = readFileSync(localOut, 'utf8');
    expect(local.trim().split('\n')).toHaveLength(4);

    // the command as a user types it, in its own process
    const hubOut = join(tmp, 'hub.jsonl');
    const { stderr } = await promisify(execFile)('npm', ['run', '--silent', 'cli', '--', ...logpsArgs('hf:test-org/tiny-llama', hubOut)], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, HF_ENDPOINT: server.endpoint, HF_HOME: home, HF_TOKEN: '', HF_HUB_OFFLINE: '' },
    });
    expect(readFileSync(hubOut, 'utf8')).toBe(local);
    expect(stderr).toContain(`hf:test-org/tiny-llama: downloading from ${server.endpoint}`);
    for (const s of shards) expect(server.fileRequests(s).map((r) => r.status)).toEqual([200]);

    // the server stopped: the cached snapshot, same numbers
    await server.stop();
    setEnv({ HF_ENDPOINT: server.endpoint, HF_HOME: home });
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    const offlineOut = join(tmp, 'offline.jsonl');
    expect(await main(logpsArgs('hf:test-org/tiny-llama', offlineOut))).toBe(0);
    expect(readFileSync(offlineOut, 'utf8')).toBe(local);
    expect(lines.some((l) => l.startsWith('hf:test-org/tiny-llama: using the cached snapshot ') && l.includes(`; could not check ${server.endpoint} for a newer revision of main (`))).toBe(true);
  });

  it('train --model hf:… --ref-model hf:… runs from the cache (server down)', async () => {
    setEnv({ HF_ENDPOINT: 'http://127.0.0.1:1', HF_HOME: home, HF_HUB_OFFLINE: '1' });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const out = join(tmp, 'run');
    expect(await main(['train', '--model', 'hf:test-org/tiny-llama', '--ref-model', 'hf:test-org/tiny-llama', '--pairs', pairs, '--method', 'dpo', '--steps', '1', '--batch-size', '2', '--max-length', '48', '--out', out, '--quiet'])).toBe(0);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).model).toBe('hf:test-org/tiny-llama');
  });

  it('train --model hf:… --lora-r: the adapter names the repo and the commit it was trained on (PEFT revision)', async () => {
    setEnv({ HF_ENDPOINT: 'http://127.0.0.1:1', HF_HOME: home, HF_HUB_OFFLINE: '1' });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const out = join(tmp, 'run-lora');
    expect(await main(['train', '--model', 'hf:test-org/tiny-llama', '--pairs', pairs, '--method', 'dpo', '--lora-r', '2', '--steps', '1', '--batch-size', '2', '--max-length', '48', '--out', out, '--quiet'])).toBe(0);
    const cfg = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    const commit = servers[0].commitOf('test-org/tiny-llama');
    expect(cfg).toMatchObject({ base_model_name_or_path: 'test-org/tiny-llama', revision: commit });
    expect(readFileSync(join(out, 'adapter', 'README.md'), 'utf8')).toContain(`AutoModelForCausalLM.from_pretrained("test-org/tiny-llama", revision="${commit}")`);
  });

  it('a gated copy: HF_TOKEN reaches every request, and a shard cut mid-way is continued with a Range request', async () => {
    const shard = shards[1];
    const gated = await startHubServer({ models: { 'test-org/gated-llama': llamaDir }, token: 'hf_gpu_secret', cut: { file: shard, afterBytes: 10_000 } });
    servers.push(gated);
    const gHome = join(tmp, 'hf-home-gated');
    setEnv({ HF_ENDPOINT: gated.endpoint, HF_HOME: gHome });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await expect(main(logpsArgs('hf:test-org/gated-llama', join(tmp, 'no.jsonl')))).rejects.toThrow(/^--model hf:test-org\/gated-llama: the Hub answered HTTP 401: .*set HF_TOKEN/);
    process.env.HF_TOKEN = 'hf_gpu_secret';
    const out = join(tmp, 'gated.jsonl');
    expect(await main(logpsArgs('hf:test-org/gated-llama', out))).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(localOut, 'utf8'));
    const withToken = gated.requests.filter((r) => r.authorization);
    expect(withToken.length).toBeGreaterThan(shards.length);
    expect(withToken.every((r) => r.authorization === 'Bearer hf_gpu_secret')).toBe(true);
    const reqs = gated.fileRequests(shard);
    expect(reqs.map((r) => r.status)).toEqual([200, 206]);
    expect(reqs[1].range).toMatch(/^bytes=\d+-$/);
    const snapshot = join(gHome, 'hub', 'models--test-org--gated-llama', 'snapshots', gated.commitOf('test-org/gated-llama'));
    expect(Buffer.compare(readFileSync(join(snapshot, shard)), readFileSync(join(llamaDir, shard)))).toBe(0);
  });
});
