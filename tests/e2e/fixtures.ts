// What the page tests train on: a tiny GPT-2 made by the CLI's `init`, and a pairs file with ten
// good rows and two bad ones (invalid JSON, chosen identical to rejected).
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

export const GOOD_ROWS = [
  { prompt: '2+3=', chosen: '5', rejected: '6' },
  { prompt: '1+1=', chosen: '2', rejected: '3' },
  { prompt: '4+4=', chosen: '8', rejected: '9' },
  { prompt: 'Capital of France?', chosen: ' Paris', rejected: ' Lyon' },
  { prompt: '서울은', chosen: ' 수도', rejected: ' 바다' },
  { prompt: '7+2=', chosen: '9', rejected: '8' },
  { prompt: 'Say hi', chosen: ' hi 🙂', rejected: ' no' },
  { prompt: '3+3=', chosen: '6', rejected: '7' },
  { prompt: 'Le chat est', chosen: ' noir', rejected: ' table' },
  { prompt: '9-4=', chosen: '5', rejected: '4' },
];

export interface Fixtures {
  dir: string;
  pairs: string;
  model: string;
  modelFiles: string[];
}

/** Lines 4 (invalid JSON) and 9 (identical answers) are rejected. */
export async function makeFixtures(seed = 11): Promise<Fixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'prefplay-e2e-'));
  const lines = GOOD_ROWS.map((r) => JSON.stringify(r));
  lines.splice(3, 0, '{"prompt": "broken", "chosen": ');
  lines.splice(8, 0, JSON.stringify({ prompt: 'same', chosen: ' x', rejected: ' x' }));
  const pairs = join(dir, 'pairs.jsonl');
  writeFileSync(pairs, lines.join('\n') + '\n');
  const model = join(dir, 'tiny');
  if ((await main(['init', '--preset', 'tiny', '--seed', String(seed), '--out', model])) !== 0) throw new Error('cli init failed');
  return { dir, pairs, model, modelFiles: readdirSync(model).map((f) => join(model, f)) };
}

/** The CLI's metrics.jsonl rows for one method, trained on the same file, model and settings. */
export async function cliMetrics(f: Fixtures, method: 'dpo' | 'orpo', args: string[]): Promise<Array<Record<string, number>>> {
  const out = join(f.dir, `cli-${method}`);
  const code = await main(['train', '--model', f.model, '--pairs', f.pairs, '--method', method, ...args, '--out', out, '--quiet']);
  if (code !== 0) throw new Error(`cli train ${method} exited ${code}`);
  const { readFileSync } = await import('node:fs');
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}
