// Reads the page's zip downloads back (fflate's reader; entries in archive order).
import { unzipSync } from 'fflate';

export function unzip(b: Uint8Array): Map<string, Uint8Array> {
  return new Map(Object.entries(unzipSync(b)));
}
