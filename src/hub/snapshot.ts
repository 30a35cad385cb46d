// A whole model from the Hub into a HubStorage: resolve the revision to a commit and list the
// repository's files (GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true), pick the
// files a model folder needs (./files.ts), fetch each from {endpoint}/{repo}/resolve/{commit}/{file}
// (./download.ts), then record the snapshot's manifest and the revision's commit. A snapshot
// already complete in the storage is used as it is when the revision is a commit hash or `offline`
// is set; for a branch or tag the same listing call, with a short timeout, says whether the
// revision moved on: same commit, the cache as it is; another, the new snapshot is fetched next to
// the old one (files whose blobId did not change are copied over, not downloaded) and the ref
// moves once it is complete (the page's cache then deletes the old one); no answer or an error,
// the cached snapshot with a notice saying why (as huggingface_hub does). Only the endpoint a
// snapshot was downloaded from (its manifest says) is asked: another endpoint is not contacted
// about it, nor, on the page, any about a manifest that does not say (the CLI asks its HF_ENDPOINT:
// checkUnrecordedEndpoint).
//
// Why plain fetch and not @huggingface/hub: its downloadFile hands back a whole Blob (no progress
// callback, no continuation of a partial file kept in our storage) and recent versions fetch
// Xet-backed files through Hugging Face's Xet servers, which a local stand-in cannot serve; the
// two plain URLs above are the Hub's documented, stable interface and are all this needs.
import { causeText, DEFAULT_TOKEN_HINT, fetchFailure, HubError, httpError, type ErrorContext } from './errors';
import { downloadFile, type FetchLike } from './download';
import { CONFIG_FILE, OPTIONAL_FILES, selectFiles, shardsOf, WEIGHTS_FILE, WEIGHTS_INDEX_FILE, type HubFile } from './files';
import { formatHubId, isCommitHash, type HubModelId } from './id';
import type { HubStorage, SnapshotKey, SnapshotManifest } from './storage';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** How long the check of a cached branch's current commit may take (huggingface_hub's etag timeout). */
export const CHECK_TIMEOUT_MS = 10_000;

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
  /** The limit on the check of a cached branch's current commit, in ms (default CHECK_TIMEOUT_MS). */
  checkTimeoutMs?: number;
  /**
   * false: a cached snapshot whose revision moved on is used as it is (its `notice` names the newer
   * commit) instead of downloading the new one — the page's reload, which shows no progress.
   * Default true.
   */
  update?: boolean;
  /**
   * true (the CLI): a cached snapshot whose manifest does not record its endpoint (written before
   * manifests did) counts as downloaded from `endpoint`, which the CLI's user set (HF_ENDPOINT):
   * it is checked there, and once that endpoint answers with its commit the manifest records it.
   * Default false (the page, whose endpoint a crafted hub= link can name): such a snapshot is
   * never checked (a `note` says why).
   */
  checkUnrecordedEndpoint?: boolean;
}

