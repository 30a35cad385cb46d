// Rewrites the methods table (from the method registry) in README.md and docs/objectives.md.
import { readFile, writeFile } from 'node:fs/promises';
import { methodsTable, TABLE_END, TABLE_START } from '../src/train/objectives/table';

for (const file of ['README.md', 'docs/objectives.md']) {
  const text = await readFile(file, 'utf8');
  const a = text.indexOf(TABLE_START);
  const b = text.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`${file}: no methods-table markers`);
  await writeFile(file, text.slice(0, a) + methodsTable() + text.slice(b + TABLE_END.length));
  console.log(`${file}: methods table written`);
}
