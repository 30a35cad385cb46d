// Export formats: the zip writer (read back through its central directory, every entry's CRC-32
// checked) and metrics as CSV / JSON Lines.
import { describe, it, expect } from 'vitest';
import { crc32, zip } from '../../../src/ui/export/zip';
import { metricsCsv, metricsJsonl } from '../../../src/store/metrics-export';
import type { RunView } from '../../../src/store/events';
import { unzip } from '../../e2e/unzip';

describe('exports', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('zips files with folders and UTF-8 names', async () => {
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
    const files = new Map<string, Uint8Array | string>([['train.py', 'print("hi")\n'], ['model/model.safetensors', bytes], ['데이터.jsonl', '{"a": 1}\n']]);
    const back = unzip(new Uint8Array(await zip(files).arrayBuffer()));
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
