// Export formats: the zip writer (read back by parsing its central directory and checking each
// entry's CRC-32) and metrics as CSV / JSON Lines.
import { describe, it, expect } from 'vitest';
import { crc32, zip } from '../../../src/ui/export/zip';
import { metricsCsv, metricsJsonl } from '../../../src/store/metrics-export';
import type { RunView } from '../../../src/store/events';

async function unzip(blob: Blob): Promise<Map<string, Uint8Array>> {
  const b = new Uint8Array(await blob.arrayBuffer());
  const v = new DataView(b.buffer);
  const end = b.length - 22;
  expect(v.getUint32(end, true)).toBe(0x06054b50);
  const n = v.getUint16(end + 10, true);
  let p = v.getUint32(end + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    expect(v.getUint32(p, true)).toBe(0x02014b50);
    const crc = v.getUint32(p + 16, true);
    const size = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true);
    const local = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    const dataAt = local + 30 + v.getUint16(local + 26, true);
    const data = b.subarray(dataAt, dataAt + size);
    expect(crc32(data), name).toBe(crc);
    out.set(name, data);
    p += 46 + nameLen;
  }
  return out;
}

describe('exports', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('zips files with folders and UTF-8 names', async () => {
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
    const files = new Map<string, Uint8Array | string>([['train.py', 'print("hi")\n'], ['model/model.safetensors', bytes], ['데이터.jsonl', '{"a": 1}\n']]);
    const back = await unzip(zip(files));
    expect([...back.keys()]).toEqual([...files.keys()]);
    expect(new TextDecoder().decode(back.get('train.py'))).toBe('print("hi")\n');
    expect(back.get('model/model.safetensors')).toEqual(bytes);
  });

  it('writes metrics as CSV and JSON Lines with the run name', () => {
    const runs = [{ label: 'DPO, β=0.1', train: [{ step: 1, loss: 0.5 }, { step: 2, loss: 0.25 }], eval: [{ step: 2, eval_loss: 0.75 }] }] as unknown as RunView[];
    expect(metricsCsv(runs)).toBe('run,step,loss,eval_loss\n"DPO, β=0.1",1,0.5,\n"DPO, β=0.1",2,0.25,\n"DPO, β=0.1",2,,0.75\n');
    expect(metricsJsonl(runs).trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ run: 'DPO, β=0.1', step: 1, loss: 0.5 }, { run: 'DPO, β=0.1', step: 2, loss: 0.25 }, { run: 'DPO, β=0.1', step: 2, eval_loss: 0.75 }]);
  });
});
