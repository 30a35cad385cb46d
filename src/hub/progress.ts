// Download progress as text: the CLI's stderr lines and, later, the page's progress label. Pure.
import type { DownloadProgress } from './snapshot';

/** 1536 → "1.5 KB", 45_600_000 → "45.6 MB" (decimal units, as the Hub shows sizes). */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  let v = n;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

/** "model-00002-of-00003.safetensors (4 of 8 files): 12.3 MB / 45.6 MB (27 %), 4.50 MB/s". */
export function downloadProgressText(p: DownloadProgress): string {
  const size = p.total !== null ? `${formatBytes(p.done)} / ${formatBytes(p.total)} (${p.total ? Math.floor((100 * p.done) / p.total) : 100} %)` : formatBytes(p.done);
  return `${p.file} (${p.fileIndex} of ${p.fileCount} files): ${size}, ${formatBytes(Math.round(p.bytesPerSecond))}/s`;
}
