// Bad data through the page's real file input (no WebGPU needed: the data worker reads files):
// rows of mixed shapes keep their own fields, a row of another format is rejected with its
// field and reason, and a YAML alias bomb fails with one error that names the file.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openPage, screenshot, type Session } from './browser';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

const dir = mkdtempSync(join(tmpdir(), 'prefplay-bad-data-'));
function upload(page: Page, name: string, text: string): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, text);
  return page.getByLabel('Preference pairs file').setInputFiles(file);
}

/** The cells of a virtual table's body rows (the few rows here are all rendered). */
async function cells(page: Page, table: string): Promise<string[][]> {
  return page
    .getByRole('table', { name: table })
    .evaluate((el) => [...el.querySelectorAll('[role=row]')].slice(1).map((r) => [...r.querySelectorAll('[role=cell]')].map((c) => c.textContent ?? '')));
}

describe('bad data in the page', () => {
  it('mixed shapes keep their own fields; other formats are rejected by line and field; a YAML alias bomb names the file', async () => {
    const s = await openPage(baseUrl, { webgpu: false });
    sessions.push(s);
    const { page } = s;
    await page.getByRole('tab', { name: 'Data' }).waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    await page.getByRole('heading', { name: 'Data', level: 2 }).waitFor({ timeout: 60_000 });

    // an implicit first row, then a row with its own prompt: both accepted, the prompt kept
    await upload(page, 'mixed.jsonl', '{"chosen": "The sky is blue", "rejected": "The sky is green"}\n{"prompt": "Q: 2+2?", "chosen": "4", "rejected": "5"}\n');
    const preview = page.getByRole('table', { name: 'Preview of accepted pairs' });
    await preview.getByRole('row').filter({ hasText: 'Q: 2+2?' }).waitFor({ timeout: 30_000 });
    expect(await cells(page, 'Preview of accepted pairs')).toEqual([
      ['1', 'The sky is', ' blue', ' green'],
      ['2', 'Q: 2+2?', '4', '5'],
    ]);
    expect(await page.getByTestId('accepted-count').textContent()).toBe('2');
    expect(await page.getByTestId('rejected-count').textContent()).toBe('0');
    expect(await page.getByRole('group', { name: 'Validation report' }).textContent()).not.toMatch(/empty-prompt/);

    // orca and conversational rows in a standard file: rejected, naming the field
    await upload(
      page,
      'other-formats.jsonl',
      [
        '{"prompt": "p", "chosen": "a", "rejected": "b"}',
        '{"prompt": "p", "chosen": "a", "rejected": "c"}',
        '{"system": "Be brief.", "question": "2+2?", "chosen": "4", "rejected": "5"}',
        '{"prompt": "p", "system": "You are terse.", "chosen": "a", "rejected": "d"}',
      ].join('\n'),
    );
    const rejected = page.getByRole('table', { name: 'Rejected rows' });
    await rejected.getByRole('row').filter({ hasText: 'this row is orca' }).waitFor({ timeout: 30_000 });
    const rows = await cells(page, 'Rejected rows');
    expect(rows.map((r) => r.slice(0, 2))).toEqual([
      ['3', 'question'],
      ['4', 'system'],
    ]);
    expect(rows[0][2]).toMatch(/this row is orca .* but the file's format is standard/);
    expect(rows[1][2]).toMatch(/"system" would be ignored/);
    expect(await page.getByTestId('accepted-count').textContent()).toBe('2');

    // a billion-laughs YAML file: one error naming the file, no report
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`), 'pairs:', '  - prompt: *f', '    chosen: x', '    rejected: y', ''].join('\n');
    await upload(page, 'bomb.yaml', bomb);
    const alert = page.getByRole('alert').filter({ hasText: 'Could not read the data' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toMatch(/Could not read the data: bomb\.yaml: invalid YAML: its aliases expand to too much data/);
    expect(await page.getByRole('group', { name: 'Validation report' }).count()).toBe(0);
    await screenshot(page, 'bad-data-yaml-bomb');
    expect(s.consoleErrors).toEqual([]);
  });
});
