// Saving files from the page: one file, or a folder as one zip (works in every browser).
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

/** Files by path ("model/config.json") as one `${name}.zip` download. */
export function saveFolder(name: string, files: ReadonlyMap<string, Uint8Array | string>): void {
  downloadBlob(zip(files), `${name}.zip`);
}