export interface HubSnapshot {
  id: HubModelId;
  key: SnapshotKey;
  files: SnapshotManifest['files'];
  /** The endpoint it was downloaded from (null: an older manifest that does not say). */
  endpoint: string | null;
  /** Bytes fetched by this call (0: everything came from the storage). */
  downloadedBytes: number;
  /** The server was not asked (offline mode, another endpoint) or gave no answer to the check (unreachable, an error, the timeout): the cached snapshot was used. */
  offline: boolean;
  /**
   * Why the cached snapshot was used without being known to be the revision's newest: the check
   * failed (`could not check … (reason)`), the newer snapshot's download failed, or `update: false`
   * left a newer commit on the server. null: it is current, pinned, or offline mode was asked for.
   */
  notice: string | null;
  /**
   * Why the cached snapshot was not checked, when that is no fault to warn about (a muted line):
   * it came from another endpoint (or an older manifest names none), or the server wants an access
   * token and none was given (a gated model after a reload, which forgets the token).
   */
  note: string | null;
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
    for (const s of json.siblings as Array<{ rfilename?: unknown; size?: unknown; blobId?: unknown; lfs?: { size?: unknown } }>) {
      if (typeof s?.rfilename !== 'string') continue;
      const size = typeof s.size === 'number' ? s.size : typeof s.lfs?.size === 'number' ? s.lfs.size : null;
      // the git blob id (`?blobs=true`): the same id at another commit is the same content
      const blobId = typeof s.blobId === 'string' && /^[0-9a-f]{40,64}$/.test(s.blobId) ? s.blobId : null;
      siblings.push({ path: s.rfilename, size: size !== null && Number.isSafeInteger(size) && size >= 0 ? size : null, ...(blobId ? { blobId } : {}) });
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
  return { id, key, files: manifest.files, endpoint: manifest.endpoint ?? null, downloadedBytes: 0, offline: false, notice: null, note: null };
}

/** The short reason of a failed check, for a notice: `HTTP 503`, `ECONNREFUSED`, … */
function reasonOf(e: HubError, tokenGiven: boolean): string {
  if (e.status !== null) return `HTTP ${e.status}${e.kind === 'auth' ? (tokenGiven ? ': the access token was refused' : ': the model needs an access token') : ''}`;
  if (e.kind === 'network' && e.cause !== undefined) return causeText(e.cause);
  return e.message;
}

/**
 * The revision's current commit and files, or why the server could not say within the check's
 * timeout (unreachable, an error status, no answer; `authStatus`: the 401/403 of a gated or private
 * model, else null). Cancelling through `opts.signal` still throws.
 */
async function checkRevision(id: HubModelId, opts: HubOptions): Promise<{ info: ModelInfo } | { reason: string; authStatus: number | null }> {
  const ms = opts.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
  const outer = opts.signal;
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
  }, ms);
  try {
    return { info: await fetchModelInfo(id, { ...opts, signal: controller.signal }) };
  } catch (e) {
    if (outer?.aborted) throw e;
    if (timedOut) return { reason: `no answer within ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}`, authStatus: null };
    if (e instanceof HubError) return { reason: reasonOf(e, !!opts.token), authStatus: e.kind === 'auth' ? e.status : null };
    throw e;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
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
 * The model folder's files of `id` in `opts.storage`. A complete snapshot of the revision in the
 * storage is used without a request when the revision is a commit hash or `offline` is set, or
 * when it was downloaded from another endpoint than `opts.endpoint` (or its manifest does not say
 * from where, unless checkUnrecordedEndpoint: `note`); for a branch or tag its endpoint is asked for the revision's commit
 * (CHECK_TIMEOUT_MS): the same one, the cached snapshot; another, that snapshot is downloaded
 * beside the cached one (see downloadSnapshot); no answer, or any failure of that update but a
 * cancel (a full storage, a broken download), the cached snapshot with a `notice` (a 401/403
 * without a token: a `note`). Without a cached snapshot it is downloaded (a partial file continues
 * where it stopped). Errors are HubErrors with one-line messages.
 */
export async function downloadModel(id: HubModelId, opts: HubOptions): Promise<HubSnapshot> {
  const { storage } = opts;
  const ctx = context(id, opts);
  const cached = await cachedSnapshot(id, storage);
  if (cached && isCommitHash(id.revision)) await pinRef(storage, id);
  if (opts.offline) {
    if (cached) return { ...cached, offline: true };
    throw new HubError('offline', `${ctx.label}: not in the cache, and offline mode is on (nothing is downloaded)`);
  }
  if (!cached) {
    let info: ModelInfo;
    try {
      info = await fetchModelInfo(id, opts);
    } catch (e) {
      if (e instanceof HubError && e.kind === 'network') throw new HubError('network', `${e.message}, and ${ctx.label} is not in the cache`, null, { cause: e });
      throw e;
    }
    return snapshotOf(id, opts, info, null);
  }
  // a commit hash names content that cannot change: nothing to ask
  if (isCommitHash(id.revision)) return cached;
  // an older manifest that names no endpoint: on the CLI, the HF_ENDPOINT its user set
  const unrecorded = cached.endpoint === null && opts.checkUnrecordedEndpoint === true;
  // another server is not told which model is cached, and its answer could not be trusted for it
  if (cached.endpoint !== ctx.endpoint && !unrecorded) {
    const from = cached.endpoint ? `it was downloaded from ${cached.endpoint}` : 'the cache does not record which Hub it was downloaded from';
    return { ...cached, offline: true, note: `not checked for a newer revision of ${id.revision}: ${from}` };
  }
  const check = await checkRevision(id, opts);
  if ('reason' in check) {
    // a gated or private model without a token (the page forgets it on a reload): no fault to warn about
    if (check.authStatus !== null && !opts.token) return { ...cached, offline: true, note: `not checked for a newer revision of ${id.revision}: without an access token ${ctx.endpoint} answers HTTP ${check.authStatus} (a gated or private model)` };
    return { ...cached, offline: true, notice: `could not check ${ctx.endpoint} for a newer revision of ${id.revision} (${check.reason})` };
  }
  if (unrecorded && keyOf(id, check.info).commit === cached.key.commit) return recordEndpoint(storage, cached, ctx.endpoint);
  const newer = `commit ${keyOf(id, check.info).commit.slice(0, 12)}`;
  try {
    return await snapshotOf(id, opts, check.info, cached);
  } catch (e) {
    // the cached snapshot still works (its ref moves only once the new one is complete): any
    // failure but a cancel (a full storage, a broken download, a disk error) leaves it in use
    if (opts.signal?.aborted) throw e instanceof HubError && e.kind === 'aborted' ? e : fetchFailure(e, opts.signal, ctx.label, ctx.endpoint);
    if (e instanceof HubError && e.kind === 'aborted') throw e;
    return { ...cached, notice: `could not download the newer revision of ${id.revision} (${newer}): ${errorText(e)}` };
  }
}

/** The snapshot a listing names: its commit, or the revision as a folder name when it names none. */
function keyOf(id: HubModelId, info: ModelInfo): SnapshotKey {
  return { repo: id.repo, commit: info.sha ?? id.revision.split('/').join('--') };
}

/** An error's one line for a notice: a HubError's message, else its name and message. */
function errorText(e: unknown): string {
  if (e instanceof HubError) return e.message;
  const err = e as { name?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return typeof err?.name === 'string' && err.name !== 'Error' ? `${err.name}: ${message}` : message;
}

/**
 * The snapshot of `info`: the cached one when it is that commit, one already complete in the
 * storage (the ref moves to it), else downloaded — unless `update: false` leaves a newer commit
 * named in the cached one's notice.
 */
async function snapshotOf(id: HubModelId, opts: HubOptions, info: ModelInfo, cached: HubSnapshot | null): Promise<HubSnapshot> {
  const { storage } = opts;
  const key = keyOf(id, info);
  if (cached && key.commit === cached.key.commit) return cached;
  const manifest = await storage.getManifest(key);
  if (manifest && (await isComplete(storage, key, manifest))) {
    await moveRef(storage, id, key.commit, cached?.key ?? null);
    return { id, key, files: manifest.files, endpoint: manifest.endpoint ?? null, downloadedBytes: 0, offline: false, notice: null, note: null };
  }
  if (cached && opts.update === false) {
    return { ...cached, notice: `${normalizeEndpoint(opts.endpoint)} has a newer revision of ${id.revision} (commit ${key.commit.slice(0, 12)}), not downloaded yet: load the model again to download it` };
  }
  return downloadSnapshot(id, opts, info, key, cached);
}

/**
 * The endpoint that just answered with a cached snapshot's commit, written into its manifest that
 * named none (checkUnrecordedEndpoint), so that it is the snapshot's recorded endpoint from now on.
 * Best effort: a manifest that cannot be rewritten leaves the snapshot in use as it is (the next
 * run checks it the same way).
 */
async function recordEndpoint(storage: HubStorage, snap: HubSnapshot, endpoint: string): Promise<HubSnapshot> {
  try {
    const manifest = await storage.getManifest(snap.key);
    if (manifest && !manifest.endpoint) await storage.setManifest(snap.key, { ...manifest, endpoint });
  } catch {
    // (a read-only or full disk): used as it is
  }
  return { ...snap, endpoint };
}

/**
 * Where the storage prunes (the page's cache), a commit-hash revision gets a ref naming its own
 * commit, so that an update of a branch that named the same snapshot (ORG/NAME and ORG/NAME@COMMIT
 * loaded from one download) does not delete what the pinned model still loads: pruneSnapshot keeps
 * a snapshot any ref names. The Node cache never prunes and keeps huggingface_hub's layout (no
 * refs/COMMIT file). Written when a pinned model is downloaded (moveRef) and on each use of a
 * cached one (snapshots pinned before this ref existed); a ref that cannot be written (a full
 * quota) does not stop a cached model from loading.
 */
async function pinRef(storage: HubStorage, id: HubModelId): Promise<void> {
  if (!storage.pruneSnapshot) return;
  try {
    if ((await storage.getRef(id.repo, id.revision)) !== id.revision) await storage.setRef(id.repo, id.revision, id.revision);
  } catch {
    // the model loads; its snapshot may go with the next update of a branch at the same commit
  }
}

/**
 * Points the revision's ref at `commit` (a commit-hash revision has one only where the storage
 * prunes: pinRef); then, where the storage prunes (the page's cache), the snapshot it named
 * before goes unless another ref still names it.
 */
async function moveRef(storage: HubStorage, id: HubModelId, commit: string, previous: SnapshotKey | null): Promise<void> {
  if (commit !== id.revision || storage.pruneSnapshot) await storage.setRef(id.repo, id.revision, commit);
  if (!previous || previous.commit === commit || !storage.pruneSnapshot) return;
  try {
    await storage.pruneSnapshot(previous);
  } catch {
    // the new snapshot is complete and in use; the old one stays listed under "Cached models" to delete by hand
  }
}

/**
 * Downloads the snapshot `key` of `info`, then writes its manifest (with the endpoint) and moves
 * the revision's ref to it. `previous`: the cached snapshot of the revision it replaces, left as it
 * is until then (moveRef may prune it after); its files whose blobId the listing gives again (same
 * content) are copied from it (storage.copyFile: in chunks or a hard link) instead of downloaded.
 */
async function downloadSnapshot(id: HubModelId, opts: HubOptions, info: ModelInfo, key: SnapshotKey, previous: HubSnapshot | null): Promise<HubSnapshot> {
  const { storage } = opts;
  const ctx = context(id, opts);
  const urlRevision = info.sha ?? id.revision;
  const reusable = new Map((previous?.files ?? []).filter((f) => f.blobId).map((f) => [f.path, f]));

  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const speed = new Speedometer();
  let bytesPerSecond = 0;
  let downloaded = 0;
  const got: SnapshotManifest['files'] = [];
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
    const old = reusable.get(file.path);
    if (previous && old && file.blobId && old.blobId === file.blobId && (file.size === null || file.size === old.size)) {
      let copied: number | null;
      try {
        copied = await storage.copyFile(previous.key, key, file.path, opts.signal);
      } catch (e) {
        if (opts.signal?.aborted) throw fetchFailure(e, opts.signal, `${file.path} of ${ctx.label}`, ctx.endpoint);
        throw e;
      }
      if (copied === old.size) {
        report(copied, copied);
        return copied;
      }
      // gone from the old snapshot, or not its size: downloaded instead (replacing what was copied)
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
    else got.push({ path: file.path, size, ...(file.blobId ? { blobId: file.blobId } : {}) });
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
      const listed = new Map(info.siblings.map((s) => [s.path, s]));
      const shards = shardsOf((await storage.readFile(key, f.path)) ?? new Uint8Array(), ctx.label);
      const missing = shards.find((s) => !listed.has(s));
      if (missing) throw new HubError('unsupported', `${ctx.label}: ${WEIGHTS_INDEX_FILE} names shard ${missing}, which the repository does not have`);
      // copies: the plan finds its entries by identity
      plan.splice(i + 1, 0, ...shards.map((s) => ({ ...listed.get(s)! })));
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

  await storage.setManifest(key, { repo: id.repo, commit: key.commit, revision: id.revision, endpoint: ctx.endpoint, files: got, downloadedAt: new Date().toISOString() });
  await moveRef(storage, id, key.commit, previous?.key ?? null);
  return { id, key, files: got, endpoint: ctx.endpoint, downloadedBytes: downloaded, offline: false, notice: null, note: null };
}
