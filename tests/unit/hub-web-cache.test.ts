// The page's Hub cache (src/hub/cache-web.ts) over an in-memory OPFS (tests/helpers/fake-opfs.ts),
// and the engine worker's Hub loads (src/worker/hub.ts), against the local Hub stand-in: a sharded
// model byte for byte through sync access handles and through createWritable, the cache listing
// with sizes, an interrupted download continued with a Range request on the next try, cancel,
// delete, a full quota (QuotaExceededError, and Chromium's short sync write) turned into a message
// naming the model, its size and the way out, 404 and 401 as HubError:KIND, and a cached model
// loading with no request at all. Never the real Hub.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { writeGptFolder, writeShardedLlamaFolder } from '../helpers/hub-models';
import { fakeOpfs } from '../helpers/fake-opfs';
import { cachedSnapshot, downloadModel, formatBytes, HubError, parseHubId } from '../../src/hub/index';
import { cacheTotals, isQuotaError, memoryWebHubStorage, opfsHubStorage, quotaMessage } from '../../src/hub/cache-web';
import { HubLoads } from '../../src/worker/hub';
import { hubErrorKind, type EngineEvent } from '../../src/worker/protocol';

const tmp = mkdtempSync(join(tmpdir(), 'prefplay-hub-web-'));
const llamaDir = writeShardedLlamaFolder(join(tmp, 'src-llama'));
const gptDir = writeGptFolder(join(tmp, 'src-gpt'));
const shards = readdirSync(llamaDir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f));
const llamaFiles = readdirSync(llamaDir).filter((f) => f !== 'README.md' && f !== '.gitattributes');
const llamaBytes = llamaFiles.reduce((a, f) => a + readFileSync(join(llamaDir, f)).length, 0);
const LLAMA = 'test-org/tiny-llama';
let server: HubServer;

beforeAll(async () => {
  server = await startHubServer({ models: { [LLAMA]: llamaDir, 'test-org/tiny-gpt': gptDir } });
});
afterAll(() => server.stop());

