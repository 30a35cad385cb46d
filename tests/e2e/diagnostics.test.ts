// Tier 3, the diagnostics (README.md, "Diagnostics"): a short DPO vs ORPO comparison on the built-in
// model and arithmetic set shows, per run, the likelihood-displacement chart (chosen, rejected and
// margin with 10–90 % bands), the margins-across-pairs chart, the per-token strips of a picked pair
// and CHES in the per-pair table; the strips' values equal the CLI's `logps --per-token` for that
// pair, on the built-in model (start) and on the run's exported weights (now). Screenshots of each
// view go to test-results/screenshots/diagnostics-*.png.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { main } from '../../src/cli/main';
import { openPage, foreignRequests, type Session } from './browser';
import { waitForSteps } from './page';
import { openTab } from './tabs';
import { unzip } from './unzip';

const baseUrl = inject('baseUrl');
const STEPS = 16;
const RUNS = ['DPO', 'ORPO'];
const SHOTS = 'test-results/screenshots';
const dir = mkdtempSync(join(tmpdir(), 'prefplay-diag-e2e-'));

let s: Session;
beforeAll(async () => {
  s = await openPage(`${baseUrl}?steps=${STEPS}&bs=4&lr=0.002&seed=1&eval=0.1&evalEvery=4&data=politeness`, { webgpu: true });
});
afterAll(async () => {
  await s?.browser.close();
});

const region = (page: Page, name: string | RegExp) => page.getByRole('region', { name });

/** The strip's tokens: text, current and start log-prob. */
async function strip(page: Page, label: string) {
  return page
    .getByRole('group', { name: label, exact: true })
    .locator('.tok')
    .evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', now: Number(e.getAttribute('data-logp')), start: Number(e.getAttribute('data-start')) })));
}

async function logps(model: string, line: string, name: string): Promise<{ chosen: number[]; rejected: number[] }> {
  const pairs = join(dir, `${name}.jsonl`);
  writeFileSync(pairs, line + '\n');
  const out = join(dir, `${name}-logps.jsonl`);
  expect(await main(['logps', '--model', model, '--pairs', pairs, '--out', out, '--per-token', '--quiet'])).toBe(0);
  const r = JSON.parse(readFileSync(out, 'utf8').trim());
  return { chosen: r.chosen_token_logps, rejected: r.rejected_token_logps };
}

function expectNear(got: number[], want: number[], what: string) {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `${what} token ${i}: page ${g}, CLI ${want[i]}`).toBeLessThanOrEqual(1e-3 * Math.abs(want[i]) + 1e-4));
}

