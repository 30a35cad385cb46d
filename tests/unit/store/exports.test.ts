// Export formats: the zip of a folder (read back with fflate, and tested by Info-ZIP's unzip, which
// checks every entry's CRC-32) and metrics as CSV / JSON Lines.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zip } from '../../../src/ui/export/zip';
import { metricsCsv, metricsJsonl } from '../../../src/store/metrics-export';
import type { RunView } from '../../../src/store/events';
import { unzip } from '../../e2e/unzip';

describe('exports', () => {
  it('zips files with folders and UTF-8 names', async () => {
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
    const files = new Map<string, Uint8Array | string>([['train.py', 'print("hi")\n'], ['model/model.safetensors', bytes], ['데이터.jsonl', '{"a": 1}\n']]);
    const back = unzip(new Uint8Array(await zip(files).arrayBuffer()));
    expect([...back.keys()]).toEqual([...files.keys()]);
    expect(new TextDecoder().decode(back.get('train.py'))).toBe('print("hi")\n');
    expect(back.get('model/model.safetensors')).toEqual(bytes);
    expect(new TextDecoder().decode(back.get('데이터.jsonl'))).toBe('{"a": 1}\n');
  });

  it('writes archives that Info-ZIP unzip reads, CRCs checked, weights stored', async () => {
    // scripts/setup-test-env.sh installs Debian's unzip; without it this test fails, it never skips
    if (!hasUnzip()) throw new Error('unzip not found: run `bash scripts/setup-test-env.sh` (installs Debian\'s unzip)');
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
    const text = '{"prompt": "2+2=", "chosen": "4", "rejected": "5"}\n'.repeat(500);
    const file = join(mkdtempSync(join(tmpdir(), 'prefplay-zip-')), 'out.zip');
    writeFileSync(file, new Uint8Array(await zip(new Map<string, Uint8Array | string>([['model/model.safetensors', bytes], ['data.jsonl', text]])).arrayBuffer()));
    expect(execFileSync('unzip', ['-tq', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
    const listing = execFileSync('unzip', ['-v', file], { encoding: 'utf8' });
    expect(listing).toMatch(/70000\s+Stored\s+70000 .*model\/model\.safetensors/);
    expect(listing).toMatch(/Defl:N .*data\.jsonl/);
    expect(execFileSync('unzip', ['-p', file, 'data.jsonl'], { encoding: 'utf8' })).toBe(text);
  });

  it('writes metrics as CSV and JSON Lines with the run name', () => {
    const runs = [{ label: 'DPO, β=0.1', train: [{ step: 1, loss: 0.5 }, { step: 2, loss: 0.25 }], eval: [{ step: 2, eval_loss: 0.75 }] }] as unknown as RunView[];
    expect(metricsCsv(runs)).toBe('run,step,loss,eval_loss\n"DPO, β=0.1",1,0.5,\n"DPO, β=0.1",2,0.25,\n"DPO, β=0.1",2,,0.75\n');
    expect(metricsJsonl(runs).trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ run: 'DPO, β=0.1', step: 1, loss: 0.5 }, { run: 'DPO, β=0.1', step: 2, loss: 0.25 }, { run: 'DPO, β=0.1', step: 2, eval_loss: 0.75 }]);
  });
});

function hasUnzip(): boolean {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
