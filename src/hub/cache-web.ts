// Browser only (the page's engine worker): the Hub download cache in the Origin Private File
// System, in a layout like the Node cache's (./cache-node.ts):
//
//   prefplay-hub/models--ORG--NAME/
//     refs/REVISION             the commit REVISION resolved to (URI-encoded: refs/pr/1 is one name)
//     manifests/COMMIT.json     the snapshot's manifest (files and sizes), written once all are in
//     snapshots/COMMIT/FILE     complete files
//     partial/COMMIT/FILE       an interrupted download, continued with an HTTP Range request
//
// When a revision moves on, the new snapshot is written beside the old one (files whose content
// did not change are copied over, chunk by chunk) and the old one is deleted once its ref names
// the new commit and no other ref names the old (pruneSnapshot; a model pinned at a commit,
// ORG/NAME@COMMIT, has a ref of its own: src/hub/snapshot.ts pinRef): an update does not leave the
// model twice in the browser's storage.
//
// Why OPFS and not Cache Storage: a download is appended to in place, and what arrived stays on
// disk even when the tab closes mid-download, so the next try continues with a Range request;
// Cache Storage keeps only whole Responses (a partial file would be many entries glued back
// together, and a body cut off mid-stream is not stored at all). OPFS files also give their sizes
// without reading them (getFile().size: the cache listing, the completeness check) and read back
// as one ArrayBuffer for the model loaders.
//
// Writes go through a FileSystemSyncAccessHandle where there is one (dedicated workers, such as
// the engine worker): each chunk lands in the file at its offset as it arrives. Elsewhere,
// createWritable({ keepExistingData }) + seek, committed when the writer closes (a tab closed
// mid-download then loses what arrived since the writer opened). A full quota becomes a HubError
// of kind 'quota': createWritable throws QuotaExceededError, while Chromium's sync handle writes
// fewer bytes than asked (it returns an error code instead of throwing).
import { causeText, HubError } from './errors';
import { formatBytes } from './progress';
import { memoryHubStorage, type HubStorage, type PartialWriter, type SnapshotKey, type SnapshotManifest } from './storage';

/** The OPFS folder every cached model lives under. */
export const WEB_CACHE_DIR = 'prefplay-hub';
/** Bytes read and written at a time when an update copies an unchanged file to the new snapshot. */
const COPY_CHUNK = 8 << 20;

/** One snapshot (repository at a commit) in the cache. */
export interface CachedSnapshotInfo {
  commit: string;
  /** Revisions that last resolved to this commit (main, a tag…). */
  revisions: string[];
  /** Every file of its manifest is there at its size: it loads without the network. */
  complete: boolean;
  /** Complete files held. */
  files: number;
  /** Bytes of complete files plus kept partial downloads. */
  bytes: number;
  /** Bytes of interrupted downloads (continued on the next download). */
  partialBytes: number;
  /** Bytes the manifest lists (the whole snapshot), when it is complete. */
  totalBytes: number | null;
  downloadedAt: string | null;
}

/** One model repository in the cache, all its snapshots together. */
export interface CachedModel {
  /** `ORG/NAME`. */
  repo: string;
  bytes: number;
  /** At least one snapshot is complete. */
  complete: boolean;
  snapshots: CachedSnapshotInfo[];
}

export interface WebHubStorage extends HubStorage {
  /** Every model in the cache, complete or partly downloaded, by repository name. */
  list(): Promise<CachedModel[]>;
  /** Deletes a model's every snapshot and partial download; false when there was none. */
  remove(repo: string): Promise<boolean>;
}

