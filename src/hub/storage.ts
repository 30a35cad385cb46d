// Where downloaded Hub files live, behind a small interface so the downloader (./download.ts)
// runs unchanged in Node (./cache-node.ts: $HF_HOME/hub on disk) and in the page (Cache Storage
// or OPFS, later). A snapshot is one repository at one commit; its files are complete files,
// plus at most one partial (interrupted) download per path that a Range request continues.
// memoryHubStorage() serves tests and is a fallback when a browser offers no persistent storage.

/** One repository at one commit. */
export interface SnapshotKey {
  /** `ORG/NAME`. */
  repo: string;
  /** The commit hash the revision resolved to (or the revision itself when the server named no commit). */
  commit: string;
}

/** What a complete snapshot holds, written once every file is in: offline use reads it back. */
export interface SnapshotManifest {
  repo: string;
  commit: string;
  /** The revision asked for when it was downloaded (main, a tag, the commit). */
  revision: string;
  /**
   * The Hub endpoint it was downloaded from (normalized, e.g. `https://huggingface.co`): the only
   * server later asked whether its revision moved on. Absent from older manifests (never checked).
   */
  endpoint?: string;
  /** `blobId`: the listing's git blob id (absent from older manifests): an update copies a file whose id did not change. */
  files: Array<{ path: string; size: number; blobId?: string }>;
  /** ISO time of completion. */
  downloadedAt: string;
}

/** Appends the bytes of one download; `close` keeps what was written (a partial or a whole file). */
export interface PartialWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface HubStorage {
  /** The commit a revision last resolved to, or null. */
  getRef(repo: string, revision: string): Promise<string | null>;
  setRef(repo: string, revision: string, commit: string): Promise<void>;
  getManifest(key: SnapshotKey): Promise<SnapshotManifest | null>;
  setManifest(key: SnapshotKey, manifest: SnapshotManifest): Promise<void>;
  /** The size of a complete file of the snapshot, or null when it has none. */
  fileSize(key: SnapshotKey, path: string): Promise<number | null>;
  readFile(key: SnapshotKey, path: string): Promise<Uint8Array | null>;
  /** Bytes kept of an interrupted download of `path` (0: none). */
  partialSize(key: SnapshotKey, path: string): Promise<number>;
  /** A writer of the partial download: appended to its kept bytes, or started afresh (`append` false). */
  openPartial(key: SnapshotKey, path: string, append: boolean): Promise<PartialWriter>;
  /** The partial download becomes the complete file (replacing any older one). */
  completePartial(key: SnapshotKey, path: string): Promise<void>;
  dropPartial(key: SnapshotKey, path: string): Promise<void>;
  /**
   * Copies a complete file of snapshot `from` into snapshot `to` (an update reusing a file whose
   * content did not change), in chunks or as a hard link, never the whole file in memory; stops
   * with `signal`. The copied size, or null when `from` has no such file.
   */
  copyFile(from: SnapshotKey, to: SnapshotKey, path: string, signal?: AbortSignal): Promise<number | null>;
  /**
   * Deletes snapshot `key` (files, partial downloads, manifest) when no ref of its repository
   * names its commit any more (a commit-hash revision in use has a ref naming itself, written by
   * ./snapshot.ts where the storage prunes); true when it did. The page's cache has it (an update must not double
   * the model in the browser's storage); the Node cache keeps old snapshots, as huggingface_hub does.
   */
  pruneSnapshot?(key: SnapshotKey): Promise<boolean>;
}

/** Everything in memory (tests; a page without persistent storage). */
export function memoryHubStorage(): HubStorage & { files: Map<string, Uint8Array>; partials: Map<string, Uint8Array[]>; refs: Map<string, string>; manifests: Map<string, SnapshotManifest> } {
  const refs = new Map<string, string>();
  const manifests = new Map<string, SnapshotManifest>();
  const files = new Map<string, Uint8Array>();
  const partials = new Map<string, Uint8Array[]>();
  const k = (key: SnapshotKey, path: string) => `${key.repo}@${key.commit}/${path}`;
  const concat = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return {
    files,
    partials,
    refs,
    manifests,
    async getRef(repo, revision) {
      return refs.get(`${repo}@${revision}`) ?? null;
    },
    async setRef(repo, revision, commit) {
      refs.set(`${repo}@${revision}`, commit);
    },
    async getManifest(key) {
      return manifests.get(k(key, '')) ?? null;
    },
    async setManifest(key, manifest) {
      manifests.set(k(key, ''), manifest);
    },
    async fileSize(key, path) {
      return files.get(k(key, path))?.length ?? null;
    },
    async readFile(key, path) {
      return files.get(k(key, path)) ?? null;
    },
    async partialSize(key, path) {
      return (partials.get(k(key, path)) ?? []).reduce((a, p) => a + p.length, 0);
    },
    async openPartial(key, path, append) {
      const parts = append ? (partials.get(k(key, path)) ?? []) : [];
      partials.set(k(key, path), parts);
      return {
        async write(chunk) {
          parts.push(chunk.slice());
        },
        async close() {},
      };
    },
    async completePartial(key, path) {
      const parts = partials.get(k(key, path));
      if (!parts) throw new Error(`no partial download of ${path}`);
      files.set(k(key, path), concat(parts));
      partials.delete(k(key, path));
    },
    async dropPartial(key, path) {
      partials.delete(k(key, path));
    },
    async copyFile(from, to, path, signal) {
      signal?.throwIfAborted();
      const bytes = files.get(k(from, path));
      if (!bytes) return null;
      // shared, not copied: a stored file is never written in place (completePartial replaces it)
      files.set(k(to, path), bytes);
      return bytes.length;
    },
  };
}
