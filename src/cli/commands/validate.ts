// `validate --pairs FILE`: the JSON validation report of a preference-data file (docs/data-formats.md, README.md).
import type { Command } from '../command';
import { intOption } from '../command';
import { DEFAULT_MAX_REPORTED } from '../../data/types';
import { CANNOT_ENCODE } from '../../data/validate';
import { pairsOptions, pairsSetup, runPairs } from './pairs-common';

export const validate: Command = {
  name: 'validate',
  summary: 'Check a preference-data file and print a JSON report: accepted rows, every rejected row with its line, field and reason, warnings and truncation counts.',
  options: {
    ...pairsOptions,
    'max-reported': { type: 'string', valueName: 'N', description: `List at most N rejected rows and N warnings (counts stay exact)`, default: String(DEFAULT_MAX_REPORTED) },
  },
  details: [
    'Exit status: 0 when every row is accepted, 1 when any row is rejected (or none is accepted), 2 on unusable input',
    '  (bad options, a file that cannot be read as data at all: unknown syntax, a YAML alias bomb, …).',
    'Report fields: format, summary, syntax, rows, accepted, rejectedCount, rejected [{line, index, field, code, reason}],',
    '  truncated, truncation, warnings, warningCounts, omitted, tokens, bytes (formats when rows of one family mix).',
    'Example: npm run cli -- validate --pairs data/pairs.jsonl --max-length 256',
  ],
  async run(opts) {
    const setup = await pairsSetup(opts);
    const report = await runPairs(setup, {}, intOption(opts, 'max-reported', DEFAULT_MAX_REPORTED, 0));
    console.log(JSON.stringify(report, null, 2));
    if (report.rejectedCount > 0) {
      const first = report.rejected[0];
      const cause = report.summary.startsWith(CANNOT_ENCODE) ? `: ${report.summary}` : '';
      console.error(`${report.rejectedCount} of ${report.rows} rows rejected${cause}${first ? ` (first: line ${first.line}: ${first.reason})` : ''}`);
    } else if (report.accepted === 0) console.error('no rows in the file');
    return report.rejectedCount > 0 || report.accepted === 0 ? 1 : 0;
  },
};
