// README.md and docs/objectives.md show the methods table exactly as the registry writes it
// (after adding a method or option: npm run docs:methods).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { methodsTable } from '../../../src/train/objectives/table';
import { METHOD_DESCRIPTORS } from '../../../src/train/objectives';

describe('methods table', () => {
  it.each(['README.md', 'docs/objectives.md'])('%s holds the registry table', (file) => {
    expect(readFileSync(file, 'utf8')).toContain(methodsTable());
  });

  it('has a row per method and names every CLI flag', () => {
    const t = methodsTable();
    for (const d of METHOD_DESCRIPTORS) {
      expect(t).toContain(`| \`${d.name}\` |`);
      for (const o of d.options) expect(t).toContain(`\`--${o.cli}\``);
    }
  });
});
