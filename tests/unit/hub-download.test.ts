// Downloads from the local Hub stand-in (tests/helpers/hub-server.ts) into the Node cache and
// into memory: single-file and sharded models byte for byte, the Hub's cache layout, a second
// use from the cache (with the server stopped too), an interrupted download continued with a
// Range request, cancel, 404/401/403 messages, the token on every request, sizes checked, and a
// server that lists no files. Never the real Hub.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { writeGptFolder, writeShardedLlamaFolder } from '../helpers/hub-models';
import { downloadModel, HubError, memoryHubStorage, parseHubId, type DownloadProgress, type FetchLike, type HubOptions } from '../../src/hub/index';
import { hubCacheRoot, nodeHubStorage, snapshotDir } from '../../src/hub/cache-node';
import { readLlamaCheckpointDir } from '../../src/model/llama-checkpoint-node';
import { readCheckpointDir } from '../../src/model/checkpoint-node';

const tmp = mkdtempSync(join(tmpdir(), 'prefplay-hub-'));
const gptDir = writeGptFolder(join(tmp, 'src-gpt'));
const llamaDir = writeShardedLlamaFolder(join(tmp, 'src-llama'));
let server: HubServer;
let cacheN = 0;
const freshCache = () => join(tmp, `cache-${cacheN++}`);

beforeAll(async () => {
  server = await startHubServer({ models: { 'test-org/tiny-gpt': gptDir, 'test-org/tiny-llama': { main: llamaDir, v2: gptDir } } });
});
afterAll(() => server.stop());

const same = (a: string, b: string) => expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);

async function failure(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a HubError');
}

