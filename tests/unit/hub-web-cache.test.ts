// The page's Hub cache (src/hub/cache-web.ts) over an in-memory OPFS (tests/helpers/fake-opfs.ts),
// and the engine worker's Hub loads (src/worker/hub.ts), against the local Hub stand-in: a sharded
// model byte for byte through sync access handles and through createWritable, the cache listing
// with sizes, an interrupted download continued with a Range request on the next try, cancel,
// delete, a full quota (QuotaExceededError, and Chromium's short sync write) turned into a message
// naming the model, its size and the way out, 404 and 401 as HubError:KIND, and a cached model
// loading with one revision call only: a moved branch downloaded (changed files only, the others
// copied chunk by chunk, the old snapshot deleted once no ref names it); a reload (cacheOnly) asks nothing;
// the Hub down or the update failing (a full quota), the cached model with a notice; cancelled
// mid-copy, a cancel (the partial copy dropped, as after a full quota); a commit hash, no request
// at all, and its snapshot kept when a branch at that commit moves on; a manifest without its
// endpoint never checked by the page. Never the real Hub.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { writeGptFolder, writeShardedLlamaFolder } from '../helpers/hub-models';
import { readLlamaCheckpointDir } from '../../src/model/llama-checkpoint-node';
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

  it('copies a file between snapshots in chunks, and stops when cancelled', async () => {
    const storage = storageOf(fakeOpfs({ sync: true }));
    const from = { repo: LLAMA, commit: 'a'.repeat(40) };
    const to = { repo: LLAMA, commit: 'b'.repeat(40) };
    const bytes = new Uint8Array((16 << 20) + 5).map((_, i) => (i * 7) & 255); // two chunks and a bit
    const w = await storage.openPartial(from, 'model.safetensors', false);
    await w.write(bytes);
    await w.close();
    await storage.completePartial(from, 'model.safetensors');
    // count the writes of the copy; abort after the first when asked to
    const writes: number[] = [];
    let stopAfterOne: AbortController | null = null;
    const open = storage.openPartial.bind(storage);
    vi.spyOn(storage, 'openPartial').mockImplementation(async (key, path, append) => {
      const inner = await open(key, path, append);
      return {
        write: async (chunk) => {
          writes.push(chunk.length);
          await inner.write(chunk);
          stopAfterOne?.abort();
        },
        close: () => inner.close(),
      };
    });
    expect(await storage.copyFile(from, to, 'model.safetensors')).toBe(bytes.length);
    expect(writes).toEqual([8 << 20, 8 << 20, 5]);
    expect(Buffer.compare(Buffer.from((await storage.readFile(to, 'model.safetensors'))!), Buffer.from(bytes))).toBe(0);
    expect(await storage.copyFile(from, to, 'absent.json')).toBeNull();
    // cancelled after the first chunk: an AbortError, no complete file, the source untouched
    writes.length = 0;
    const to2 = { repo: LLAMA, commit: 'c'.repeat(40) };
    stopAfterOne = new AbortController();
    await expect(storage.copyFile(from, to2, 'model.safetensors', stopAfterOne.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(writes).toEqual([8 << 20]);
    expect(await storage.fileSize(to2, 'model.safetensors')).toBeNull();
    expect(await storage.fileSize(from, 'model.safetensors')).toBe(bytes.length);
    // the partial copy is dropped with its commit's folder: the cache lists no incomplete snapshot
    expect(await storage.partialSize(to2, 'model.safetensors')).toBe(0);
    expect((await storage.list())[0].snapshots.map((x) => x.commit)).toEqual([from.commit, to.commit]);
  });

  for (const sync of [true, false]) {
    it(`a copy that fills the quota leaves nothing of the new snapshot (${sync ? 'a short sync write' : 'QuotaExceededError'})`, async () => {
      const fs = fakeOpfs({ sync });
      const storage = storageOf(fs);
      const from = { repo: LLAMA, commit: 'a'.repeat(40) };
      const to = { repo: LLAMA, commit: 'b'.repeat(40) };
      const bytes = new Uint8Array((8 << 20) + 5).map((_, i) => (i * 3) & 255);
      const w = await storage.openPartial(from, 'model.safetensors', false);
      await w.write(bytes);
      await w.close();
      await storage.completePartial(from, 'model.safetensors');
      // room for the first chunk of the copy, not the second
      fs.quota = fs.used() + (8 << 20) + 1;
      const e = await rejection(storage.copyFile(from, to, 'model.safetensors'));
      expect(e).toBeInstanceOf(HubError);
      expect((e as HubError).kind).toBe('quota');
      expect(await storage.partialSize(to, 'model.safetensors')).toBe(0);
      expect(await storage.fileSize(to, 'model.safetensors')).toBeNull();
      expect((await storage.list())[0].snapshots.map((x) => x.commit)).toEqual([from.commit]);
      expect(fs.used()).toBe(bytes.length);
      // another partial download of that commit keeps its folder (only an empty one goes)
      const other = await storage.openPartial(to, 'model-2.safetensors', false);
      await other.write(new Uint8Array(10));
      await other.close();
      await rejection(storage.copyFile(from, to, 'model.safetensors'));
      expect(await storage.partialSize(to, 'model-2.safetensors')).toBe(10);
      expect((await storage.list())[0].snapshots.map((x) => [x.commit, x.partialBytes])).toEqual([[from.commit, 0], [to.commit, 10]]);
    });
  }

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
    // from the cache: a reload asks nothing; Load asks only for the revision's commit (the same one), no file
    const before = server.requests.length;
    expect((await loads.load(src(`hf:${LLAMA}`, { cacheOnly: true }), null)).info.cacheNotice).toBeUndefined();
    expect(server.requests.length).toBe(before);
    expect((await loads.load(src(LLAMA), null)).info.cacheNotice).toBeUndefined();
    expect(server.requests.slice(before).map((r) => r.path)).toEqual([`/api/models/${LLAMA}/revision/main`]);
    expect((await loads.remove(LLAMA)).models).toEqual([]);
    const e = await rejection(loads.load(src(LLAMA, { cacheOnly: true }), null));
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

  describe('a cached branch is checked against the Hub', () => {
    const REPO = 'test-org/moving-llama';
    const v2Dir = writeShardedLlamaFolder(join(tmp, 'src-llama-v2'), 5); // new weights, the same config, index and tokenizer
    const NEW_SHA = 'd'.repeat(40);
    const changed = llamaFiles.filter((f) => Buffer.compare(readFileSync(join(llamaDir, f)), readFileSync(join(v2Dir, f))) !== 0);
    const fileRequests = (s: HubServer, from: number) => s.requests.slice(from).filter((r) => r.path.includes('/resolve/'));

    it('same commit: only the revision call; a commit hash: no request', async () => {
      const s = await startHubServer({ models: { [REPO]: llamaDir } });
      try {
        const { loads } = setup();
        await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        const n = s.requests.length;
        const { info } = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        expect(info).toMatchObject({ name: REPO, family: 'llama' });
        expect(info.cacheNotice).toBeUndefined();
        expect(s.requests.slice(n).map((r) => r.path)).toEqual([`/api/models/${REPO}/revision/main`]);
        const pinned = await loads.load({ kind: 'hub', id: `${REPO}@${s.commitOf(REPO)}`, endpoint: s.endpoint, cacheOnly: true }, null);
        expect(pinned.info.cacheNotice).toBeUndefined();
        expect(s.requests.length).toBe(n + 1);
      } finally {
        await s.stop();
      }
    });

    it('a new commit: its changed files are fetched and loaded, the ref moves; a reload asks nothing', async () => {
      const s = await startHubServer({ models: { [REPO]: llamaDir } });
      try {
        const { loads } = setup();
        const storage = loads.storage();
        await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        const oldCommit = s.commitOf(REPO);
        s.options.models[REPO] = v2Dir;
        s.options.commits = { [`${REPO}@main`]: NEW_SHA };
        expect(changed.length).toBeGreaterThan(1); // the shards
        expect(changed.length).toBeLessThan(llamaFiles.length);
        // a reload (cacheOnly): the old snapshot, and no request at all (SPEC §3.2)
        let n = s.requests.length;
        const restored = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint, cacheOnly: true }, null);
        expect(restored.info.cacheNotice).toBeUndefined();
        expect(s.requests.length).toBe(n);
        expect(await storage.getRef(REPO, 'main')).toBe(oldCommit);
        // a load: the changed files only, from the new commit; the others are copied, not read whole
        n = s.requests.length;
        const readFile = vi.spyOn(storage, 'readFile');
        const { ckpt, info } = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        expect(readFile.mock.calls.filter(([key]) => key.commit === oldCommit)).toEqual([]);
        readFile.mockRestore();
        expect(info.cacheNotice).toBeUndefined();
        expect(fileRequests(s, n).map((r) => r.path).sort()).toEqual(changed.map((f) => `/${REPO}/resolve/${NEW_SHA}/${f}`).sort());
        expect(await storage.getRef(REPO, 'main')).toBe(NEW_SHA);
        const key = { repo: REPO, commit: NEW_SHA };
        for (const f of llamaFiles) expect(Buffer.compare(Buffer.from((await storage.readFile(key, f))!), readFileSync(join(v2Dir, f)))).toBe(0);
        // the weights loaded are the new ones
        const v2 = await readLlamaCheckpointDir(v2Dir);
        const v1 = await readLlamaCheckpointDir(llamaDir);
        const name = [...v2.params.keys()][0];
        expect(ckpt.params.get(name)).toEqual(v2.params.get(name));
        expect(ckpt.params.get(name)).not.toEqual(v1.params.get(name));
        // the old snapshot is gone (no ref names it): the model is not twice in the browser's storage
        const [m] = await storage.list();
        expect(m.snapshots.map((x) => [x.commit, x.revisions, x.complete])).toEqual([[NEW_SHA, ['main'], true]]);
        expect(m.bytes).toBe(llamaFiles.reduce((a, f) => a + readFileSync(join(v2Dir, f)).length, 0));
        expect(await storage.getManifest({ repo: REPO, commit: oldCommit })).toBeNull();
      } finally {
        await s.stop();
      }
    });

    it('an old snapshot another ref still names stays (OPFS and memory)', async () => {
      for (const storage of [storageOf(fakeOpfs({ sync: true })), memoryWebHubStorage()]) {
        const s = await startHubServer({ models: { [REPO]: llamaDir } });
        try {
          const id = parseHubId(`hf:${REPO}`);
          const first = await downloadModel(id, { storage, endpoint: s.endpoint });
          await storage.setRef(REPO, 'v1', first.key.commit); // a tag at the same commit
          s.options.models[REPO] = v2Dir;
          s.options.commits = { [`${REPO}@main`]: NEW_SHA };
          expect((await downloadModel(id, { storage, endpoint: s.endpoint })).key.commit).toBe(NEW_SHA);
          expect(await cachedSnapshot(parseHubId(`hf:${REPO}@v1`), storage)).toMatchObject({ key: first.key });
          expect((await storage.list())[0].snapshots.map((x) => [x.commit, x.complete])).toEqual(
            [[first.key.commit, true], [NEW_SHA, true]].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
          );
          // once v1 moves too, the old snapshot goes with the next update of it
          await storage.setRef(REPO, 'v1', NEW_SHA);
          expect(await storage.pruneSnapshot!(first.key)).toBe(true);
          expect(await cachedSnapshot(parseHubId(`hf:${REPO}@${first.key.commit}`), storage)).toBeNull();
          expect((await storage.list())[0].snapshots.map((x) => x.commit)).toEqual([NEW_SHA]);
        } finally {
          await s.stop();
        }
      }
    });

    it('a model pinned at a commit keeps its snapshot when a branch at that commit moves on (OPFS and memory)', async () => {
      for (const pinnedFirst of [true, false]) {
        for (const storage of [storageOf(fakeOpfs({ sync: true })), memoryWebHubStorage()]) {
          const s = await startHubServer({ models: { [REPO]: llamaDir } });
          try {
            const old = s.commitOf(REPO);
            const pinned = parseHubId(`hf:${REPO}@${old}`);
            const main = parseHubId(`hf:${REPO}`);
            // the pinned model downloaded first, or found in the cache the branch's download filled
            // (a cache from before pinned models had a ref: the use writes it)
            if (pinnedFirst) expect((await downloadModel(pinned, { storage, endpoint: s.endpoint })).key.commit).toBe(old);
            expect((await downloadModel(main, { storage, endpoint: s.endpoint })).key.commit).toBe(old);
            if (!pinnedFirst) {
              const n = s.requests.length;
              expect((await downloadModel(pinned, { storage, endpoint: s.endpoint, offline: true })).key.commit).toBe(old);
              expect(s.requests.length).toBe(n);
            }
            expect(await storage.getRef(REPO, old)).toBe(old);
            s.options.models[REPO] = v2Dir;
            s.options.commits = { [`${REPO}@main`]: NEW_SHA };
            expect((await downloadModel(main, { storage, endpoint: s.endpoint })).key.commit).toBe(NEW_SHA);
            // both snapshots stay, and the pinned model loads from its own without a request
            expect(await cachedSnapshot(pinned, storage)).toMatchObject({ key: { repo: REPO, commit: old } });
            const n = s.requests.length;
            expect(await downloadModel(pinned, { storage, endpoint: s.endpoint })).toMatchObject({ key: { repo: REPO, commit: old }, downloadedBytes: 0 });
            expect(s.requests.length).toBe(n);
            const snaps = (await storage.list())[0].snapshots;
            expect(Object.fromEntries(snaps.map((x) => [x.commit, [x.complete, x.revisions]]))).toEqual({ [old]: [true, [old]], [NEW_SHA]: [true, ['main']] });
          } finally {
            await s.stop();
          }
        }
      }
    });

    it('a snapshot cached before its endpoint was recorded is not checked by the page; ModelInfo names the commit', async () => {
      const s = await startHubServer({ models: { [REPO]: llamaDir } });
      try {
        const { loads } = setup();
        const storage = loads.storage();
        const first = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        const commit = s.commitOf(REPO);
        expect(first.info.commit).toBe(commit);
        const key = { repo: REPO, commit };
        const { endpoint: _e, ...older } = (await storage.getManifest(key))!;
        await storage.setManifest(key, older);
        s.options.models[REPO] = v2Dir;
        s.options.commits = { [`${REPO}@main`]: NEW_SHA };
        const n = s.requests.length;
        const { info } = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        expect(s.requests.length).toBe(n);
        expect(info.commit).toBe(commit);
        expect(info.cacheNote).toBe(`From the browser’s cache (commit ${commit.slice(0, 12)}); not checked for a newer revision of main: the cache does not record which Hub it was downloaded from.`);
        expect((await storage.getManifest(key))!.endpoint).toBeUndefined();
      } finally {
        await s.stop();
      }
    });

    it('a full quota or a cancel during the update: the cached model stays in use', async () => {
      const s = await startHubServer({ models: { [REPO]: llamaDir } });
      try {
        const v2Bytes = llamaFiles.reduce((a, f) => a + readFileSync(join(v2Dir, f)).length, 0);
        // room for the first snapshot and a little more, not for a second one
        const { loads } = setup({ quota: llamaBytes + Math.floor(v2Bytes / 2) });
        const storage = loads.storage();
        await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        const oldCommit = s.commitOf(REPO);
        s.options.models[REPO] = v2Dir;
        s.options.commits = { [`${REPO}@main`]: NEW_SHA };
        const { info } = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        expect(info).toMatchObject({ name: REPO, family: 'llama' });
        expect(info.cacheNotice).toMatch(new RegExp(`^From the browser’s cache \\(commit ${oldCommit.slice(0, 12)}\\); could not download the newer revision of main \\(commit ${NEW_SHA.slice(0, 12)}\\): .*the browser's storage for this page is full`));
        expect(info.cacheNotice).not.toMatch(/\.\.$/);
        expect(await storage.getRef(REPO, 'main')).toBe(oldCommit);
        // cancelled once the unchanged files are being copied: a cancel, the cached snapshot still in use
        const big = setup();
        await big.loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        s.options.models[REPO] = llamaDir;
        s.options.commits = { [`${REPO}@main`]: oldCommit };
        // big's cache holds NEW_SHA; the branch goes back to the first commit, which shares config.json
        const copied = vi.spyOn(big.loads.storage(), 'copyFile');
        const run = big.loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
        await vi.waitFor(() => expect(copied).toHaveBeenCalled(), { timeout: 10_000, interval: 1 });
        await big.loads.cancel();
        expect(hubErrorKind(await rejection(run))).toBe('aborted');
        expect(await big.loads.storage().getRef(REPO, 'main')).toBe(NEW_SHA);
        expect(await cachedSnapshot(parseHubId(`hf:${REPO}`), big.loads.storage())).toMatchObject({ key: { repo: REPO, commit: NEW_SHA } });
      } finally {
        await s.stop();
      }
    });

    it('the Hub down: the cached model loads, with a notice saying why', async () => {
      const s = await startHubServer({ models: { [REPO]: llamaDir } });
      const { loads } = setup();
      await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint }, null);
      await s.stop();
      // the same endpoint (the only one asked about this snapshot), nothing listening there now
      // a reload: the cache, asking nothing, so nothing to say
      const reloaded = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint, cacheOnly: true }, null);
      expect([reloaded.info.cacheNotice, reloaded.info.cacheNote]).toEqual([undefined, undefined]);
      for (const cacheOnly of [false]) {
        const { info } = await loads.load({ kind: 'hub', id: REPO, endpoint: s.endpoint, cacheOnly }, null);
        expect(info).toMatchObject({ name: REPO, family: 'llama' });
        // (refused, or the socket Node's fetch had kept open to it found closed)
        expect(info.cacheNotice).toMatch(new RegExp(`^From the browser’s cache \\(commit ${s.commitOf(REPO).slice(0, 12)}\\); could not check ${s.endpoint.replace(/[.:/]/g, '\\$&')} for a newer revision of main \\((ECONNREFUSED|UND_ERR_SOCKET)\\)\\.$`));
        expect(info.cacheNote).toBeUndefined();
      }
      // a hub= link to another host: not asked, a muted note
      const dead = await startHubServer({ models: {} });
      await dead.stop();
      const { info } = await loads.load({ kind: 'hub', id: REPO, endpoint: dead.endpoint }, null);
      expect(info.cacheNotice).toBeUndefined();
      expect(info.cacheNote).toBe(`From the browser’s cache (commit ${s.commitOf(REPO).slice(0, 12)}); not checked for a newer revision of main: it was downloaded from ${s.endpoint}.`);
    });
  });
});
