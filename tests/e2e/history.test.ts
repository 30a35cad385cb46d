// Tier 3, runs that persist (README.md, "The page"): two successive Starts on the built-in model
// and data (DPO β = 0.1, then β = 0.5) both land in the runs table, named by the settings that
// differ; ticking the first comparison's DPO draws it in the charts next to the current runs; the
// history survives a reload; a card is locked while its run trains. Then a file with long answers:
// the preview shows what the model reads (cut prompt "…" first, cut answer "…" last) and the
// report says how much of each answer survives.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { chartTable, waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const STEPS = 3;
let s: Session | null = null;
afterAll(async () => {
  await s?.browser.close();
});

/** The runs table's rows: [run name, comparison, status, …] (header row first). */
async function runsTable(page: Page): Promise<string[][]> {
  return page.getByRole('table', { name: 'Runs table' }).evaluate((el) => [...el.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));
}

const names = (rows: string[][]) => rows.slice(1).map((r) => r[1]);

async function start(page: Page): Promise<void> {
  await page.getByRole('button', { name: /^Start/ }).first().click();
}

describe('runs history', () => {
  it('keeps both comparisons in the runs table, overlays a ticked run on the charts, and survives a reload', async () => {
    s = await openPage(`${baseUrl}?steps=${STEPS}&bs=2&seed=3&eval=0.25&evalEvery=${STEPS}&ckpt=1`, { webgpu: true });
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    await page.getByTestId('accepted-count').waitFor({ timeout: 60_000 });
    await openTab(page, 'Model');
    await page.getByTestId('model-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Methods');
    const beta = page.getByLabel('DPO β', { exact: true });
    expect(await beta.inputValue()).toBe('0.1');

    await start(page);
    // the card is what its run trains with: locked until the run ends
    await page.getByTestId('card-locked').first().waitFor({ timeout: 60_000 });
    expect(await beta.isDisabled()).toBe(true);
    await page.getByRole('region', { name: 'Methods' }).screenshot({ path: 'test-results/screenshots/history-card-locked.png' });
    await waitForSteps(page, ['DPO', 'ORPO'], STEPS, 240_000, true);
    await expect.poll(() => beta.isDisabled(), { timeout: 10_000 }).toBe(false);

    await beta.fill('0.5');
    await start(page);
    await waitForSteps(page, ['DPO', 'ORPO'], STEPS, 240_000, true);

    // both comparisons' runs, named by what differs (the two ORPO runs only by their comparison)
    await expect.poll(async () => names(await runsTable(page)), { timeout: 10_000 }).toEqual(['DPO β=0.5', 'ORPO #2', 'DPO β=0.1', 'ORPO #1']);
    const rows = await runsTable(page);
    expect(rows[1][2]).toMatch(/#2 \(current\)/);
    expect(rows[3][2]).toBe('#1');
    expect(rows[3][3]).toBe(`done · ${STEPS}/${STEPS}`);
    expect(rows[0]).toEqual(expect.arrayContaining(['loss', 'accuracy', 'margin', 'eval loss']));
    expect(rows[3][rows[0].indexOf('loss')]).toMatch(/^\d/);

    // before ticking: only the current runs in the charts
    const before = await chartTable(page, 'Loss');
    expect(before[0].filter((h) => /· loss$/.test(h))).toEqual(['DPO · loss', 'ORPO · loss']);
    await page.getByRole('checkbox', { name: 'Draw DPO β=0.1 on the charts', exact: true }).check();
    const after = await chartTable(page, 'Loss');
    expect(after[0].filter((h) => /· loss$/.test(h))).toEqual(['DPO β=0.5 · loss', 'ORPO · loss', 'DPO β=0.1 · loss']);
    const col = after[0].indexOf('DPO β=0.1 · loss');
    expect(after.slice(1).filter((r) => r[col] !== '').map((r) => Number(r[0]))).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    await page.mouse.move(0, 0);
    await screenshot(page, 'history-overlay');
    await page.getByRole('region', { name: 'Charts' }).getByRole('table', { name: 'Runs table' }).screenshot({ path: 'test-results/screenshots/history-runs-table.png' });

    await page.reload();
    await expect.poll(async () => names(await runsTable(page).catch(() => [[]])), { timeout: 30_000 }).toEqual(['DPO β=0.5', 'ORPO #2', 'DPO β=0.1', 'ORPO #1']);
    expect(await page.getByRole('checkbox', { name: 'Draw DPO β=0.1 on the charts', exact: true }).isChecked()).toBe(true);
    const restored = await chartTable(page, 'Loss');
    expect(restored[0]).toContain('DPO β=0.1 · loss');

    // delete a history run
    await page.getByRole('button', { name: 'Delete ORPO #1 from the history', exact: true }).click();
    await expect.poll(async () => names(await runsTable(page)), { timeout: 10_000 }).toEqual(['DPO β=0.5', 'ORPO', 'DPO β=0.1']);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('shows what the model reads of a long pair and how much of the answers survives', async () => {
    const { page } = s!;
    const dir = mkdtempSync(join(tmpdir(), 'prefplay-history-'));
    const file = join(dir, 'long-answers.jsonl');
    const long = (w: string) => Array.from({ length: 40 }, (_, i) => `${w} ${i}`).join(' ');
    writeFileSync(
      file,
      [
        { prompt: `${long('context')} Question: what is 2+2?`, chosen: `The answer is 4. ${long('because')}`, rejected: `The answer is 5. ${long('since')}` },
        { prompt: 'Say hi.', chosen: 'Hi!', rejected: 'No.' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    await openTab(page, 'Data');
    await page.getByLabel('Preference pairs file').setInputFiles(file);
    const preview = page.getByRole('table', { name: 'Preview of accepted pairs' });
    await preview.getByRole('row').filter({ hasText: 'Say hi.' }).waitFor({ timeout: 30_000 });
    const cut = preview.getByRole('row').filter({ hasText: 'what is 2+2?' });
    // the prompt keeps its end (the question), marked with a leading "…"; the answers their start
    const prompt = cut.locator('[data-cut=start]');
    expect(await prompt.textContent()).toMatch(/^….*Question: what is 2\+2\?$/);
    expect(await prompt.locator('mark.kept').textContent()).not.toMatch(/^context 0 /);
    const answers = cut.locator('[data-cut=end]');
    expect(await answers.count()).toBe(2);
    expect(await answers.first().textContent()).toMatch(/^The answer is 4\. .*…$/);
    expect(await answers.first().getAttribute('title')).toMatch(/^chosen: the model reads the first \d+ of \d+ tokens/);
    // the short pair is shown whole, unmarked
    expect(await preview.getByRole('row').filter({ hasText: 'Say hi.' }).locator('[data-cut]').count()).toBe(0);
    const summary = (await page.getByTestId('truncation-summary').textContent()) ?? '';
    expect(summary).toMatch(/the model sees on average \d+ % of each answer \(\d+ of \d+ tokens\); 2 of 4 answers are cut/);
    expect(summary).toMatch(/What helps: .*longer context.*shorter answers/);
    await page.getByRole('region', { name: 'Data' }).screenshot({ path: 'test-results/screenshots/history-truncation.png' });
    expect(s!.consoleErrors).toEqual([]);
  });
});
