// A Llama-family model in the page (issue: real small models): a sharded Qwen2-layout folder
// (q/k/v biases, one key/value head, untied head) with a ChatML chat template and its own
// special tokens, picked through the real file input, trains DPO vs ORPO on conversational pairs.
// The charts equal the CLI's metrics.jsonl for the same folder, file, settings and seed; the
// exported model is a Qwen2 folder with the CLI's weights; samples come from the Llama ONNX
// export on onnxruntime-web; a fresh random Llama model is offered too.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { main } from '../../src/cli/main';
import { readLlamaCheckpointDir } from '../../src/model/llama-checkpoint-node';
import { writeChatModel } from '../helpers/chat-model';
import { unzip } from './unzip';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { chartTable, column, waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const STEPS = 4;
const SEED = 5;
const QUERY = `?steps=${STEPS}&bs=2&seed=${SEED}&eval=0.25&evalEvery=${STEPS}`;
const CLI_ARGS = ['--steps', String(STEPS), '--batch-size', '2', '--seed', String(SEED), '--eval-fraction', '0.25', '--eval-every', String(STEPS)];
const RUNS = ['DPO', 'ORPO'];
const COMPARED: Array<[string, string, string]> = [
  ['Loss', 'loss', 'loss'],
  ['Log-probs: chosen vs rejected', 'chosen', 'logps_avg/chosen'],
  ['Log-probs: chosen vs rejected', 'rejected', 'logps_avg/rejected'],
  ['Margins: chosen − rejected', 'margin', 'margins_avg'],
  ['NLL', 'NLL', 'nll_loss'],
];
const RTOL = 1e-3;
const ATOL = 1e-5;

const QA: Array<[string, string, string]> = [
  ['2+3=?', '5', '6'],
  ['Capital of France?', 'Paris', 'Lyon'],
  ['서울은?', '수도', '바다'],
  ['Say hi', 'hi 🙂', 'no'],
  ['4+4=?', '8', '9'],
  ['Le chat est', 'noir', 'table'],
  ['7-2=?', '5', '4'],
  ['Color of the sky?', 'blue', 'green'],
];

let dir: string;
let model: { dir: string; files: string[] };
let pairs: string;
let s: Session;

async function download(page: Page, button: string): Promise<Uint8Array> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: button, exact: true }).click()]);
  return new Uint8Array(readFileSync(await d.path()));
}

async function cliMetrics(method: string): Promise<Array<Record<string, number>>> {
  const out = join(dir, `cli-${method}`);
  const code = await main(['train', '--model', model.dir, '--pairs', pairs, '--method', method, ...CLI_ARGS, '--out', out, '--quiet']);
  if (code !== 0) throw new Error(`cli train ${method} exited ${code}`);
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

let cli: Promise<Record<string, Array<Record<string, number>>>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prefplay-llama-e2e-'));
  model = writeChatModel(join(dir, 'qwen-chat'), 'qwen-tiny', 9, 20_000);
  pairs = join(dir, 'chat-pairs.jsonl');
  writeFileSync(pairs, QA.map(([q, c, r]) => JSON.stringify({ prompt: [{ role: 'user', content: q }], chosen: [{ role: 'assistant', content: c }], rejected: [{ role: 'assistant', content: r }] })).join('\n') + '\n');
  cli = (async () => ({ DPO: await cliMetrics('dpo'), ORPO: await cliMetrics('orpo') }))();
  cli.catch(() => undefined);
  s = await openPage(baseUrl + QUERY, { webgpu: true });
});
afterAll(async () => {
  await s?.browser.close();
});

