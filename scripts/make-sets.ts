// `npx tsx scripts/make-sets.ts [OUT_DIR]`: writes the built-in preference sets
// (src/pretrain/sets.ts) as JSONL, default into public/data/. Deterministic.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILTIN_SETS, toJsonl } from '../src/pretrain/sets';

const out = process.argv[2] ?? 'public/data';
await mkdir(out, { recursive: true });
for (const set of BUILTIN_SETS) {
  const rows = set.rows();
  await writeFile(join(out, set.file), toJsonl(rows));
  console.log(`${join(out, set.file)}: ${rows.length} pairs — ${set.description}`);
}
