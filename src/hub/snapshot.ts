// A whole model from the Hub into a HubStorage: resolve the revision to a commit and list the
// repository's files (GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true), pick the
// files a model folder needs (./files.ts), fetch each from {endpoint}/{repo}/resolve/{commit}/{file}
// (./download.ts), then record the snapshot's manifest and the revision's commit. A snapshot
// already complete in the storage is used as it is, and without the server when it cannot be
// reached or `offline` is set.
//
// Why plain fetch and not @huggingface/hub: its downloadFile hands back a whole Blob (no progress
// callback, no continuation of a partial file kept in our storage) and recent versions fetch
// Xet-backed files through Hugging Face's Xet servers, which a local stand-in cannot serve; the
// two plain URLs above are the Hub's documented, stable interface and are all this needs.
import { DEFAULT_TOKEN_HINT, fetchFailure, HubError, httpError, type ErrorContext } from './errors';
import { downloadFile, type FetchLike } from './download';
import { CONFIG_FILE, OPTIONAL_FILES, selectFiles, shardsOf, WEIGHTS_FILE, WEIGHTS_INDEX_FILE, type HubFile } from './files';
import { formatHubId, isCommitHash, type HubModelId } from './id';
import type { HubStorage, SnapshotKey, SnapshotManifest } from './storage';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface DownloadProgress {
  /** The file being fetched now. */
  file: string;
  fileDone: number;
  fileTotal: number | null;
  /** Bytes held of the whole snapshot (files already there included), and its size when known. */
  done: number;
  total: number | null;
  /** 1-based position of `file` among `fileCount` files (the count grows once a shard index is read). */
  fileIndex: number;
  fileCount: number;
  /** Download speed over the last few seconds. */
  bytesPerSecond: number;
}

export interface HubOptions {
  storage: HubStorage;
  /** Default https://huggingface.co (the CLI passes HF_ENDPOINT). */
  endpoint?: string;
  /** An access token, sent as `Authorization: Bearer` to the endpoint. */
  token?: string | null;
  /** How a user passes a token here; ends the message of a 401/403. */
  tokenHint?: string;
  fetch?: FetchLike;
  signal?: AbortSignal;
  /** Never contact the endpoint: a complete cached snapshot, or an 'offline' error. */
  offline?: boolean;
  /** Further tries per file after an interruption (each continues with a Range request). Default 3. */
  retries?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** Told of every request that continues a partial file (tests, logs). */
  onResume?: (file: string, offset: number) => void;
}

export interface HubSnapshot {
  id: HubModelId;
  key: SnapshotKey;
  files: Array<{ path: string; size: number }>;
  /** Bytes fetched by this call (0: everything came from the storage). */
  downloadedBytes: number;
  /** The server was not asked (offline mode) or could not be reached: the cached snapshot was used. */
  offline: boolean;
}

