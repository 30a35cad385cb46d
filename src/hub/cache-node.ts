// Node only (CLI, tests): the Hub download cache on disk, in the Hugging Face Hub's own layout so
// a snapshot is a plain model folder (and huggingface_hub finds it too):
//
//   $HF_HOME/hub/models--ORG--NAME/
//     refs/REVISION                  the commit hash REVISION resolved to
//     snapshots/COMMIT/FILE          complete files (regular files; the Hub's tools use symlinks into blobs/;
//                                    a file an update did not change is a hard link to the older snapshot's)
//     .prefplay/COMMIT.json          the snapshot's manifest (files and sizes), written once all are in
//     .prefplay/COMMIT/FILE.part     an interrupted download, continued with an HTTP Range request
//
// The root is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub (the Hugging Face
// conventions). Older snapshots stay when a revision moves on (as huggingface_hub keeps them).
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { HubStorage, PartialWriter, SnapshotKey, SnapshotManifest } from './storage';

/** The cache root from the environment (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). */
export function hubCacheRoot(env: Record<string, string | undefined> = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** `models--ORG--NAME`, the Hub's folder name of a model repository. */
export function repoFolderName(repo: string): string {
  return `models--${repo.split('/').join('--')}`;
}

// every name below comes from a server: refuse anything that could leave its folder
function segment(s: string, what: string): string {
  if (!/^[^/\\\0]+$/.test(s) || s === '.' || s === '..') throw new Error(`unsafe ${what} "${s.slice(0, 80)}" for the cache`);
  return s;
}

function revisionPath(revision: string): string {
  return revision.split('/').map((p) => segment(p, 'revision')).join('/');
}

/** The folder of a snapshot's complete files: a model folder once its manifest is written. */
export function snapshotDir(root: string, key: SnapshotKey): string {
  return join(root, repoFolderName(key.repo), 'snapshots', segment(key.commit, 'commit'));
}

export function nodeHubStorage(root: string = hubCacheRoot()): HubStorage {
  const repoDir = (repo: string) => join(root, repoFolderName(repo));
  const filePath = (key: SnapshotKey, path: string) => join(snapshotDir(root, key), segment(path, 'file name'));
  const partPath = (key: SnapshotKey, path: string) => join(repoDir(key.repo), '.prefplay', segment(key.commit, 'commit'), `${segment(path, 'file name')}.part`);
  const manifestPath = (key: SnapshotKey) => join(repoDir(key.repo), '.prefplay', `${segment(key.commit, 'commit')}.json`);
  const size = async (p: string) => {
    const s = await stat(p).catch(() => null);
    return s?.isFile() ? s.size : null;
  };
  const readOrNull = async (p: string) => {
    try {
      return await readFile(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };
  const writeAtomic = async (p: string, text: string) => {
    await mkdir(dirname(p), { recursive: true });
    await writeFile(`${p}.tmp`, text);
    await rename(`${p}.tmp`, p);
  };
  return {
    async getRef(repo, revision) {
      const text = await readOrNull(join(repoDir(repo), 'refs', revisionPath(revision)));
      return text === null ? null : text.toString('utf8').trim() || null;
    },
    async setRef(repo, revision, commit) {
      await writeAtomic(join(repoDir(repo), 'refs', revisionPath(revision)), commit);
    },
    async getManifest(key) {
      const text = await readOrNull(manifestPath(key));
      if (text === null) return null;
      try {
        return JSON.parse(text.toString('utf8')) as SnapshotManifest;
      } catch {
        return null; // a damaged manifest: the snapshot is checked again online
      }
    },
    async setManifest(key, manifest) {
      await writeAtomic(manifestPath(key), JSON.stringify(manifest, null, 2) + '\n');
    },
    fileSize: (key, path) => size(filePath(key, path)),
    async readFile(key, path) {
      const b = await readOrNull(filePath(key, path));
      return b === null ? null : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    async partialSize(key, path) {
      return (await size(partPath(key, path))) ?? 0;
    },
    async openPartial(key, path, append): Promise<PartialWriter> {
      const p = partPath(key, path);
      await mkdir(dirname(p), { recursive: true });
      const fh = await open(p, append ? 'a' : 'w');
      return {
        async write(chunk) {
          let off = 0;
          while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        },
        close: () => fh.close(),
      };
    },
    async completePartial(key, path) {
      const dest = filePath(key, path);
      await mkdir(dirname(dest), { recursive: true });
      await rename(partPath(key, path), dest);
    },
    async dropPartial(key, path) {
      await rm(partPath(key, path), { force: true });
    },
    async copyFile(from, to, path, signal) {
      const src = filePath(from, path);
      if ((await size(src)) === null) return null;
      signal?.throwIfAborted();
      const dest = filePath(to, path);
      await mkdir(dirname(dest), { recursive: true });
      await rm(dest, { force: true });
      try {
        // a hard link: no bytes copied, and the file appears whole at once (never written in place
        // later: a download writes its .part and renames it over the name)
        await link(src, dest);
      } catch {
        // a file system without hard links: a copy into the partial file, renamed once whole;
        // streamed, so that a cancel stops a copy of several GB at once (the partial is dropped:
        // a copy starts afresh, unlike a download)
        const part = partPath(to, path);
        await mkdir(dirname(part), { recursive: true });
        try {
          await pipeline(createReadStream(src), createWriteStream(part), { signal });
          await rename(part, dest);
        } catch (e) {
          await rm(part, { force: true }).catch(() => {});
          throw e;
        }
      }
      return size(dest);
    },
  };
}
