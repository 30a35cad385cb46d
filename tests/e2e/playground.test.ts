// Tier 3, the product (README.md): upload a file through the real input, load a model folder, one
// click runs DPO vs ORPO on Chromium's WebGPU; the charts' data tables must equal the CLI's
// metrics.jsonl for the same file, model, settings and seed (Dawn in Node: same engine, another
// WebGPU implementation, so within 1e-3 relative); a reload restores the runs; no request leaves
// the page's origin.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { main } from '../../src/cli/main';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { unzip } from './unzip';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { makeFixtures, cliMetrics, type Fixtures } from './fixtures';
import { chartTable, column, runStep, waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const STEPS = 5;
const SEED = 7;
const QUERY = `?steps=${STEPS}&bs=2&seed=${SEED}&eval=0.25&evalEvery=${STEPS}`;
const CLI_ARGS = ['--steps', String(STEPS), '--batch-size', '2', '--seed', String(SEED), '--eval-fraction', '0.25', '--eval-every', String(STEPS)];
const RUNS = ['DPO', 'ORPO'];

/** [chart title, series label, metric]: what the page charts, against the CLI's names. */
const COMPARED: Array<[string, string, string]> = [
  ['Loss', 'loss', 'loss'],
  ['Log-probs: chosen vs rejected', 'chosen', 'logps_avg/chosen'],
  ['Log-probs: chosen vs rejected', 'rejected', 'logps_avg/rejected'],
  ['Log-odds: chosen vs rejected', 'chosen', 'log_odds/chosen'],
  ['Log-odds: chosen vs rejected', 'rejected', 'log_odds/rejected'],
  ['Margins: chosen − rejected', 'margin', 'margins_avg'],
  ['Reward accuracy', 'accuracy', 'rewards/accuracies'],
  ['NLL', 'NLL', 'nll_loss'],
  ['Grad norm', 'grad norm', 'grad_norm'],
];
const RTOL = 1e-3;
const ATOL = 1e-5; // the tables print six significant digits

let fx: Fixtures;

async function download(page: Page, button: string): Promise<Uint8Array> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: button, exact: true }).click()]);
  return new Uint8Array(readFileSync(await d.path()));
}

