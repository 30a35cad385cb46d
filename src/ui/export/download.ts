// Saving files from the page: one file by download, a folder by the File System Access API
// where the browser has it (else one zip download).
import { zip } from './zip';

export function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

type DirHandle = { getDirectoryHandle(n: string, o: { create: boolean }): Promise<DirHandle>; getFileHandle(n: string, o: { create: boolean }): Promise<{ createWritable(): Promise<{ write(b: Blob | Uint8Array | string): Promise<void>; close(): Promise<void> }> }> };

/** Files by path ("model/config.json"): into a folder the user picks, or as `${name}.zip`. */
export async function saveFolder(name: string, files: ReadonlyMap<string, Uint8Array | string>): Promise<'folder' | 'zip'> {
  const pick = (window as unknown as { showDirectoryPicker?: (o: object) => Promise<DirHandle> }).showDirectoryPicker;
  if (pick) {
    let root: DirHandle;
    try {
      root = await pick({ mode: 'readwrite', id: 'prefplay-export' });
    } catch {
      downloadBlob(zip(files), `${name}.zip`); // the user closed the picker: fall back to a download
      return 'zip';
    }
    const dir = await root.getDirectoryHandle(name, { create: true });
    for (const [path, data] of files) {
      const parts = path.split('/');
      let d = dir;
      for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
      const w = await (await d.getFileHandle(parts.at(-1)!, { create: true })).createWritable();
      await w.write(typeof data === 'string' ? data : new Blob([data as Uint8Array<ArrayBuffer>]));
      await w.close();
    }
    return 'folder';
  }
  downloadBlob(zip(files), `${name}.zip`);
  return 'zip';
}
