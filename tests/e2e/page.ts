// Reading the page the way a user (or a screen reader) does: roles, labels, table captions.
import type { Page } from 'playwright-core';

/** A chart's data table (opened if closed): header row, then one row per step. */
export async function chartTable(page: Page, title: string): Promise<string[][]> {
  const table = page.getByRole('table', { name: `${title} data` });
  if (!(await table.count())) await page.getByText(`Data table: ${title}`, { exact: true }).click();
  return table.evaluate((el) => [...el.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
}

/** Column `header` of a chart table by step. */
export function column(rows: string[][], header: string): Map<number, number> {
  const j = rows[0].indexOf(header);
  if (j < 0) throw new Error(`no column "${header}" (columns: ${rows[0].join(' | ')})`);
  const out = new Map<number, number>();
  for (const r of rows.slice(1)) if (r[j] !== '') out.set(Number(r[0]), Number(r[j]));
  return out;
}

export async function runStep(page: Page, label: string): Promise<number> {
  return Number(await page.getByRole('progressbar', { name: `${label} progress` }).getAttribute('value'));
}

export async function runStatus(page: Page, label: string): Promise<string> {
  return (await page.getByRole('status', { name: `${label} status` }).textContent()) ?? '';
}

/** Polls until every run has reached `step` (or `done`), failing fast on a failed run. */
export async function waitForSteps(page: Page, labels: string[], step: number, timeoutMs: number, done = false): Promise<void> {
  const t0 = Date.now();
  // a run's row appears once the engine has taken the comparison, which a busy machine can delay
  // past a locator's default wait: absent rows are polled like the rest, within timeoutMs
  const state = async (l: string) => ((await page.getByRole('progressbar', { name: `${l} progress` }).count()) ? { step: await runStep(page, l), status: await runStatus(page, l) } : { step: -1, status: 'no row yet' });
  for (;;) {
    const states = await Promise.all(labels.map(state));
    const failed = states.find((s) => /^failed/.test(s.status));
    if (failed) throw new Error(`a run failed: ${failed.status} ${await page.getByRole('list', { name: 'Runs' }).textContent()}`);
    if (states.every((s) => s.step >= step && (!done || /^done/.test(s.status)))) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`runs did not reach step ${step} in ${timeoutMs / 1000} s: ${JSON.stringify(states)}; run controls: ${await page.getByRole('region', { name: 'Run controls' }).textContent()}; alerts: ${JSON.stringify(await page.getByRole('alert').allTextContents())}`);
    await page.waitForTimeout(250);
  }
}

/** Waits until the page's debounced saves to IndexedDB have all landed (`<html data-pending-saves>`,
 * src/store/persist.ts), so that a reload finds the latest state. The first wait lets a change
 * that was just made schedule its save. */
export async function waitForSaves(page: Page): Promise<void> {
  await page.waitForTimeout(100);
  await page.waitForFunction(() => (document.documentElement.dataset.pendingSaves ?? '0') === '0', undefined, { timeout: 30_000 });
}