function unzipTo(bytes: Uint8Array, dir: string): string {
  for (const [name, data] of unzip(bytes)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
  return dir;
}
let cli: Promise<Record<string, Array<Record<string, number>>>>;
let s: Session;
let lossBefore: string[][];

beforeAll(async () => {
  fx = await makeFixtures();
  // The CLI trains in this process (Dawn + SwiftShader) while the browser trains on its own.
  cli = (async () => ({ DPO: await cliMetrics(fx, 'dpo', CLI_ARGS), ORPO: await cliMetrics(fx, 'orpo', CLI_ARGS) }))();
  cli.catch(() => undefined);
  s = await openPage(baseUrl + QUERY, { webgpu: true });
});
afterAll(async () => {
  await s?.browser.close();
});

describe('playground', () => {
  it('uploads pairs and a model, runs DPO vs ORPO, and charts the CLI’s numbers', async () => {
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    await page.getByLabel('Preference pairs file').setInputFiles(fx.pairs);
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('accepted-count').textContent()).toBe('10');
    expect(await page.getByTestId('rejected-count').textContent()).toBe('2');
    const rejected = (await page.getByRole('table', { name: 'Rejected rows' }).textContent()) ?? '';
    expect(rejected).toMatch(/4/);
    expect(rejected).toMatch(/9.*identical/i);
    expect(await page.getByRole('table', { name: 'Preview of accepted pairs' }).getByRole('row').count()).toBe(11);

    await openTab(page, 'Model');
    await page.getByLabel('Model files').setInputFiles(fx.modelFiles);
    await expect.poll(() => page.getByRole('group', { name: 'Model details' }).textContent(), { timeout: 30_000 }).toMatch(/35,744 parameters/);
    expect(await page.getByRole('group', { name: 'Model details' }).textContent()).toMatch(/byte-level/);

    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, RUNS, 2, 180_000);
    await page.mouse.move(0, 0); // no tooltip in the screenshot
    // mid-training: curves are visible for both runs
    expect(await page.locator('.recharts-line').count()).toBeGreaterThan(8);
    const charts = page.getByRole('region', { name: 'Charts' });
    mkdirSync('test-results/screenshots', { recursive: true });
    await charts.screenshot({ path: 'test-results/screenshots/playground-training.png' });
    await waitForSteps(page, RUNS, STEPS, 180_000, true);
    await screenshot(page, 'playground-done');

    const want = await cli;
    const checked: string[] = [];
    let worst = { rel: 0, what: '' };
    for (const [title, series, metric] of COMPARED) {
      const rows = await chartTable(page, title);
      for (const run of RUNS) {
        const cliTrain = want[run].filter((m) => !Object.keys(m).some((k) => k.startsWith('eval_')) && metric in m);
        const cliEval = want[run].filter((m) => `eval_${metric}` in m);
        if (!cliTrain.length) {
          expect(rows[0], `${run} has no ${metric}`).not.toContain(`${run} · ${series}`);
          continue;
        }
        const pairs: Array<[string, Map<number, number>, Array<Record<string, number>>, string]> = [[`${run} · ${series}`, column(rows, `${run} · ${series}`), cliTrain, metric]];
        if (title !== 'Grad norm') pairs.push([`${run} · eval ${series}`, column(rows, `${run} · eval ${series}`), cliEval, `eval_${metric}`]);
        for (const [name, got, rowsWant, key] of pairs) {
          expect([...got.keys()], name).toEqual(rowsWant.map((m) => m.step));
          for (const m of rowsWant) {
            const g = got.get(m.step)!;
            const w = m[key];
            expect(Math.abs(g - w), `${name} at step ${m.step}: page ${g}, CLI ${w}`).toBeLessThanOrEqual(RTOL * Math.abs(w) + ATOL);
            const rel = Math.abs(g - w) / Math.max(Math.abs(w), 1e-12);
            if (rel > worst.rel) worst = { rel, what: `${name} at step ${m.step}: page ${g}, CLI ${w}` };
          }
          checked.push(name);
        }
      }
    }
    console.log(`${checked.length} series compared with the CLI; largest relative difference ${worst.rel.toExponential(2)} (${worst.what})`);
    expect(checked).toContain('ORPO · NLL');
    expect(checked.length).toBeGreaterThanOrEqual(30);

    // the per-pair table has both runs' margins
    const pairs = page.getByRole('table', { name: /Per-pair margins/ });
    await expect.poll(() => pairs.getByRole('columnheader').allTextContents(), { timeout: 30_000 }).toEqual(expect.arrayContaining(['DPO margin', 'ORPO margin']));
    // samples before and after, through the ONNX export on onnxruntime-web (wasm)
    await page.getByRole('button', { name: 'Generate samples' }).click();
    const samples = page.getByRole('table', { name: /^Samples/ });
    await samples.waitFor({ timeout: 120_000 });
    expect(await samples.getByRole('columnheader').allTextContents()).toEqual(['Prompt', 'Before training', 'DPO (step 5)', 'ORPO (step 5)']);
    expect(await samples.getByRole('row').count()).toBe(1 + 3 + 1); // header, three held-out prompts, win rates
    expect(await samples.getByRole('row', { name: /^Judge’s win rate/ }).textContent()).toMatch(/^Judge’s win rate(\d+ % \(\d\/3\)){3}$/);
    expect(await page.getByText(/Judge “reference”/).count()).toBe(1);
    await openTab(page, 'Export');
    // exports: metrics, the trained model (the CLI's weights), the TRL experiment (the CLI's files)
    const csv = new TextDecoder().decode(await download(page, 'Metrics CSV'));
    expect(csv.split('\n')[0]).toMatch(/^run,step,loss,/);
    expect(csv.trim().split('\n').filter((l) => l.startsWith('DPO,'))).toHaveLength(STEPS + 1);
    const pageModel = await unzipTo(await download(page, 'DPO model (safetensors)'), join(fx.dir, 'page-dpo-model'));
    const [got, ref] = [await readCheckpointDir(pageModel), await readCheckpointDir(join(fx.dir, 'cli-dpo', 'model'))];
    expect(got.config).toEqual(ref.config);
    let worstParam = 0;
    for (const [name, w] of ref.params) {
      const g = got.params.get(name)!;
      w.forEach((x, i) => (worstParam = Math.max(worstParam, Math.abs(g[i] - x) / (1e-4 + Math.abs(x)))));
    }
    console.log(`DPO weights, page vs CLI: largest |Δ| / (1e-4 + |w|) = ${worstParam.toExponential(2)}`);
    expect(worstParam).toBeLessThan(1e-3);
    const trl = unzip(await download(page, 'ORPO TRL script'));
    expect(await main(['export-trl', '--run', join(fx.dir, 'cli-orpo'), '--out', join(fx.dir, 'cli-trl')])).toBe(0);
    for (const f of ['train.py', 'data.jsonl', 'eval.jsonl', 'requirements.txt', 'model/config.json', 'model/model.safetensors', 'model/tokenizer.json']) {
      expect(trl.has(f), f).toBe(true);
      expect(Buffer.from(trl.get(f)!).equals(readFileSync(join(fx.dir, 'cli-trl', f))), `${f} as the CLI's export-trl writes it`).toBe(true);
    }
    lossBefore = await chartTable(page, 'Loss');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('restores the runs, settings and data after a reload', async () => {
    const { page } = s;
    await page.reload();
    await expect.poll(() => page.getByRole('list', { name: 'Runs' }).textContent(), { timeout: 30_000 }).toMatch(/done · step 5\/5.*done · step 5\/5/);
    expect(await runStep(page, 'ORPO')).toBe(STEPS);
    await openTab(page, 'Data');
    expect(await page.getByTestId('accepted-count').textContent()).toBe('10');
    expect(await page.getByLabel('Steps', { exact: true }).inputValue()).toBe(String(STEPS));
    expect(new URL(page.url()).searchParams.get('runs')).toBe('dpo:sigmoid:0.1,orpo:0.1');
    await openTab(page, 'Model');
    await page.getByTestId('model-name').waitFor({ timeout: 30_000 });
    expect(await chartTable(page, 'Loss')).toEqual(lossBefore);
    await screenshot(page, 'playground-restored');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