/** Whether this context has the Origin Private File System (a secure context of a current browser). */
export function hasOpfs(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

/** A DOMException (or look-alike) that says the storage quota is exhausted. */
export function isQuotaError(e: unknown): boolean {
  const err = e as { name?: string; code?: number } | null;
  return err?.name === 'QuotaExceededError' || err?.code === 22;
}

/** The message of a download that filled the storage, naming the model, its size and the way out. */
export function quotaMessage(label: string, size: number | null, cached: { count: number; bytes: number }): string {
  const what = size !== null ? `${label} (${formatBytes(size)})` : label;
  const room = cached.count
    ? `Cached models take ${formatBytes(cached.bytes)} (${cached.count} model${cached.count === 1 ? '' : 's'}): delete those you no longer need under “Cached models”, or free disk space`
    : 'Free disk space (or allow this site more storage in the browser settings)';
  return `Not enough browser storage to download ${what}: the browser refused to store more for this page (storage quota reached). ${room}, then press Download again.`;
}

// the minimal handle types used here (lib.dom has no `move` and no async iteration of folders)
type Dir = FileSystemDirectoryHandle;
type FileHandle = FileSystemFileHandle & {
  move?: (dir: Dir, name: string) => Promise<void>;
  createSyncAccessHandle?: () => Promise<FileSystemSyncAccessHandle>;
};
type Listable = Dir & { entries(): AsyncIterableIterator<[string, FileSystemHandle]> };

const notFound = (e: unknown) => ['NotFoundError', 'TypeMismatchError'].includes((e as DOMException)?.name);

// every name below comes from a server or a user: refuse anything that is not one plain name
function segment(s: string, what: string): string {
  if (!/^[^/\\\0]+$/.test(s) || s === '.' || s === '..') throw new HubError('unsupported', `unsafe ${what} "${s.slice(0, 80)}" for the cache`);
  return s;
}

const repoFolder = (repo: string) => `models--${repo.split('/').map((p) => segment(p, 'repository name')).join('--')}`;
const repoOf = (folder: string) => folder.slice('models--'.length).split('--').join('/');

async function subdir(dir: Dir, names: readonly string[], create: boolean): Promise<Dir | null> {
  let d = dir;
  for (const n of names) {
    try {
      d = await d.getDirectoryHandle(n, { create });
    } catch (e) {
      if (!create && notFound(e)) return null;
      throw e;
    }
  }
  return d;
}

async function fileIn(dir: Dir | null, name: string, create = false): Promise<FileHandle | null> {
  if (!dir) return null;
  try {
    return (await dir.getFileHandle(name, { create })) as FileHandle;
  } catch (e) {
    if (!create && notFound(e)) return null;
    throw e;
  }
}

async function removeIn(dir: Dir | null, name: string, recursive = false): Promise<boolean> {
  if (!dir) return false;
  try {
    await dir.removeEntry(name, { recursive });
    return true;
  } catch (e) {
    if (notFound(e)) return false;
    throw e;
  }
}

async function entries(dir: Dir | null): Promise<Array<[string, FileSystemHandle]>> {
  const out: Array<[string, FileSystemHandle]> = [];
  if (dir) for await (const e of (dir as Listable).entries()) out.push(e);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const sizeOf = async (f: FileHandle | null) => (f ? (await f.getFile()).size : null);

function quotaError(repo: string, path: string, cause: unknown): HubError {
  return new HubError('quota', `${path} of ${repo}: the browser's storage for this page is full (${causeText(cause)})`, null, { cause });
}

/** Runs a write, turning a full quota into a HubError of kind 'quota'. */
async function writing<T>(repo: string, path: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw isQuotaError(e) ? quotaError(repo, path, e) : e;
  }
}

/** A writer at the end of the file (append) or of an emptied one. */
async function openWriter(fh: FileHandle, append: boolean, repo: string, path: string): Promise<PartialWriter> {
  if (typeof fh.createSyncAccessHandle === 'function') {
    const h = await writing(repo, path, () => fh.createSyncAccessHandle!());
    let at = 0;
    try {
      if (append) at = h.getSize();
      else h.truncate(0);
    } catch (e) {
      h.close();
      throw e;
    }
    let failed = false;
    return {
      async write(chunk) {
        let n: number;
        try {
          n = h.write(chunk, { at });
        } catch (e) {
          failed = true;
          throw isQuotaError(e) ? quotaError(repo, path, e) : e;
        }
        if (n !== chunk.length) {
          // Chromium's answer to a full quota: a short write (or an error code in its place)
          failed = true;
          throw quotaError(repo, path, new Error(`the browser stored ${n > chunk.length ? 'none' : n} of ${chunk.length} bytes at offset ${at}`));
        }
        at += n;
      },
      async close() {
        try {
          h.flush();
        } catch (e) {
          if (!failed) throw isQuotaError(e) ? quotaError(repo, path, e) : e;
        } finally {
          h.close();
        }
      },
    };
  }
  const w = await writing(repo, path, () => fh.createWritable({ keepExistingData: append }));
  if (append) await w.seek((await fh.getFile()).size);
  return {
    write: (chunk) => writing(repo, path, () => w.write(chunk as Uint8Array<ArrayBuffer>)),
    close: () => writing(repo, path, () => w.close()),
  };
}

async function writeWhole(fh: FileHandle, bytes: Uint8Array, repo: string, path: string): Promise<void> {
  const w = await openWriter(fh, false, repo, path);
  try {
    await w.write(bytes);
  } finally {
    await w.close();
  }
}

/** The cache in OPFS under `root` (default: WEB_CACHE_DIR of navigator.storage.getDirectory()). */
export function opfsHubStorage(root?: () => Promise<Dir>): WebHubStorage {
  let rootDir: Promise<Dir> | null = null;
  const top = () =>
    (rootDir ??= (root ?? (async () => (await navigator.storage.getDirectory()).getDirectoryHandle(WEB_CACHE_DIR, { create: true })))().catch((e) => {
      rootDir = null;
      throw e;
    }));
  const dirOf = async (repo: string, kind: 'refs' | 'manifests' | 'snapshots' | 'partial', commit: string | null, create: boolean) =>
    subdir(await top(), [repoFolder(repo), kind, ...(commit === null ? [] : [segment(commit, 'commit')])], create);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const readText = async (f: FileHandle | null) => (f ? dec.decode(await (await f.getFile()).arrayBuffer()) : null);
  const refName = (revision: string) => encodeURIComponent(revision);
  const manifestName = (commit: string) => `${segment(commit, 'commit')}.json`;

  /**
   * What a failed copyFile leaves of `path` in snapshot `to`: its partial file, the snapshot's file
   * when completePartial's fallback copy broke off (`completing`), and the commit's partial/ folder
   * when nothing else is in it (a commit with no files left is then not listed at all).
   */
  const dropCopy = async (to: SnapshotKey, path: string, completing: boolean) => {
    const name = segment(path, 'file name');
    await removeIn(await dirOf(to.repo, 'partial', to.commit, false), name);
    if (completing) await removeIn(await dirOf(to.repo, 'snapshots', to.commit, false), name);
    // non-recursive: refused (and ignored) while other partial downloads of the commit are kept there
    await removeIn(await dirOf(to.repo, 'partial', null, false), segment(to.commit, 'commit')).catch(() => false);
  };

  const storage: WebHubStorage = {
    async getRef(repo, revision) {
      const text = await readText(await fileIn(await dirOf(repo, 'refs', null, false), refName(revision)));
      return text?.trim() || null;
    },
    async setRef(repo, revision, commit) {
      const f = (await fileIn(await dirOf(repo, 'refs', null, true), refName(revision), true))!;
      await writeWhole(f, enc.encode(commit), repo, `refs/${revision}`);
    },
    async getManifest(key) {
      const text = await readText(await fileIn(await dirOf(key.repo, 'manifests', null, false), manifestName(key.commit)));
      if (text === null) return null;
      try {
        return JSON.parse(text) as SnapshotManifest;
      } catch {
        return null; // a damaged manifest: the snapshot is fetched again
      }
    },
    async setManifest(key, manifest) {
      const f = (await fileIn(await dirOf(key.repo, 'manifests', null, true), manifestName(key.commit), true))!;
      await writeWhole(f, enc.encode(JSON.stringify(manifest, null, 2) + '\n'), key.repo, 'the manifest');
    },
    async fileSize(key, path) {
      return sizeOf(await fileIn(await dirOf(key.repo, 'snapshots', key.commit, false), segment(path, 'file name')));
    },
    async readFile(key, path) {
      const f = await fileIn(await dirOf(key.repo, 'snapshots', key.commit, false), segment(path, 'file name'));
      return f ? new Uint8Array(await (await f.getFile()).arrayBuffer()) : null;
    },
    async partialSize(key, path) {
      return (await sizeOf(await fileIn(await dirOf(key.repo, 'partial', key.commit, false), segment(path, 'file name')))) ?? 0;
    },
    async openPartial(key, path, append) {
      const dir = await writing(key.repo, path, async () => (await dirOf(key.repo, 'partial', key.commit, true))!);
      const f = await writing(key.repo, path, async () => (await fileIn(dir, segment(path, 'file name'), true))!);
      return openWriter(f, append, key.repo, path);
    },
    async completePartial(key, path) {
      const name = segment(path, 'file name');
      const src = await fileIn(await dirOf(key.repo, 'partial', key.commit, false), name);
      if (!src) throw new Error(`no partial download of ${path}`);
      const dest = (await dirOf(key.repo, 'snapshots', key.commit, true))!;
      await removeIn(dest, name);
      if (typeof src.move === 'function') {
        await src.move(dest, name);
        return;
      }
      // no move(): copy, then drop the partial
      const out = (await fileIn(dest, name, true))!;
      await writing(key.repo, path, async () => {
        const w = await out.createWritable();
        await w.write(await src.getFile());
        await w.close();
      });
      await removeIn(await dirOf(key.repo, 'partial', key.commit, false), name);
    },
    async dropPartial(key, path) {
      await removeIn(await dirOf(key.repo, 'partial', key.commit, false), segment(path, 'file name'));
    },
    async copyFile(from, to, path, signal) {
      const src = await fileIn(await dirOf(from.repo, 'snapshots', from.commit, false), segment(path, 'file name'));
      if (!src) return null;
      const file = await src.getFile();
      let completing = false;
      try {
        // through the partial file, COPY_CHUNK at a time: a shard of several GB never sits in memory
        const w = await storage.openPartial(to, path, false);
        try {
          for (let at = 0; at < file.size; at += COPY_CHUNK) {
            signal?.throwIfAborted();
            await w.write(new Uint8Array(await file.slice(at, at + COPY_CHUNK).arrayBuffer()));
          }
        } finally {
          await w.close();
        }
        completing = true;
        await storage.completePartial(to, path);
      } catch (e) {
        // cancelled, a full quota, a disk error: a copy cut short is of no use to the next try (a
        // copy starts afresh, unlike a download), and would be listed as an incomplete snapshot
        await dropCopy(to, path, completing).catch(() => {});
        throw e;
      }
      return file.size;
    },
    async pruneSnapshot(key) {
      const commit = segment(key.commit, 'commit');
      const base = await subdir(await top(), [repoFolder(key.repo)], false);
      if (!base) return false;
      for (const [, f] of await entries(await subdir(base, ['refs'], false))) {
        if (f.kind === 'file' && (await readText(f as FileHandle))?.trim() === commit) return false;
      }
      // the manifest first: whatever might be left of the files is then no complete snapshot
      const manifest = await removeIn(await subdir(base, ['manifests'], false), manifestName(commit));
      const files = await removeIn(await subdir(base, ['snapshots'], false), commit, true);
      const partial = await removeIn(await subdir(base, ['partial'], false), commit, true);
      return manifest || files || partial;
    },
    async list() {
      const out: CachedModel[] = [];
      for (const [folder, handle] of await entries(await top())) {
        if (handle.kind !== 'directory' || !folder.startsWith('models--')) continue;
        const repo = repoOf(folder);
        const base = handle as Dir;
        const revisions = new Map<string, string[]>();
        for (const [name, f] of await entries(await subdir(base, ['refs'], false))) {
          const commit = f.kind === 'file' ? (await readText(f as FileHandle))?.trim() : null;
          if (commit) revisions.set(commit, [...(revisions.get(commit) ?? []), decodeURIComponent(name)]);
        }
        const commits = new Set<string>();
        const manifests = new Map<string, SnapshotManifest>();
        for (const [name, f] of await entries(await subdir(base, ['manifests'], false))) {
          if (f.kind !== 'file' || !name.endsWith('.json')) continue;
          try {
            manifests.set(name.slice(0, -'.json'.length), JSON.parse((await readText(f as FileHandle)) ?? '') as SnapshotManifest);
          } catch {
            // a damaged manifest: the snapshot counts as incomplete
          }
        }
        const sizes = async (kind: 'snapshots' | 'partial') => {
          const byCommit = new Map<string, Map<string, number>>();
          for (const [commit, d] of await entries(await subdir(base, [kind], false))) {
            if (d.kind !== 'directory') continue;
            commits.add(commit);
            const files = new Map<string, number>();
            for (const [name, f] of await entries(d as Dir)) if (f.kind === 'file') files.set(name, (await sizeOf(f as FileHandle)) ?? 0);
            byCommit.set(commit, files);
          }
          return byCommit;
        };
        const complete = await sizes('snapshots');
        const partial = await sizes('partial');
        const snapshots: CachedSnapshotInfo[] = [...commits].sort().map((commit) => {
          const files = complete.get(commit) ?? new Map<string, number>();
          const parts = partial.get(commit) ?? new Map<string, number>();
          const m = manifests.get(commit);
          const done = !!m && Array.isArray(m.files) && m.files.every((f) => files.get(f.path) === f.size);
          const sum = (x: Map<string, number>) => [...x.values()].reduce((a, b) => a + b, 0);
          return {
            commit,
            // no ref names it: the revision it was downloaded for, unless that ref moved on since
            revisions: revisions.get(commit) ?? (m?.revision && ![...revisions.values()].some((r) => r.includes(m.revision)) ? [m.revision] : []),
            complete: done,
            files: files.size,
            bytes: sum(files) + sum(parts),
            partialBytes: sum(parts),
            totalBytes: done ? m!.files.reduce((a, f) => a + f.size, 0) : null,
            downloadedAt: done ? (m!.downloadedAt ?? null) : null,
          };
        });
        if (!snapshots.length) continue;
        out.push({ repo, bytes: snapshots.reduce((a, s) => a + s.bytes, 0), complete: snapshots.some((s) => s.complete), snapshots });
      }
      return out;
    },
    async remove(repo) {
      try {
        return await removeIn(await top(), repoFolder(repo), true);
      } catch (e) {
        if ((e as DOMException)?.name === 'NoModificationAllowedError') throw new Error(`${repo} is being written (a download in progress): cancel it first`, { cause: e });
        throw e;
      }
    },
  };
  return storage;
}

/**
 * The fallback where a browser has no OPFS: memoryHubStorage() with the same listing, so the page
 * works the same while the tab lives (nothing survives a reload).
 */
export function memoryWebHubStorage(): WebHubStorage {
  const m = memoryHubStorage();
  const parse = (k: string) => /^(.+?)@([^/]+)\/(.+)$/.exec(k);
  return {
    ...m,
    async list() {
      const byRepo = new Map<string, Map<string, CachedSnapshotInfo>>();
      const snap = (repo: string, commit: string) => {
        const snaps = byRepo.get(repo) ?? new Map<string, CachedSnapshotInfo>();
        byRepo.set(repo, snaps);
        const s = snaps.get(commit) ?? { commit, revisions: [], complete: false, files: 0, bytes: 0, partialBytes: 0, totalBytes: null, downloadedAt: null };
        snaps.set(commit, s);
        return s;
      };
      for (const [k, bytes] of m.files) {
        const p = parse(k);
        if (!p) continue;
        const s = snap(p[1], p[2]);
        s.files++;
        s.bytes += bytes.length;
      }
      for (const [k, parts] of m.partials) {
        const p = parse(k);
        if (!p) continue;
        const s = snap(p[1], p[2]);
        const n = parts.reduce((a, x) => a + x.length, 0);
        s.bytes += n;
        s.partialBytes += n;
      }
      const out: CachedModel[] = [];
      for (const [repo, snaps] of [...byRepo].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        for (const s of snaps.values()) {
          const man = await m.getManifest({ repo, commit: s.commit });
          s.complete = !!man && man.files.every((f) => m.files.get(`${repo}@${s.commit}/${f.path}`)?.length === f.size);
          if (s.complete) {
            // as the OPFS listing: the revisions whose refs name it (a pinned commit's own among
            // them), else the one it was downloaded for unless that ref moved on since
            const refs = [...m.refs].filter(([k]) => k.startsWith(`${repo}@`)).map(([k, commit]) => [k.slice(repo.length + 1), commit]);
            const named = refs.filter(([, commit]) => commit === s.commit).map(([rev]) => rev).sort();
            s.revisions = named.length ? named : refs.some(([rev]) => rev === man!.revision) ? [] : [man!.revision];
            s.totalBytes = man!.files.reduce((a, f) => a + f.size, 0);
            s.downloadedAt = man!.downloadedAt;
          }
        }
        const list = [...snaps.values()];
        out.push({ repo, bytes: list.reduce((a, s) => a + s.bytes, 0), complete: list.some((s) => s.complete), snapshots: list });
      }
      return out;
    },
    async pruneSnapshot(key) {
      const refs = [...m.refs].filter(([k]) => k.startsWith(`${key.repo}@`));
      if (refs.some(([, commit]) => commit === key.commit)) return false;
      const prefix = `${key.repo}@${key.commit}/`;
      let found = m.manifests.delete(prefix);
      for (const map of [m.files, m.partials] as Array<Map<string, unknown>>) {
        for (const k of [...map.keys()]) if (k.startsWith(prefix)) found = map.delete(k) || found;
      }
      return found;
    },
    async remove(repo) {
      let found = false;
      for (const map of [m.files, m.partials] as Array<Map<string, unknown>>) {
        for (const k of [...map.keys()]) {
          if (parse(k)?.[1] === repo) {
            map.delete(k);
            found = true;
          }
        }
      }
      return found;
    },
  };
}

/** The cache's total, for messages. */
export function cacheTotals(models: readonly CachedModel[]): { count: number; bytes: number } {
  return { count: models.length, bytes: models.reduce((a, m) => a + m.bytes, 0) };
}
