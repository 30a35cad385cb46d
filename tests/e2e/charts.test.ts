// Tier 3, the charts' comparison view: DPO vs ORPO on the built-in model and data for a few steps;
// the log-probs panel plots per-token averages for both runs by default (one scale: ORPO is no
// longer a flat line beside DPO's sums) and sums after its toggle, each with its axis title; hiding
// a run takes it out of every chart; a legend click highlights a run and dims the others; the hover
// draws one cursor line and writes values above the plots, with no tooltip over the curves.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { openPage, foreignRequests, type Session } from './browser';
import { chartTable, column, waitForSteps } from './page';

const baseUrl = inject('baseUrl');
const STEPS = 6;
const RUNS = ['DPO', 'ORPO'];
const LOGPS = 'Log-probs: chosen vs rejected';
const SHOTS = 'test-results/screenshots';

let s: Session;
beforeAll(async () => {
  s = await openPage(`${baseUrl}?steps=${STEPS}&bs=2&seed=3&eval=0.25&evalEvery=3`, { webgpu: true });
});
afterAll(async () => {
  await s?.browser.close();
});

const figure = (page: Page, title: string) => page.getByRole('figure', { name: `${title} chart` });

/** Every value of the columns named `${run} · ${series}` (train and eval), by run. */
function values(rows: string[][], series: string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const run of RUNS) {
    const vs: number[] = [];
    for (const sr of series) for (const name of [`${run} · ${sr}`, `${run} · eval ${sr}`]) vs.push(...column(rows, name).values());
    out.set(run, vs);
  }
  return out;
}

/** The curves drawn in a chart: stroke colour, opacity and width. */
async function curves(page: Page, title: string) {
  return figure(page, title)
    .locator('.chart-box path.recharts-curve')
    .evaluateAll((els) => els.map((e) => ({ stroke: e.getAttribute('stroke'), opacity: Number(e.getAttribute('stroke-opacity') ?? 1), width: Number(e.getAttribute('stroke-width')) })));
}