/** The endpoint without trailing slashes; a malformed one is refused. */
export function normalizeEndpoint(endpoint: string | undefined): string {
  const e = (endpoint || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  let u: URL;
  try {
    u = new URL(e);
  } catch {
    throw new HubError('http', `the Hub endpoint "${endpoint}" is not a URL (expected e.g. https://huggingface.co)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HubError('http', `the Hub endpoint "${endpoint}" must be an http(s) URL`);
  return e;
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

/** `{endpoint}/{repo}/resolve/{revision}/{file}`: a file's download URL. */
export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  return `${normalizeEndpoint(endpoint)}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}

/** `{endpoint}/api/models/{repo}/revision/{revision}?blobs=true`: the commit and the file list with sizes. */
export function modelInfoUrl(endpoint: string, repo: string, revision: string): string {
  return `${normalizeEndpoint(endpoint)}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

export interface ModelInfo {
  /** The commit the revision resolves to (null when the server names none). */
  sha: string | null;
  /** The repository's files with sizes; null when the server lists none (files are then probed). */
  siblings: HubFile[] | null;
}

function context(id: HubModelId, opts: HubOptions): ErrorContext {
  return { label: formatHubId(id), repo: id.repo, revision: id.revision, endpoint: normalizeEndpoint(opts.endpoint), tokenGiven: !!opts.token, tokenHint: opts.tokenHint ?? DEFAULT_TOKEN_HINT };
}

function authHeaders(opts: HubOptions): Record<string, string> {
  return opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
}

/** The revision's commit and file list, from the Hub's model API. */
export async function fetchModelInfo(id: HubModelId, opts: HubOptions): Promise<ModelInfo> {
  const ctx = context(id, opts);
  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  let res: Response;
  try {
    res = await fetchFn(modelInfoUrl(ctx.endpoint, id.repo, id.revision), { headers: { Accept: 'application/json', ...authHeaders(opts) }, signal: opts.signal });
  } catch (e) {
    throw fetchFailure(e, opts.signal, ctx.label, ctx.endpoint);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw httpError(res.status, res.headers.get('x-error-code'), ctx);
  }
  let json: { sha?: unknown; siblings?: unknown };
  try {
    json = (await res.json()) as typeof json;
  } catch (e) {
    if (opts.signal?.aborted) throw fetchFailure(e, opts.signal, ctx.label, ctx.endpoint);
    throw new HubError('http', `${ctx.label}: the model listing from ${ctx.endpoint} is not JSON`, res.status, { cause: e });
  }
  const sha = typeof json?.sha === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(json.sha) && json.sha !== '.' && json.sha !== '..' ? json.sha : null;
  let siblings: HubFile[] | null = null;
  if (Array.isArray(json?.siblings)) {
    siblings = [];
    for (const s of json.siblings as Array<{ rfilename?: unknown; size?: unknown; lfs?: { size?: unknown } }>) {
      if (typeof s?.rfilename !== 'string') continue;
      const size = typeof s.size === 'number' ? s.size : typeof s.lfs?.size === 'number' ? s.lfs.size : null;
      siblings.push({ path: s.rfilename, size: size !== null && Number.isSafeInteger(size) && size >= 0 ? size : null });
    }
  }
  return { sha, siblings };
}

/** A complete snapshot of the id's revision already in the storage, or null. */
export async function cachedSnapshot(id: HubModelId, storage: HubStorage): Promise<HubSnapshot | null> {
  const commit = (await storage.getRef(id.repo, id.revision)) ?? (isCommitHash(id.revision) ? id.revision : null);
  if (!commit) return null;
  const key = { repo: id.repo, commit };
  const manifest = await storage.getManifest(key);
  if (!manifest || !(await isComplete(storage, key, manifest))) return null;
  return { id, key, files: manifest.files, downloadedBytes: 0, offline: false };
}

async function isComplete(storage: HubStorage, key: SnapshotKey, manifest: SnapshotManifest): Promise<boolean> {
  if (!Array.isArray(manifest.files)) return false;
  try {
    for (const f of manifest.files) if ((await storage.fileSize(key, f.path)) !== f.size) return false;
  } catch {
    return false; // a damaged manifest (a name the storage refuses): fetch the snapshot again
  }
  return true;
}

/** A speed over a sliding window of a few seconds. */
class Speedometer {
  private samples: Array<[number, number]> = [];
  private fetched = 0;
  add(n: number): number {
    const now = Date.now();
    this.fetched += n;
    this.samples.push([now, this.fetched]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0];
    return now > t0 ? ((this.fetched - b0) * 1000) / (now - t0) : 0;
  }
}

/**
 * The model folder's files of `id` in `opts.storage`: from the storage when a complete snapshot
 * of the revision is there (without the server when it is unreachable or `offline` is set),
 * else downloaded (a partial file continues where it stopped). Errors are HubErrors with one-line
 * messages.
 */
export async function downloadModel(id: HubModelId, opts: HubOptions): Promise<HubSnapshot> {
  const { storage } = opts;
  const ctx = context(id, opts);
  if (opts.offline) {
    const hit = await cachedSnapshot(id, storage);
    if (hit) return { ...hit, offline: true };
    throw new HubError('offline', `${ctx.label}: not in the cache, and offline mode is on (nothing is downloaded)`);
  }
  let info: ModelInfo;
  try {
    info = await fetchModelInfo(id, opts);
  } catch (e) {
    if (e instanceof HubError && e.kind === 'network') {
      const hit = await cachedSnapshot(id, storage);
      if (hit) return { ...hit, offline: true };
      throw new HubError('network', `${e.message}, and ${ctx.label} is not in the cache`, null, { cause: e });
    }
    throw e;
  }
  const urlRevision = info.sha ?? id.revision;
  const key: SnapshotKey = { repo: id.repo, commit: info.sha ?? id.revision.split('/').join('--') };
  const manifest = await storage.getManifest(key);
  if (manifest && (await isComplete(storage, key, manifest))) {
    if (info.sha && info.sha !== id.revision) await storage.setRef(id.repo, id.revision, info.sha);
    return { id, key, files: manifest.files, downloadedBytes: 0, offline: false };
  }

  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const speed = new Speedometer();
  let bytesPerSecond = 0;
  let downloaded = 0;
  const got: Array<{ path: string; size: number }> = [];
  // planned files; shards join once the index is in
  const plan: HubFile[] = [];
  const total = () => (plan.every((f) => f.size !== null) ? plan.reduce((a, f) => a + (f.size ?? 0), 0) : null);
  const doneBefore = () => got.reduce((a, f) => a + f.size, 0);

  const fetchOne = async (file: HubFile, optional: boolean): Promise<number | null> => {
    const index = plan.indexOf(file) + 1;
    const report = (have: number, fileTotal: number | null) =>
      opts.onProgress?.({ file: file.path, fileDone: have, fileTotal, done: doneBefore() + have, total: total(), fileIndex: index, fileCount: plan.length, bytesPerSecond });
    const present = await storage.fileSize(key, file.path);
    if (present !== null && (file.size === null || present === file.size)) {
      report(present, present);
      return present;
    }
    const size = await downloadFile({
      url: resolveUrl(ctx.endpoint, id.repo, urlRevision, file.path),
      storage,
      key,
      path: file.path,
      size: file.size,
      headers: authHeaders(opts),
      fetch: fetchFn,
      signal: opts.signal,
      retries: opts.retries ?? 3,
      optional,
      ctx,
      onBytes: (have, fileTotal, fetched) => {
        downloaded += fetched;
        bytesPerSecond = speed.add(fetched);
        report(have, fileTotal);
      },
      onResume: (offset) => opts.onResume?.(file.path, offset),
    });
    if (size !== null) report(size, size);
    return size;
  };
  const run = async (file: HubFile, optional = false): Promise<boolean> => {
    const size = await fetchOne(file, optional);
    if (size === null) plan.splice(plan.indexOf(file), 1);
    else got.push({ path: file.path, size });
    return size !== null;
  };

  if (info.siblings) {
    const { files, index } = selectFiles(info.siblings, ctx.label);
    plan.push(...files);
    // the plan grows while it runs: the shards go right after their index
    for (let i = 0; i < plan.length; i++) {
      const f = plan[i];
      await run(f);
      if (f !== index) continue;
      const sizes = new Map(info.siblings.map((s) => [s.path, s.size]));
      const shards = shardsOf((await storage.readFile(key, f.path)) ?? new Uint8Array(), ctx.label);
      const missing = shards.find((s) => !sizes.has(s));
      if (missing) throw new HubError('unsupported', `${ctx.label}: ${WEIGHTS_INDEX_FILE} names shard ${missing}, which the repository does not have`);
      plan.splice(i + 1, 0, ...shards.map((s) => ({ path: s, size: sizes.get(s) ?? null })));
    }
  } else {
    // no listing: config.json and the weights must be there; the rest is tried (404: absent)
    const probe = (path: string, optional = false) => {
      const f = { path, size: null };
      plan.push(f);
      return run(f, optional);
    };
    await probe(CONFIG_FILE);
    if (!(await probe(WEIGHTS_FILE, true))) {
      if (!(await probe(WEIGHTS_INDEX_FILE, true))) {
        throw new HubError('unsupported', `${ctx.label}: no model.safetensors or model.safetensors.index.json (PrefPlay reads safetensors weights only)`);
      }
      for (const s of shardsOf((await storage.readFile(key, WEIGHTS_INDEX_FILE)) ?? new Uint8Array(), ctx.label)) await probe(s);
    }
    for (const name of OPTIONAL_FILES) await probe(name, true);
  }

  await storage.setManifest(key, { repo: id.repo, commit: key.commit, revision: id.revision, files: got, downloadedAt: new Date().toISOString() });
  if (key.commit !== id.revision) await storage.setRef(id.repo, id.revision, key.commit);
  return { id, key, files: got, downloadedBytes: downloaded, offline: false };
}
