// Reads the page's zip downloads (stored entries, as src/ui/export/zip.ts writes them), checking
// every entry's CRC-32 against the central directory.
import { crc32 } from '../../src/ui/export/zip';

export function unzip(b: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const end = b.length - 22;
  if (v.getUint32(end, true) !== 0x06054b50) throw new Error('not a zip: no end-of-central-directory record');
  const n = v.getUint16(end + 10, true);
  let p = v.getUint32(end + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    if (v.getUint32(p, true) !== 0x02014b50) throw new Error(`zip: bad central directory entry ${i}`);
    const crc = v.getUint32(p + 16, true);
    const size = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const local = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    const at = local + 30 + v.getUint16(local + 26, true);
    const data = b.subarray(at, at + size);
    if (crc32(data) !== crc) throw new Error(`zip: CRC mismatch in ${name}`);
    out.set(name, data);
    p += 46 + nameLen;
  }
  return out;
}