const storageOf = (fs: ReturnType<typeof fakeOpfs>) => opfsHubStorage(async () => fs.root);

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('the Hub cache in OPFS', () => {
  for (const sync of [true, false]) {
    it(`holds a sharded model byte for byte and lists it with its size (${sync ? 'sync access handles' : 'createWritable'})`, async () => {
      const fs = fakeOpfs({ sync });
      const storage = storageOf(fs);
      const id = parseHubId(`hf:${LLAMA}`);
      const snap = await downloadModel(id, { storage, endpoint: server.endpoint });
      expect(snap.files.map((f) => f.path).sort()).toEqual([...llamaFiles].sort());
      for (const f of llamaFiles) expect(Buffer.compare(Buffer.from((await storage.readFile(snap.key, f))!), readFileSync(join(llamaDir, f)))).toBe(0);
      expect(await storage.getRef(LLAMA, 'main')).toBe(server.commitOf(LLAMA));
      const [m, ...rest] = await storage.list();
      expect(rest).toEqual([]);
      expect(m).toMatchObject({ repo: LLAMA, bytes: llamaBytes, complete: true });
      expect(m.snapshots).toEqual([expect.objectContaining({ commit: server.commitOf(LLAMA), revisions: ['main'], complete: true, files: llamaFiles.length, partialBytes: 0, totalBytes: llamaBytes })]);
      expect(fs.used()).toBeGreaterThan(llamaBytes); // plus the ref and the manifest
      // a second use: from the cache, without the server
      const before = server.requests.length;
      expect(await cachedSnapshot(id, storage)).toMatchObject({ key: snap.key, downloadedBytes: 0 });
      expect(server.requests.length).toBe(before);
      // delete
      expect(await storage.remove(LLAMA)).toBe(true);
      expect(await storage.list()).toEqual([]);
      expect(await cachedSnapshot(id, storage)).toBeNull();
      expect(await storage.remove(LLAMA)).toBe(false);
    });
  }

  it('keeps an interrupted download and continues it with a Range request on the next try', async () => {
    const storage = storageOf(fakeOpfs({ sync: true }));
    const shard = shards[1];
    server.options.cut = { file: shard, afterBytes: 5000, times: 1 };
    const e = await rejection(downloadModel(parseHubId(`hf:${LLAMA}`), { storage, endpoint: server.endpoint, retries: 0 }));
    expect((e as HubError).kind).toBe('network');
    const [m] = await storage.list();
    expect(m).toMatchObject({ repo: LLAMA, complete: false });
    expect(m.snapshots[0].partialBytes).toBe(5000);
    const n = server.fileRequests(shard).length;
    const offsets: number[] = [];
    await downloadModel(parseHubId(`hf:${LLAMA}`), { storage, endpoint: server.endpoint, onResume: (_f, o) => offsets.push(o) });
    expect(offsets).toEqual([5000]);
    expect(server.fileRequests(shard).slice(n).map((r) => r.range)).toEqual(['bytes=5000-']);
    const key = { repo: LLAMA, commit: server.commitOf(LLAMA) };
    expect(Buffer.compare(Buffer.from((await storage.readFile(key, shard))!), readFileSync(join(llamaDir, shard)))).toBe(0);
    expect((await storage.list())[0]).toMatchObject({ complete: true, bytes: llamaBytes });
  });

  for (const sync of [true, false]) {
    it(`turns a full quota into a 'quota' HubError and drops the partial file (${sync ? 'a short sync write' : 'QuotaExceededError'})`, async () => {
      const fs = fakeOpfs({ sync, quota: 60_000 });
      const storage = storageOf(fs);
      const e = await rejection(downloadModel(parseHubId(`hf:${LLAMA}`), { storage, endpoint: server.endpoint }));
      expect(e).toBeInstanceOf(HubError);
      expect((e as HubError).kind).toBe('quota');
      expect(e.message).toMatch(/storage for this page is full/);
      const [m] = await storage.list();
      expect(m.snapshots[0].partialBytes).toBe(0);
      expect(m.complete).toBe(false);
    });
  }

  it('says which model, how large, and what to delete', () => {
    expect(isQuotaError(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError(new Error('other'))).toBe(false);
    const msg = quotaMessage('HuggingFaceTB/SmolLM2-135M-Instruct', 269_060_552, { count: 2, bytes: 1.2e9 });
    expect(msg).toBe(
      'Not enough browser storage to download HuggingFaceTB/SmolLM2-135M-Instruct (269 MB): the browser refused to store more for this page (storage quota reached). Cached models take 1.20 GB (2 models): delete those you no longer need under “Cached models”, or free disk space, then press Download again.',
    );
    expect(quotaMessage('a/b', null, { count: 0, bytes: 0 })).toMatch(/^Not enough browser storage to download a\/b: .*Free disk space/);
    expect(cacheTotals([])).toEqual({ count: 0, bytes: 0 });
  });

  it('without OPFS, memory storage lists and deletes the same way', async () => {
    const storage = memoryWebHubStorage();
    await downloadModel(parseHubId('hf:test-org/tiny-gpt'), { storage, endpoint: server.endpoint });
    const [m] = await storage.list();
    expect(m).toMatchObject({ repo: 'test-org/tiny-gpt', complete: true, snapshots: [expect.objectContaining({ revisions: ['main'] })] });
    expect(await storage.remove('test-org/tiny-gpt')).toBe(true);
    expect(await storage.list()).toEqual([]);
  });
});

describe("the engine worker's Hub loads", () => {
  const setup = (opts: { quota?: number } = {}) => {
    const events: EngineEvent[] = [];
    const fs = fakeOpfs({ sync: true, ...opts });
    return { events, fs, loads: new HubLoads((ev) => events.push(ev), storageOf(fs)) };
  };
  const src = (id: string, extra: Record<string, unknown> = {}) => ({ kind: 'hub' as const, id, endpoint: server.endpoint, ...extra });

  it('downloads with progress events, then loads from the cache with no request', async () => {
    const { events, loads } = setup();
    const { info } = await loads.load(src(LLAMA), null);
    expect(info).toMatchObject({ kind: 'hub', name: LLAMA, family: 'llama' });
    const downloads = events.filter((e) => e.type === 'download');
    expect(downloads.at(-1)).toMatchObject({ id: LLAMA, phase: 'loading' });
    const last = downloads.filter((e) => e.phase === 'downloading').at(-1)!;
    expect(last.progress).toMatchObject({ done: llamaBytes, total: llamaBytes });
    const view = await loads.cache();
    expect(view).toMatchObject({ persistent: false, usage: null, quota: null, models: [expect.objectContaining({ repo: LLAMA, bytes: llamaBytes, complete: true })] });
    const before = server.requests.length;
    await loads.load(src(`hf:${LLAMA}`, { offline: true }), null);
    await loads.load(src(LLAMA), null);
    expect(server.requests.length).toBe(before);
    expect((await loads.remove(LLAMA)).models).toEqual([]);
    const e = await rejection(loads.load(src(LLAMA, { offline: true }), null));
    expect(hubErrorKind(e)).toBe('offline');
    expect(e.message).toMatch(/not in this browser’s cache/);
  });

  it('cancels a download; the next one continues it with a Range request', async () => {
    const { events, loads } = setup();
    const shard = shards[0];
    server.options.cut = { file: shard, afterBytes: 3000, times: 100 };
    const run = loads.load(src(LLAMA), null);
    await vi.waitFor(() => expect(events.some((e) => e.type === 'download' && e.progress?.file === shard && e.progress.fileDone > 0), 'some bytes of the shard arrived').toBe(true), { timeout: 30_000, interval: 10 });
    await loads.cancel();
    const e = await rejection(run);
    expect(hubErrorKind(e)).toBe('aborted');
    server.options.cut = null;
    const kept = (await loads.cache()).models[0].snapshots[0].partialBytes;
    expect(kept).toBeGreaterThan(0);
    const n = server.fileRequests(shard).length;
    await loads.load(src(LLAMA), null);
    expect(server.fileRequests(shard).slice(n).map((r) => r.range)).toEqual([`bytes=${kept}-`]);
    expect(events.filter((e) => e.type === 'download').at(-2)).toMatchObject({ resumedFrom: kept });
  });

  it('names 404, 401/403 and a bad id by kind', async () => {
    const { loads } = setup();
    let e = await rejection(loads.load(src('test-org/nope'), null));
    expect(hubErrorKind(e)).toBe('not-found');
    expect(e.message).toMatch(/no model test-org\/nope/);
    e = await rejection(loads.load(src('not an id'), null));
    expect(hubErrorKind(e)).toBe('id');
    server.options.token = 'hf_secret';
    try {
      e = await rejection(loads.load(src('test-org/tiny-gpt'), null));
      expect(hubErrorKind(e)).toBe('auth');
      expect(e.message).toMatch(/“Access token” field/);
      e = await rejection(loads.load(src('test-org/tiny-gpt', { token: 'hf_wrong' }), null));
      expect([hubErrorKind(e), e.message]).toEqual(['auth', expect.stringMatching(/HTTP 403/)]);
      const { info } = await loads.load(src('test-org/tiny-gpt', { token: 'hf_secret' }), null);
      expect(info.family).toBe('gpt2');
      expect(server.requests.at(-1)?.authorization).toBe('Bearer hf_secret');
    } finally {
      server.options.token = null;
    }
  });

  it('a full quota: the message names the model, its size and the cached models', async () => {
    const { loads } = setup({ quota: 200_000 });
    await loads.load(src('test-org/tiny-gpt'), null);
    const e = await rejection(loads.load(src(LLAMA), null));
    expect(hubErrorKind(e)).toBe('quota');
    expect(e.message).toMatch(new RegExp(`^Not enough browser storage to download ${LLAMA} \\(${formatBytes(llamaBytes)}\\): .*Cached models take .* \\(2 models\\): delete`));
  });
});