describe('charts', () => {
  it('puts every method on one log-prob scale, with sums on request, hiding and highlighting runs', async () => {
    const { page } = s;
    mkdirSync(SHOTS, { recursive: true });
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000, state: 'attached' });
    await page.getByTestId('model-name').waitFor({ timeout: 60_000, state: 'attached' });
    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, RUNS, STEPS, 240_000, true);
    await page.mouse.move(0, 0);
    const charts = page.getByRole('region', { name: 'Charts' });
    await charts.screenshot({ path: `${SHOTS}/charts-default.png` });

    // per-token averages for both runs, on an axis that says so
    const lp = figure(page, LOGPS);
    expect(await lp.locator('.recharts-label').allTextContents()).toEqual(expect.arrayContaining(['nats/token', 'step (updates)']));
    const avg = values(await chartTable(page, LOGPS), ['chosen', 'rejected']);
    for (const run of RUNS) {
      expect(avg.get(run)!.length, run).toBeGreaterThanOrEqual(2 * STEPS);
      for (const v of avg.get(run)!) {
        expect(v, `${run} per-token log-prob`).toBeGreaterThan(-20);
        expect(v, `${run} per-token log-prob`).toBeLessThan(0);
      }
    }
    // every chart has an axis title for x and y, a legend and a sentence on what to look for
    for (const title of ['Loss', LOGPS, 'Log-odds: chosen vs rejected', 'Margins: chosen − rejected', 'Reward accuracy', 'Grad norm', 'Tokens per second']) {
      expect((await figure(page, title).locator('.recharts-label').allTextContents()).length, title).toBe(2);
      expect(await figure(page, title).getByRole('group', { name: `${title} legend` }).getByRole('button').allTextContents(), title).toEqual(RUNS.map((r) => ` ${r}`));
      expect((await figure(page, title).locator('.chart-hint').textContent())!.length, title).toBeGreaterThan(40);
    }
    expect(await figure(page, 'Log-odds: chosen vs rejected').locator('.chart-hint').textContent()).toMatch(/DPO.*both answers usually fall while ORPO’s rise/);

    // sums on request: the same runs, each value ≤ its per-token average, some far below
    await lp.getByRole('radio', { name: 'sum' }).check();
    await expect.poll(() => lp.locator('.recharts-label').allTextContents()).toContain('nats per answer (sum)');
    const sum = values(await chartTable(page, LOGPS), ['chosen', 'rejected']);
    for (const run of RUNS) {
      const a = avg.get(run)!;
      const sm = sum.get(run)!;
      expect(sm.length).toBe(a.length);
      sm.forEach((v, i) => expect(v, `${run} sum vs average`).toBeLessThanOrEqual(a[i] + 1e-6));
      expect(Math.min(...sm), run).toBeLessThan(Math.min(...a) * 2);
    }
    await charts.screenshot({ path: `${SHOTS}/charts-sums.png` });
    await lp.getByRole('radio', { name: 'per token' }).check();
    await expect.poll(async () => column(await chartTable(page, LOGPS), 'DPO · chosen').get(1)).toBe(avg.get('DPO')![0]);

    // hiding a run removes it from every chart and its table
    const before = (await curves(page, LOGPS)).length;
    await page.getByRole('checkbox', { name: 'Show ORPO' }).uncheck();
    await expect.poll(async () => (await chartTable(page, LOGPS))[0]).not.toContain('ORPO · chosen');
    expect((await chartTable(page, LOGPS))[0]).toContain('DPO · chosen');
    expect((await curves(page, LOGPS)).length).toBe(before / 2);
    expect(await figure(page, 'Loss').getByRole('group', { name: 'Loss legend' }).getByRole('button').allTextContents()).toEqual([' DPO']);
    await charts.screenshot({ path: `${SHOTS}/charts-orpo-hidden.png` });
    await page.getByRole('checkbox', { name: 'Show ORPO' }).check();
    await expect.poll(async () => (await curves(page, LOGPS)).length).toBe(before);

    // a legend click highlights a run: the others are dimmed, it is drawn thicker and on top
    const legend = lp.getByRole('group', { name: `${LOGPS} legend` });
    await legend.getByRole('button', { name: 'ORPO' }).click();
    expect(await legend.getByRole('button', { name: 'ORPO' }).getAttribute('aria-pressed')).toBe('true');
    const lit = await curves(page, LOGPS);
    const orpoColor = lit.at(-1)!.stroke;
    expect(lit.filter((c) => c.opacity < 0.5).length).toBe(before / 2);
    expect(lit.filter((c) => c.opacity < 0.5).every((c) => c.stroke !== orpoColor)).toBe(true);
    expect(lit.filter((c) => c.stroke === orpoColor).every((c) => c.opacity === 1)).toBe(true);
    expect(Math.max(...lit.map((c) => c.width))).toBe(2.8);
    // the highlight holds in every chart
    expect((await curves(page, 'Loss')).filter((c) => c.opacity < 0.5).every((c) => c.stroke !== orpoColor)).toBe(true);

    // hover: one cursor line per chart, values above the plots, no tooltip box over the curves
    const box = (await lp.locator('.recharts-surface').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.45);
    await expect.poll(() => lp.getByTestId('chart-readout').textContent()).toMatch(/^step \d+.*DPO.*ORPO/);
    expect(await figure(page, 'Loss').getByTestId('chart-readout').textContent()).toMatch(/^step \d+/);
    const tips = await page.locator('.recharts-tooltip-wrapper').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    expect(tips.every((t) => t === '')).toBe(true);
    expect(await page.locator('.recharts-tooltip-cursor').count()).toBeGreaterThan(3);
    await charts.screenshot({ path: `${SHOTS}/charts-highlight-hover.png` });
    await legend.getByRole('button', { name: 'ORPO' }).click();
    expect((await curves(page, LOGPS)).every((c) => c.opacity === 1)).toBe(true);

    // loss divided by each run's first step starts at 1 for both
    await figure(page, 'Loss').getByRole('combobox', { name: 'Loss view' }).selectOption('normalised');
    const norm = await chartTable(page, 'Loss');
    for (const run of RUNS) expect(column(norm, `${run} · loss ÷ first`).get(1)).toBe(1);
    await page.mouse.move(0, 0);
    await charts.screenshot({ path: `${SHOTS}/charts-loss-normalised.png` });
    // or one small chart per run, each on its own scale, here on a log axis
    await figure(page, 'Loss').getByRole('combobox', { name: 'Loss view' }).selectOption('per-run');
    await figure(page, 'Loss').getByRole('checkbox', { name: 'Loss: log scale' }).check();
    await expect.poll(() => figure(page, 'Loss').locator('.chart-multiple h4').allTextContents()).toEqual(RUNS);
    expect(await figure(page, 'Loss').locator('.chart-multiple .recharts-surface').count()).toBe(2);
    await figure(page, 'Loss').screenshot({ path: `${SHOTS}/charts-loss-per-run.png` });

    // PNG: the chart's plots under its title and legend
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), figure(page, 'Loss').getByRole('button', { name: 'Save the Loss chart as PNG' }).click()]);
    expect(d.suggestedFilename()).toBe('prefplay-loss.png');
    const png = readFileSync((await d.path())!);
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThan(600); // width at 2×: two plots side by side

    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