describe('Llama-family model in the page', () => {
  it('loads a sharded Qwen2 folder with a chat template and trains DPO vs ORPO to the CLI’s numbers', async () => {
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    await page.getByLabel('Preference pairs file').setInputFiles(pairs);
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('accepted-count').textContent()).toBe(String(QA.length));

    await openTab(page, 'Model');
    expect(model.files.some((f) => f.endsWith('model.safetensors.index.json'))).toBe(true);
    await page.getByLabel('Model files').setInputFiles(model.files);
    const details = page.getByRole('group', { name: 'Model details' });
    await expect.poll(() => details.textContent(), { timeout: 30_000 }).toMatch(/qwen2/);
    const text = (await details.textContent()) ?? '';
    expect(text).toMatch(/2 · 4 \(1 key\/value\) · 32/);
    expect(text).toMatch(/Hugging Face BPE/);
    await openTab(page, 'Data');
    // the chat template renders the prompts: the preview shows ChatML markers
    await expect.poll(() => page.getByRole('table', { name: 'Preview of accepted pairs' }).textContent(), { timeout: 30_000 }).toMatch(/<\|im_start\|>assistant/);

    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, RUNS, STEPS, 240_000, true);
    await page.mouse.move(0, 0);
    await screenshot(page, 'llama-done');

    const want = await cli;
    let compared = 0;
    for (const [title, series, metric] of COMPARED) {
      const rows = await chartTable(page, title);
      for (const run of RUNS) {
        const cliTrain = want[run].filter((m) => !Object.keys(m).some((k) => k.startsWith('eval_')) && metric in m);
        if (!cliTrain.length) continue;
        const got = column(rows, `${run} · ${series}`);
        expect([...got.keys()], `${run} ${metric}`).toEqual(cliTrain.map((m) => m.step));
        for (const m of cliTrain) {
          const g = got.get(m.step)!;
          expect(Math.abs(g - m[metric]), `${run} ${metric} at step ${m.step}: page ${g}, CLI ${m[metric]}`).toBeLessThanOrEqual(RTOL * Math.abs(m[metric]) + ATOL);
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(9);

    // samples through the Llama ONNX export on onnxruntime-web
    await page.getByRole('button', { name: 'Generate samples' }).click();
    const samples = page.getByRole('table', { name: /^Samples/ });
    await samples.waitFor({ timeout: 120_000 });
    expect(await samples.getByRole('columnheader').allTextContents()).toEqual(['Prompt', 'Before training', `DPO (step ${STEPS})`, `ORPO (step ${STEPS})`]);

    // the trained model exports as a Qwen2 folder holding the CLI's weights
    await openTab(page, 'Export');
    const out = join(dir, 'page-orpo-model');
    for (const [name, data] of unzip(await download(page, 'ORPO model (safetensors)'))) {
      mkdirSync(dirname(join(out, name)), { recursive: true });
      writeFileSync(join(out, name), data);
    }
    const [got, ref] = [await readLlamaCheckpointDir(out), await readLlamaCheckpointDir(join(dir, 'cli-orpo', 'model'))];
    expect(got.config).toEqual(ref.config);
    expect(got.config.family).toBe('qwen2');
    expect(got.tokenizer.chatTemplate).toBe(ref.tokenizer.chatTemplate);
    let worst = 0;
    for (const [name, w] of ref.params) {
      const g = got.params.get(name)!;
      w.forEach((x, i) => (worst = Math.max(worst, Math.abs(g[i] - x) / (1e-4 + Math.abs(x)))));
    }
    console.log(`ORPO weights (qwen2), page vs CLI: largest |Δ| / (1e-4 + |w|) = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-3);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('offers random Llama-family models', async () => {
    const { page } = s;
    await openTab(page, 'Model');
    await page.getByLabel('Random model size').selectOption('llama-tiny');
    await page.getByRole('button', { name: 'New random model' }).click();
    await expect.poll(() => page.getByRole('group', { name: 'Model details' }).textContent(), { timeout: 30_000 }).toMatch(/llama.*2 · 4 \(2 key\/value\) · 32/);
    await expect.poll(() => page.getByTestId('model-name').textContent()).toMatch(/llama-tiny/);
  });
});