describe('diagnostics', () => {
  it('shows displacement, margins across pairs, per-token strips equal to logps --per-token, and CHES', async () => {
    const { page } = s;
    mkdirSync(SHOTS, { recursive: true });
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000, state: 'attached' });
    await page.getByTestId('model-name').waitFor({ timeout: 60_000, state: 'attached' });
    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, RUNS, STEPS, 300_000, true);
    await page.mouse.move(0, 0);

    const diag = region(page, /^Diagnostics/);
    await diag.waitFor();
    expect(await diag.textContent()).toMatch(/32 tracked training pairs, scored every update/);
    await region(page, 'Likelihood displacement').screenshot({ path: `${SHOTS}/diagnostics-displacement.png` });
    await region(page, 'Margins across pairs').screenshot({ path: `${SHOTS}/diagnostics-distribution.png` });
    for (const run of RUNS) {
      const fig = page.getByRole('figure', { name: `Likelihood displacement: ${run} chart` });
      // bands (areas) and the chosen, rejected and margin lines
      expect(await fig.locator('.recharts-area').count(), run).toBe(2);
      expect(await fig.locator('.recharts-line').count(), run).toBe(3);
      await page.getByText(`Data table: Likelihood displacement: ${run}`, { exact: true }).click();
      const rows = await fig.getByRole('table').evaluate((el) => [...el.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent ?? '')));
      expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(Array.from({ length: STEPS + 1 }, (_, i) => i));
      expect(rows[1].slice(1).map(Number)).toEqual([0, 0, 0, 0, 0, 0, 0]);
      const dist = page.getByRole('figure', { name: `Margins across pairs: ${run} chart` });
      expect(await dist.locator('.recharts-area').count(), run).toBe(2);
    }
    // each pair on request: 32 chosen and 32 rejected lines under the means
    await page.getByRole('checkbox', { name: 'each pair' }).check();
    await expect.poll(() => page.getByRole('figure', { name: 'Likelihood displacement: DPO chart' }).locator('.recharts-line').count()).toBe(3 + 64);
    await region(page, 'Likelihood displacement').screenshot({ path: `${SHOTS}/diagnostics-displacement-pairs.png` });
    await page.getByRole('checkbox', { name: 'each pair' }).uncheck();
    const notes = await diag.getByRole('note').allTextContents();
    console.log(`diagnostics notes: ${JSON.stringify(notes)}`);
    // ORPO has no reference: its rewards are β·A, negative by construction, which the page says
    expect(notes).toContainEqual(expect.stringMatching(/^ORPO: its rewards\/chosen and rewards\/rejected are β × the average log-prob/));

    // per-token strips of an English pair (the headless browser has no Korean font), every run side by side; hover gives the values
    const picker = page.getByLabel('Pair for the per-token view');
    const options = await picker.locator('option').allTextContents();
    await picker.selectOption({ index: Math.max(0, options.findIndex((o, i) => i > 0 && /^line \d+: Q: Can you/.test(o))) });
    const option = (await picker.locator('option:checked').textContent()) ?? '';
    const line = Number(/^line (\d+)/.exec(option)?.[1]);
    expect(line).toBeGreaterThan(0);
    const dpoChosen = await strip(page, 'DPO chosen tokens');
    const dpoRejected = await strip(page, 'DPO rejected tokens');
    expect(dpoChosen.length).toBeGreaterThan(0);
    const tokens = region(page, 'Per-token view');
    await tokens.getByRole('group', { name: 'DPO chosen tokens', exact: true }).locator('.tok').nth(2).hover();
    expect(await tokens.locator('.token-readout').textContent()).toMatch(/^DPO, chosen: “.*” log-prob -?\d+\.\d{3} now, -?\d+\.\d{3} at the start \(Δ [+-]\d+\.\d{3}\)$/);
    await tokens.screenshot({ path: `${SHOTS}/diagnostics-tokens.png` });

    // the strips' numbers are logps --per-token for that pair: start on the built-in model, now on the run's weights
    const row = readFileSync('public/data/politeness.jsonl', 'utf8').split('\n')[line - 1];
    const start = await logps('builtin', row, 'start');
    expectNear(dpoChosen.map((t) => t.start), start.chosen, 'start chosen');
    expectNear(dpoRejected.map((t) => t.start), start.rejected, 'start rejected');
    await openTab(page, 'Export');
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: 'DPO model (safetensors)', exact: true }).click()]);
    const folder = join(dir, 'dpo-model');
    for (const [name, data] of unzip(new Uint8Array(readFileSync(await d.path())))) {
      mkdirSync(dirname(join(folder, name)), { recursive: true });
      writeFileSync(join(folder, name), data);
    }
    const now = await logps(folder, row, 'now');
    expectNear(dpoChosen.map((t) => t.now), now.chosen, 'DPO chosen now');
    expectNear(dpoRejected.map((t) => t.now), now.rejected, 'DPO rejected now');

    // CHES beside the per-pair margins, with whether the chosen log-prob fell
    const table = page.getByRole('table', { name: /Per-pair margins/ });
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(expect.arrayContaining(['CHES', 'DPO margin', 'ORPO margin']));
    expect(await page.getByRole('list', { name: 'CHES and chosen log-prob' }).textContent()).toMatch(/DPO: chosen log-prob fell on \d+ of the \d+ pairs with the highest CHES and \d+ of the \d+ with the lowest/);
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 2200, height: viewport?.height ?? 900 }); // the whole table in view
    await page.mouse.move(0, 0);
    await page.getByRole('region', { name: 'Per-pair margins' }).screenshot({ path: `${SHOTS}/diagnostics-ches.png` });
    if (viewport) await page.setViewportSize(viewport);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  }, 480_000); // about 4 minutes on SwiftShader: two runs scoring 32 tracked pairs after every update
});
