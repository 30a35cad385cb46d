// An in-memory Origin Private File System for Node tests of src/hub/cache-web.ts: directory and
// file handles with the calls the cache makes (getDirectoryHandle, getFileHandle, removeEntry,
// entries, getFile, createWritable with keepExistingData + seek, createSyncAccessHandle, move),
// the browser's DOMException names, and an optional quota. Over the quota, createWritable's
// write throws QuotaExceededError and a sync access handle's write returns Chromium's error code
// (4294967288) without writing, as Chromium 156 does.

interface Node {
  kind: 'file' | 'directory';
}

class FileData {
  data = new Uint8Array(0);
  locks = 0;
}

export interface FakeOpfs {
  root: FileSystemDirectoryHandle;
  /** Bytes held by files (and by writers not yet closed). */
  used(): number;
  quota: number;
}

export function fakeOpfs(opts: { quota?: number; sync?: boolean } = {}): FakeOpfs {
  const pending = new Set<{ size: number }>();
  const fs: FakeOpfs = { root: null as unknown as FileSystemDirectoryHandle, used: () => 0, quota: opts.quota ?? Infinity };
  const dom = (name: string, msg: string) => new DOMException(msg, name);

  class FileHandle implements Node {
    readonly kind = 'file' as const;
    constructor(
      public name: string,
      public file: FileData,
      public parent: DirHandle,
    ) {
      // (a window has no sync access handles: only dedicated workers do)
      if (!opts.sync) Object.defineProperty(this, 'createSyncAccessHandle', { value: undefined });
    }
    async getFile() {
      return new File([this.file.data.slice()], this.name);
    }
    async createWritable(o: { keepExistingData?: boolean } = {}) {
      let buf = o.keepExistingData ? this.file.data.slice() : new Uint8Array(0);
      let pos = 0;
      const slot = { size: buf.length };
      pending.add(slot);
      const file = this.file;
      return {
        async seek(n: number) {
          pos = n;
        },
        async write(chunk: Uint8Array | Blob) {
          const bytes = chunk instanceof Blob ? new Uint8Array(await chunk.arrayBuffer()) : chunk;
          const end = Math.max(buf.length, pos + bytes.length);
          if (fs.used() - slot.size + end > fs.quota) throw dom('QuotaExceededError', 'The operation failed because it would cause the application to exceed its storage quota.');
          if (end > buf.length) {
            const grown = new Uint8Array(end);
            grown.set(buf);
            buf = grown;
          }
          buf.set(bytes, pos);
          pos += bytes.length;
          slot.size = buf.length;
        },
        async close() {
          pending.delete(slot);
          file.data = buf;
        },
        async abort() {
          pending.delete(slot);
        },
      };
    }
    async createSyncAccessHandle() {
      if (this.file.locks) throw dom('NoModificationAllowedError', 'Access Handles cannot be created if there is another open Access Handle or Writable stream associated with the same file.');
      this.file.locks++;
      const file = this.file;
      let open = true;
      return {
        getSize: () => file.data.length,
        truncate(n: number) {
          file.data = file.data.slice(0, n);
        },
        write(chunk: Uint8Array, o: { at?: number } = {}) {
          if (!open) throw dom('InvalidStateError', 'closed');
          const at = o.at ?? 0;
          const end = Math.max(file.data.length, at + chunk.length);
          if (fs.used() - file.data.length + end > fs.quota) return 4294967288;
          if (end > file.data.length) {
            const grown = new Uint8Array(end);
            grown.set(file.data);
            file.data = grown;
          }
          file.data.set(chunk, at);
          return chunk.length;
        },
        flush() {},
        close() {
          if (open) file.locks--;
          open = false;
        },
      };
    }
    async move(dir: DirHandle, name: string) {
      this.parent.children.delete(this.name);
      dir.children.set(name, this);
      this.parent = dir;
      this.name = name;
    }
  }

  class DirHandle implements Node {
    readonly kind = 'directory' as const;
    children = new Map<string, FileHandle | DirHandle>();
    constructor(public name: string) {}
    private check(name: string) {
      if (!name || name === '.' || name === '..' || /[/\\]/.test(name)) throw new TypeError(`Name is not allowed: ${name}`);
    }
    async getDirectoryHandle(name: string, o: { create?: boolean } = {}) {
      this.check(name);
      const c = this.children.get(name);
      if (c instanceof DirHandle) return c;
      if (c) throw dom('TypeMismatchError', `${name} is a file`);
      if (!o.create) throw dom('NotFoundError', `A requested file or directory could not be found: ${name}`);
      const d = new DirHandle(name);
      this.children.set(name, d);
      return d;
    }
    async getFileHandle(name: string, o: { create?: boolean } = {}) {
      this.check(name);
      const c = this.children.get(name);
      if (c instanceof FileHandle) return c;
      if (c) throw dom('TypeMismatchError', `${name} is a directory`);
      if (!o.create) throw dom('NotFoundError', `A requested file or directory could not be found: ${name}`);
      const f = new FileHandle(name, new FileData(), this);
      this.children.set(name, f);
      return f;
    }
    async removeEntry(name: string, o: { recursive?: boolean } = {}) {
      const c = this.children.get(name);
      if (!c) throw dom('NotFoundError', `A requested file or directory could not be found: ${name}`);
      if (c instanceof DirHandle && c.children.size && !o.recursive) throw dom('InvalidModificationError', 'not empty');
      const locked = (n: FileHandle | DirHandle): boolean => (n instanceof FileHandle ? n.file.locks > 0 : [...n.children.values()].some(locked));
      if (locked(c)) throw dom('NoModificationAllowedError', 'an access handle is open');
      this.children.delete(name);
    }
    async *entries(): AsyncIterableIterator<[string, FileHandle | DirHandle]> {
      for (const e of [...this.children]) yield e;
    }
  }

  const root = new DirHandle('');
  const walk = (d: DirHandle): number => [...d.children.values()].reduce((a, c) => a + (c instanceof DirHandle ? walk(c) : c.file.data.length), 0);
  fs.root = root as unknown as FileSystemDirectoryHandle;
  fs.used = () => walk(root) + [...pending].reduce((a, p) => a + p.size, 0);
  return fs;
}