describe('Hub downloads into the Node cache', () => {
  it('a single-file model: the needed files, byte for byte, in the Hub layout', async () => {
    const root = freshCache();
    const progress: DownloadProgress[] = [];
    const snap = await downloadModel(parseHubId('hf:test-org/tiny-gpt'), { storage: nodeHubStorage(root), endpoint: server.endpoint, onProgress: (p) => progress.push(p) });
    const commit = server.commitOf('test-org/tiny-gpt');
    expect(snap.key).toEqual({ repo: 'test-org/tiny-gpt', commit });
    const dir = snapshotDir(root, snap.key);
    expect(dir).toBe(join(root, 'models--test-org--tiny-gpt', 'snapshots', commit));
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    for (const f of readdirSync(dir)) same(join(dir, f), join(gptDir, f));
    expect(readFileSync(join(root, 'models--test-org--tiny-gpt', 'refs', 'main'), 'utf8')).toBe(commit);
    const total = snap.files.reduce((a, f) => a + f.size, 0);
    expect(snap.downloadedBytes).toBe(total);
    // progress: sizes known up front, done grows to the total, every file counted
    expect(progress.every((p) => p.total === total && p.fileCount === 5)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ done: total, fileIndex: 5 });
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
    // the files were fetched at the commit, not the moving branch name
    expect(server.fileRequests('config.json').at(-1)?.path).toBe(`/test-org/tiny-gpt/resolve/${commit}/config.json`);
    const ckpt = await readCheckpointDir(dir);
    expect(ckpt.config.nLayer).toBe(2);
  });

  it('a sharded Llama model: the index and every shard; loads to the same parameters', async () => {
    const root = freshCache();
    const snap = await downloadModel(parseHubId('hf:test-org/tiny-llama'), { storage: nodeHubStorage(root), endpoint: server.endpoint });
    const dir = snapshotDir(root, snap.key);
    const shards = readdirSync(llamaDir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThanOrEqual(3);
    expect(snap.files.map((f) => f.path)).toEqual(['config.json', 'model.safetensors.index.json', ...shards.sort(), 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json']);
    for (const f of readdirSync(llamaDir)) same(join(dir, f), join(llamaDir, f));
    const [a, b] = await Promise.all([readLlamaCheckpointDir(dir), readLlamaCheckpointDir(llamaDir)]);
    expect(a.config).toEqual(b.config);
    expect([...a.params.keys()]).toEqual([...b.params.keys()]);
    for (const [k, v] of a.params) expect(v).toEqual(b.params.get(k));
  });

  it('a second use comes from the cache: only the listing is asked for, and nothing when the server is down or offline is set', async () => {
    const root = freshCache();
    const id = parseHubId('hf:test-org/tiny-llama');
    await downloadModel(id, { storage: nodeHubStorage(root), endpoint: server.endpoint });
    const before = server.requests.length;
    const again = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: server.endpoint });
    expect(again.downloadedBytes).toBe(0);
    expect(again.offline).toBe(false);
    expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/api/models/test-org/tiny-llama/revision/main']);
    // offline mode: no request at all
    const n = server.requests.length;
    const off = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: server.endpoint, offline: true });
    expect(off).toMatchObject({ offline: true, key: again.key });
    expect(server.requests.length).toBe(n);
    // an unreachable endpoint (a stopped server's port): the cached snapshot
    const dead = await startHubServer({ models: {} });
    await dead.stop();
    const down = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: dead.endpoint });
    expect(down).toMatchObject({ offline: true, key: again.key });
    // ... but not one that is not cached
    const miss = await failure(downloadModel(parseHubId('hf:test-org/tiny-gpt'), { storage: nodeHubStorage(root), endpoint: dead.endpoint }));
    expect(miss.kind).toBe('network');
    expect(miss.message).toBe(`hf:test-org/tiny-gpt: cannot reach ${dead.endpoint} (ECONNREFUSED), and hf:test-org/tiny-gpt is not in the cache`);
    const offMiss = await failure(downloadModel(parseHubId('hf:test-org/tiny-gpt'), { storage: nodeHubStorage(root), endpoint: server.endpoint, offline: true }));
    expect(offMiss.kind).toBe('offline');
  });

  it('a revision other than main gets its own snapshot and ref', async () => {
    const root = freshCache();
    const snap = await downloadModel(parseHubId('hf:test-org/tiny-llama@v2'), { storage: nodeHubStorage(root), endpoint: server.endpoint });
    expect(snap.key.commit).toBe(server.commitOf('test-org/tiny-llama', 'v2'));
    expect(readFileSync(join(root, 'models--test-org--tiny-llama', 'refs', 'v2'), 'utf8')).toBe(snap.key.commit);
    same(join(snapshotDir(root, snap.key), 'model.safetensors'), join(gptDir, 'model.safetensors'));
    // by commit hash: the same snapshot, offline too
    const byCommit = await downloadModel(parseHubId(`hf:test-org/tiny-llama@${snap.key.commit}`), { storage: nodeHubStorage(root), endpoint: server.endpoint, offline: true });
    expect(byCommit.key).toEqual(snap.key);
  });

  it('an interrupted download continues with a Range request, byte-identical (next run, and retried within one)', async () => {
    const root = freshCache();
    const id = parseHubId('hf:test-org/tiny-gpt');
    const size = readFileSync(join(gptDir, 'model.safetensors')).length;
    server.options.cut = { file: 'model.safetensors', afterBytes: 50_000 };
    const e = await failure(downloadModel(id, { storage: nodeHubStorage(root), endpoint: server.endpoint, retries: 0 }));
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(new RegExp(`^model.safetensors of hf:test-org/tiny-gpt: the download broke off at \\d+ of ${size} bytes .*gave up after 1 try; what arrived is kept and the next run continues from it$`));
    const partial = join(root, 'models--test-org--tiny-gpt', '.prefplay', server.commitOf('test-org/tiny-gpt'), 'model.safetensors.part');
    const kept = readFileSync(partial).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(50_000);
    const n = server.requests.length;
    const resumed: Array<[string, number]> = [];
    const snap = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: server.endpoint, onResume: (f, o) => resumed.push([f, o]) });
    const reqs = server.requests.slice(n).filter((r) => r.path.endsWith('/model.safetensors'));
    expect(reqs.map((r) => [r.range, r.status])).toEqual([[`bytes=${kept}-`, 206]]);
    expect(resumed).toEqual([['model.safetensors', kept]]);
    // only the missing bytes and the files not fetched before came over the wire
    const rest = snap.files.filter((f) => !['config.json', 'model.safetensors'].includes(f.path)).reduce((a, f) => a + f.size, 0);
    expect(snap.downloadedBytes).toBe(size - kept + rest);
    same(join(snapshotDir(root, snap.key), 'model.safetensors'), join(gptDir, 'model.safetensors'));
    expect(existsSync(partial)).toBe(false);

    // cut twice, default retries: one call, continued twice
    const root2 = freshCache();
    server.options.cut = { file: 'model.safetensors', afterBytes: 30_000, times: 2 };
    const m = server.requests.length;
    const snap2 = await downloadModel(id, { storage: nodeHubStorage(root2), endpoint: server.endpoint });
    const ranges = server.requests.slice(m).filter((r) => r.path.endsWith('/model.safetensors')).map((r) => r.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeNull();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Number(ranges[2]?.slice(6, -1))).toBeGreaterThan(Number(ranges[1]?.slice(6, -1)));
    same(join(snapshotDir(root2, snap2.key), 'model.safetensors'), join(gptDir, 'model.safetensors'));
    server.options.cut = null;
  });

  it('404: no such model, revision; the messages say which', async () => {
    const opts = { storage: memoryHubStorage(), endpoint: server.endpoint };
    const repo = await failure(downloadModel(parseHubId('hf:test-org/nope'), opts));
    expect([repo.kind, repo.status]).toEqual(['not-found', 404]);
    expect(repo.message).toBe(`hf:test-org/nope: no model test-org/nope on ${server.endpoint} (HTTP 404)`);
    const rev = await failure(downloadModel(parseHubId('hf:test-org/tiny-gpt@v9'), opts));
    expect(rev.message).toBe('hf:test-org/tiny-gpt@v9: test-org/tiny-gpt has no revision "v9" (no such branch, tag or commit; HTTP 404)');
  });

  it('a gated model: 401 without a token and 403 with a wrong one, explained; the right token reaches every request', async () => {
    const gated = await startHubServer({ models: { 'test-org/gated': gptDir }, token: 'hf_secret' });
    try {
      const opts: HubOptions = { storage: memoryHubStorage(), endpoint: gated.endpoint, tokenHint: 'set HF_TOKEN' };
      const e401 = await failure(downloadModel(parseHubId('hf:test-org/gated'), opts));
      expect([e401.kind, e401.status]).toEqual(['auth', 401]);
      expect(e401.message).toBe(`hf:test-org/gated: the Hub answered HTTP 401: the model is gated or private (or does not exist) and needs an access token — request access on ${gated.endpoint}/test-org/gated if it is gated, then set HF_TOKEN`);
      const e403 = await failure(downloadModel(parseHubId('hf:test-org/gated'), { ...opts, token: 'hf_wrong' }));
      expect([e403.kind, e403.status]).toEqual(['auth', 403]);
      expect(e403.message).toMatch(/refused the access token \(HTTP 403\)/);
      const snap = await downloadModel(parseHubId('hf:test-org/gated'), { ...opts, token: 'hf_secret' });
      expect(snap.files.length).toBe(5);
      const ok = gated.requests.filter((r) => r.status === 200);
      expect(ok.length).toBe(6);
      expect(ok.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
    } finally {
      await gated.stop();
    }
  });

  it('a file of another size than the listing says is refused', async () => {
    // a listing that is one byte off for config.json
    const lying: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (!url.includes('/api/models/')) return res;
      const json = (await res.json()) as { siblings: Array<{ rfilename: string; size: number }> };
      for (const s of json.siblings) if (s.rfilename === 'config.json') s.size += 1;
      return new Response(JSON.stringify(json), { status: 200, headers: { 'Content-Type': 'application/json' } });
    };
    const e = await failure(downloadModel(parseHubId('hf:test-org/tiny-gpt'), { storage: memoryHubStorage(), endpoint: server.endpoint, fetch: lying }));
    expect(e.kind).toBe('integrity');
    expect(e.message).toMatch(/^config.json of hf:test-org\/tiny-gpt: the server sends \d+ bytes, the model's file list says \d+$/);
  });

  it('a server that lists no files: config and weights are required, the rest probed (404 = absent)', async () => {
    const bare = await startHubServer({ models: { 'test-org/tiny-llama': llamaDir }, listFiles: false });
    try {
      const storage = memoryHubStorage();
      const snap = await downloadModel(parseHubId('hf:test-org/tiny-llama'), { storage, endpoint: bare.endpoint });
      const want = readdirSync(llamaDir).sort();
      expect(snap.files.map((f) => f.path).sort()).toEqual(want);
      for (const f of want) expect(Buffer.compare(Buffer.from((await storage.readFile(snap.key, f))!), readFileSync(join(llamaDir, f)))).toBe(0);
      expect(bare.fileRequests('model.safetensors').map((r) => r.status)).toEqual([404]);
    } finally {
      await bare.stop();
    }
  });

  it('cancel through an AbortSignal keeps what arrived; the next call continues from it', async () => {
    const storage = memoryHubStorage();
    const ac = new AbortController();
    const id = parseHubId('hf:test-org/tiny-gpt');
    const e = await failure(
      downloadModel(id, {
        storage,
        endpoint: server.endpoint,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.file === 'model.safetensors' && p.fileDone > 0 && p.fileDone < (p.fileTotal ?? 0)) ac.abort();
        },
      }),
    );
    expect(e.kind).toBe('aborted');
    expect(e.message).toBe('model.safetensors of hf:test-org/tiny-gpt: download cancelled');
    const key = { repo: id.repo, commit: server.commitOf(id.repo) };
    const kept = await storage.partialSize(key, 'model.safetensors');
    expect(kept).toBeGreaterThan(0);
    const n = server.requests.length;
    const snap = await downloadModel(id, { storage, endpoint: server.endpoint });
    expect(server.requests.slice(n).find((r) => r.path.endsWith('/model.safetensors'))?.range).toBe(`bytes=${kept}-`);
    expect(Buffer.compare(Buffer.from((await storage.readFile(snap.key, 'model.safetensors'))!), readFileSync(join(gptDir, 'model.safetensors')))).toBe(0);
  });

  it('an empty file downloads as an empty file', async () => {
    const dir = writeGptFolder(join(tmp, 'src-empty'));
    writeFileSync(join(dir, 'chat_template.jinja'), '');
    const s = await startHubServer({ models: { 'test-org/empty': dir } });
    try {
      const root = freshCache();
      const snap = await downloadModel(parseHubId('hf:test-org/empty'), { storage: nodeHubStorage(root), endpoint: s.endpoint });
      expect(snap.files.find((f) => f.path === 'chat_template.jinja')).toEqual({ path: 'chat_template.jinja', size: 0, blobId: expect.stringMatching(/^[0-9a-f]{40}$/) });
      expect(readFileSync(join(snapshotDir(root, snap.key), 'chat_template.jinja')).length).toBe(0);
      expect((await downloadModel(parseHubId('hf:test-org/empty'), { storage: nodeHubStorage(root), endpoint: s.endpoint, offline: true })).key).toEqual(snap.key);
    } finally {
      await s.stop();
    }
  });

  it('hubCacheRoot follows HF_HUB_CACHE, HF_HOME, then ~/.cache', () => {
    expect(hubCacheRoot({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
    expect(hubCacheRoot({ HF_HOME: '/b' })).toBe(join('/b', 'hub'));
    expect(hubCacheRoot({ XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'huggingface', 'hub'));
    expect(hubCacheRoot({})).toMatch(/\.cache[/\\]huggingface[/\\]hub$/);
  });

  it('the stand-in answers CORS preflights and exposes the headers a page reads', async () => {
    const pre = await fetch(`${server.endpoint}/test-org/tiny-gpt/resolve/main/config.json`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Range/);
    const res = await fetch(`${server.endpoint}/test-org/tiny-gpt/resolve/main/config.json`, { headers: { Range: 'bytes=10-19' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 10-19/${readFileSync(join(gptDir, 'config.json')).length}`);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/Content-Range.*ETag.*X-Repo-Commit/);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(readFileSync(join(gptDir, 'config.json')).subarray(10, 20));
  });
});

describe('a cached branch is checked against the Hub (Node cache)', () => {
  const REPO = 'test-org/moving';
  const id = parseHubId(`hf:${REPO}`);
  const v2Dir = writeGptFolder(join(tmp, 'src-gpt-v2'), 7); // other weights, the same config and tokenizer
  const NEW_SHA = 'b'.repeat(40);

  it('same commit: only the revision call, no file; pinned commit: no request at all', async () => {
    const root = freshCache();
    const s = await startHubServer({ models: { [REPO]: gptDir } });
    try {
      const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      const n = s.requests.length;
      const again = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      expect(again).toMatchObject({ key: first.key, downloadedBytes: 0, offline: false, notice: null });
      expect(s.requests.slice(n).map((r) => r.path)).toEqual([`/api/models/${REPO}/revision/main`]);
      // a commit hash cannot move: the cached snapshot without asking
      const m = s.requests.length;
      const pinned = await downloadModel(parseHubId(`hf:${REPO}@${first.key.commit}`), { storage: nodeHubStorage(root), endpoint: s.endpoint });
      expect(pinned).toMatchObject({ key: first.key, downloadedBytes: 0, offline: false, notice: null });
      expect(s.requests.length).toBe(m);
      // the Node cache never prunes: no refs/COMMIT beside huggingface_hub's refs/main
      expect(readdirSync(join(root, 'models--test-org--moving', 'refs'))).toEqual(['main']);
    } finally {
      await s.stop();
    }
  });

  it('a new commit: the changed file is fetched, the others copied, the ref moves, the old snapshot stays', async () => {
    const root = freshCache();
    const s = await startHubServer({ models: { [REPO]: gptDir } });
    try {
      const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      const oldDir = snapshotDir(root, first.key);
      // the branch moves on: new weights, a new commit
      s.options.models[REPO] = v2Dir;
      s.options.commits = { [`${REPO}@main`]: NEW_SHA };
      const n = s.requests.length;
      const next = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      expect(next.key.commit).toBe(NEW_SHA);
      expect(next.notice).toBeNull();
      expect(next.downloadedBytes).toBe(readFileSync(join(v2Dir, 'model.safetensors')).length);
      expect(s.requests.slice(n).map((r) => r.path)).toEqual([`/api/models/${REPO}/revision/main`, `/${REPO}/resolve/${NEW_SHA}/model.safetensors`]);
      const dir = snapshotDir(root, next.key);
      expect(readdirSync(dir).sort()).toEqual(readdirSync(oldDir).sort());
      for (const f of readdirSync(dir)) same(join(dir, f), join(v2Dir, f));
      // the unchanged files are hard links to the old snapshot's (no bytes copied), the new weights are not
      expect(statSync(join(dir, 'config.json')).ino).toBe(statSync(join(oldDir, 'config.json')).ino);
      expect(statSync(join(dir, 'model.safetensors')).ino).not.toBe(statSync(join(oldDir, 'model.safetensors')).ino);
      expect(JSON.parse(readFileSync(join(root, 'models--test-org--moving', '.prefplay', `${NEW_SHA}.json`), 'utf8')).endpoint).toBe(s.endpoint);
      expect(readFileSync(join(root, 'models--test-org--moving', 'refs', 'main'), 'utf8')).toBe(NEW_SHA);
      // the model read from the new snapshot has the new weights, not the old ones
      const loaded = await readCheckpointDir(dir);
      const v2 = await readCheckpointDir(v2Dir);
      const v1 = await readCheckpointDir(oldDir);
      expect(loaded.params.get('wte.weight')).toEqual(v2.params.get('wte.weight'));
      expect(loaded.params.get('wte.weight')).not.toEqual(v1.params.get('wte.weight'));
      // the old snapshot is kept, whole (huggingface_hub keeps old snapshots too)
      for (const f of readdirSync(oldDir)) same(join(oldDir, f), join(gptDir, f));
      // and the next use is the new one, with only the revision call
      const m = s.requests.length;
      expect(await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint })).toMatchObject({ key: next.key, downloadedBytes: 0, notice: null });
      expect(s.requests.length).toBe(m + 1);
    } finally {
      await s.stop();
    }
  });

  it('an update cancelled or broken off leaves the old snapshot in use; the next call finishes it', async () => {
    const root = freshCache();
    const s = await startHubServer({ models: { [REPO]: gptDir } });
    try {
      const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      s.options.models[REPO] = v2Dir;
      s.options.commits = { [`${REPO}@main`]: NEW_SHA };
      // cancelled mid-file: an 'aborted' error, the ref still at the old commit
      s.options.cut = { file: 'model.safetensors', afterBytes: 3000, times: 100 };
      const controller = new AbortController();
      const cancelled = failure(downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, signal: controller.signal, onProgress: (p) => p.file === 'model.safetensors' && p.fileDone > 0 && controller.abort() }));
      expect((await cancelled).kind).toBe('aborted');
      expect(readFileSync(join(root, 'models--test-org--moving', 'refs', 'main'), 'utf8')).toBe(first.key.commit);
      // broken off every time: the old snapshot, and a notice that says so
      const broken = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, retries: 0 });
      expect(broken).toMatchObject({ key: first.key, offline: false });
      expect(broken.notice).toMatch(new RegExp(`^could not download the newer revision of main \\(commit ${NEW_SHA.slice(0, 12)}\\): model\\.safetensors of hf:${REPO}: .*broke off`));
      expect(readFileSync(join(root, 'models--test-org--moving', 'refs', 'main'), 'utf8')).toBe(first.key.commit);
      s.options.cut = null;
      const done = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      expect(done).toMatchObject({ key: { repo: REPO, commit: NEW_SHA }, notice: null });
      same(join(snapshotDir(root, done.key), 'model.safetensors'), join(v2Dir, 'model.safetensors'));
    } finally {
      await s.stop();
    }
  });

  it('the Hub down, failing or silent: the cached snapshot, and a notice saying why', async () => {
    const root = freshCache();
    const s = await startHubServer({ models: { [REPO]: gptDir } });
    const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
    const endpoint = s.endpoint;
    await s.stop();
    const down = await downloadModel(id, { storage: nodeHubStorage(root), endpoint });
    expect(down).toMatchObject({ key: first.key, offline: true, downloadedBytes: 0, notice: `could not check ${endpoint} for a newer revision of main (ECONNREFUSED)` });
    // a 503 and an answer that never comes (the check's timeout), through a fetch of our own
    const calls: string[] = [];
    const failing: FetchLike = async (url) => {
      calls.push(url);
      return new Response('{"error":"down"}', { status: 503 });
    };
    expect(await downloadModel(id, { storage: nodeHubStorage(root), endpoint, fetch: failing })).toMatchObject({ key: first.key, offline: true, notice: `could not check ${endpoint} for a newer revision of main (HTTP 503)` });
    expect(calls).toEqual([`${endpoint}/api/models/${REPO}/revision/main?blobs=true`]);
    // answers nothing until its signal aborts (as fetch does, at once when it already has)
    const silent: FetchLike = (_url, init) =>
      new Promise((_res, rej) => {
        if (init?.signal?.aborted) return rej(init.signal.reason);
        init?.signal?.addEventListener('abort', () => rej(init.signal!.reason), { once: true });
      });
    const t0 = Date.now();
    expect(await downloadModel(id, { storage: nodeHubStorage(root), endpoint, fetch: silent, checkTimeoutMs: 200 })).toMatchObject({ key: first.key, offline: true, notice: `could not check ${endpoint} for a newer revision of main (no answer within 200 ms)` });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('cancelling while the revision call is in flight is a cancel, at once, not a notice', async () => {
    const root = freshCache();
    const s = await startHubServer({ models: { [REPO]: gptDir } });
    try {
      const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      // the stand-in holds the listing's answer back longer than the test waits
      s.options.apiDelayMs = 8000;
      const n = s.requests.length;
      const controller = new AbortController();
      const run = failure(downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, signal: controller.signal }));
      // the request has reached the server and is waiting for its answer
      await vi.waitFor(() => expect(s.requests.length).toBe(n + 1), { timeout: 5000, interval: 5 });
      expect(s.requests[n]).toMatchObject({ path: `/api/models/${REPO}/revision/main`, status: 0 });
      // the cancel answers at once, not when the server's answer (8 s) would have come
      const t0 = Date.now();
      controller.abort();
      const e = await run;
      expect(e.kind).toBe('aborted');
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(s.requests[n].status).toBe(0); // still unanswered: the cancel came mid-request
      expect(readFileSync(join(root, 'models--test-org--moving', 'refs', 'main'), 'utf8')).toBe(first.key.commit);
    } finally {
      await s.stop();
    }
  });

  it('only the endpoint a snapshot came from is asked about it', async () => {
    const root = freshCache();
    const s = await startHubServer({ models: { [REPO]: gptDir } });
    const other = await startHubServer({ models: { [REPO]: v2Dir }, commits: { [`${REPO}@main`]: NEW_SHA } });
    try {
      const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      const manifestPath = join(root, 'models--test-org--moving', '.prefplay', `${first.key.commit}.json`);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
      expect(manifest.endpoint).toBe(s.endpoint);
      // another endpoint (a crafted hub= link, another HF_ENDPOINT): told nothing, the cache as it is
      const elsewhere = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: `${other.endpoint}/` });
      expect(elsewhere).toMatchObject({ key: first.key, offline: true, notice: null, note: `not checked for a newer revision of main: it was downloaded from ${s.endpoint}` });
      expect(other.requests).toEqual([]);
      expect(readFileSync(join(root, 'models--test-org--moving', 'refs', 'main'), 'utf8')).toBe(first.key.commit);
      // a manifest written before endpoints were recorded: no server is asked about it (the page's default)
      delete manifest.endpoint;
      writeFileSync(manifestPath, JSON.stringify(manifest));
      const n = s.requests.length;
      const older = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      expect(older).toMatchObject({ key: first.key, offline: true, notice: null, note: 'not checked for a newer revision of main: the cache does not record which Hub it was downloaded from' });
      expect(s.requests.length).toBe(n);
      expect(JSON.parse(readFileSync(manifestPath, 'utf8')).endpoint).toBeUndefined();
      // the CLI (checkUnrecordedEndpoint): the endpoint in use is asked; its answer (the same
      // commit) makes it the manifest's endpoint, so another endpoint is no longer asked
      const checked = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, checkUnrecordedEndpoint: true });
      expect(checked).toMatchObject({ key: first.key, endpoint: s.endpoint, offline: false, notice: null, note: null, downloadedBytes: 0 });
      expect(s.requests.slice(n).map((r) => r.path)).toEqual([`/api/models/${REPO}/revision/main`]);
      expect(JSON.parse(readFileSync(manifestPath, 'utf8'))).toEqual({ ...manifest, endpoint: s.endpoint });
      expect(await downloadModel(id, { storage: nodeHubStorage(root), endpoint: other.endpoint, checkUnrecordedEndpoint: true })).toMatchObject({ key: first.key, note: `not checked for a newer revision of main: it was downloaded from ${s.endpoint}` });
      expect(other.requests).toEqual([]);
      // an unrecorded snapshot whose branch moved on there: the new snapshot is downloaded (with its endpoint)
      writeFileSync(manifestPath, JSON.stringify(manifest));
      s.options.models[REPO] = v2Dir;
      s.options.commits = { [`${REPO}@main`]: NEW_SHA };
      const moved = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, checkUnrecordedEndpoint: true });
      expect(moved).toMatchObject({ key: { repo: REPO, commit: NEW_SHA }, endpoint: s.endpoint, notice: null });
      expect(readFileSync(join(root, 'models--test-org--moving', 'refs', 'main'), 'utf8')).toBe(NEW_SHA);
      expect(JSON.parse(readFileSync(join(root, 'models--test-org--moving', '.prefplay', `${NEW_SHA}.json`), 'utf8')).endpoint).toBe(s.endpoint);
    } finally {
      await s.stop();
      await other.stop();
    }
  });

  it('a gated model without a token: the cache with a note, no warning; a refused token: a notice', async () => {
    const root = freshCache();
    const s = await startHubServer({ models: { [REPO]: gptDir }, token: 'hf_secret' });
    try {
      const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, token: 'hf_secret' });
      const n = s.requests.length;
      // a reload forgets the page's token: the check answers 401, which is no fault
      const noToken = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      expect(noToken).toMatchObject({ key: first.key, offline: true, notice: null, note: `not checked for a newer revision of main: without an access token ${s.endpoint} answers HTTP 401 (a gated or private model)` });
      expect(s.requests.slice(n).map((r) => [r.path, r.status])).toEqual([[`/api/models/${REPO}/revision/main`, 401]]);
      // a token the Hub refuses is worth a warning
      const refused = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, token: 'hf_other' });
      expect(refused).toMatchObject({ key: first.key, offline: true, note: null, notice: `could not check ${s.endpoint} for a newer revision of main (HTTP 403: the access token was refused)` });
      expect(await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint, token: 'hf_secret' })).toMatchObject({ key: first.key, offline: false, notice: null, note: null });
    } finally {
      await s.stop();
    }
  });

  it('an update that fails for any other reason (a full disk, a quota) leaves the cached snapshot in use, with a notice', async () => {
    const s = await startHubServer({ models: { [REPO]: gptDir } });
    try {
      // the Node cache, whose hard link / copy of an unchanged file fails
      const root = freshCache();
      const first = await downloadModel(id, { storage: nodeHubStorage(root), endpoint: s.endpoint });
      s.options.models[REPO] = v2Dir;
      s.options.commits = { [`${REPO}@main`]: NEW_SHA };
      const full = {
        ...nodeHubStorage(root),
        copyFile: async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device, copyfile'), { code: 'ENOSPC' });
        },
      };
      const disk = await downloadModel(id, { storage: full, endpoint: s.endpoint });
      expect(disk).toMatchObject({ key: first.key, offline: false, notice: `could not download the newer revision of main (commit ${NEW_SHA.slice(0, 12)}): ENOSPC: no space left on device, copyfile` });
      expect(readFileSync(join(root, 'models--test-org--moving', 'refs', 'main'), 'utf8')).toBe(first.key.commit);
      // a storage whose writes fail with a DOMException (a browser's QuotaExceededError, not a HubError)
      s.options.models[REPO] = gptDir;
      s.options.commits = {};
      const mem = memoryHubStorage();
      const cached = await downloadModel(id, { storage: mem, endpoint: s.endpoint });
      s.options.models[REPO] = v2Dir;
      s.options.commits = { [`${REPO}@main`]: NEW_SHA };
      const quota: typeof mem = {
        ...mem,
        openPartial: async () => ({
          write: async () => {
            throw new DOMException('The operation failed because it would cause the application to exceed its storage quota.', 'QuotaExceededError');
          },
          close: async () => {},
        }),
      };
      const q = await downloadModel(id, { storage: quota, endpoint: s.endpoint, retries: 0 });
      expect(q).toMatchObject({ key: cached.key, offline: false });
      expect(q.notice).toMatch(new RegExp(`^could not download the newer revision of main \\(commit ${NEW_SHA.slice(0, 12)}\\): model\\.safetensors of hf:${REPO}: .*exceed its storage quota`));
      expect(await mem.getRef(REPO, 'main')).toBe(cached.key.commit);
    } finally {
      await s.stop();
    }
  });
});
