// `export-pairs --pairs FILE --out FILE.jsonl`: the accepted rows as TRL-ready JSON Lines.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from '../command';
import { requireString, UsageError } from '../command';
import { trlJsonlLine } from '../../data/export';
import { CANNOT_ENCODE } from '../../data/validate';
import { pairsOptions, pairsSetup, runPairs } from './pairs-common';

export const exportPairs: Command = {
  name: 'export-pairs',
  summary: 'Write the accepted rows of a preference-data file as TRL-ready JSONL (prompt/chosen/rejected strings, or message lists for conversational data; prompt/completion/label for KTO).',
  options: {
    ...pairsOptions,
    out: { type: 'string', valueName: 'FILE.jsonl', description: 'Output file' },
  },
  details: ['Rejected rows are left out and counted; run `validate` for their lines and reasons.', 'Example: npm run cli -- export-pairs --pairs pairs.csv --out pairs.trl.jsonl'],
  async run(opts) {
    const setup = await pairsSetup(opts);
    const outPath = requireString(opts, 'out');
    const out = createWriteStream(outPath);
    const failed = once(out, 'error').then(([e]) => {
      throw new UsageError(`--out ${outPath}: ${(e as Error).message}`, { cause: e });
    });
    let buf: string[] = [];
    const flush = async () => {
      if (!buf.length) return;
      const text = buf.join('');
      buf = [];
      if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
    };
    const report = await Promise.race([runPairs(setup, { onExample: (ex) => void buf.push(trlJsonlLine(ex)), afterChunk: flush }, 0), failed]);
    await flush();
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    const what = report.format === 'kto' ? 'example(s)' : 'pair(s)';
    console.log(`wrote ${report.accepted} ${what} to ${outPath}${report.rejectedCount ? `; ${report.rejectedCount} row(s) rejected (run validate for the list)` : ''}`);
    if (report.summary.startsWith(CANNOT_ENCODE)) console.error(`${setup.path}: ${report.summary}`);
    return report.accepted === 0 ? 1 : 0;
  },
};
