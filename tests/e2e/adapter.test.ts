// An imported PEFT adapter in the page (issue 15: "Import a PEFT adapter folder to continue
// training or to compare against"): the tiny GPT-2 folder is loaded, the adapter folder a CLI
// LoRA run wrote (DIR/adapter/, B ≠ 0 after its updates) is picked in the Model tab, which shows
// what it holds; the Settings tab's LoRA section says the adapter's r, lora_alpha and targets
// replace the form's; an adapter of another preset (Llama) is refused with a message and the
// good one stays; DPO vs ORPO with LoRA continue it: DPO's reference is the base with the
// adapters off, so its step-1 rewards are not 0 (they are exactly 0 from PEFT's init, see
// lora.test.ts): the adapter was applied. A reload keeps the adapter.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { main } from '../../src/cli/main';
import { peftAdapterFiles } from '../../src/export/peft';
import { loraInit, loraSpec } from '../../src/model/lora';
import { freshModel } from '../../src/model/presets';
import { makeFixtures, type Fixtures } from './fixtures';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { waitForSaves, waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
// the form says r 8, lora_alpha 8: the adapter's r 4, lora_alpha 16 replace them
const QUERY = '?runs=dpo:sigmoid:0.1,orpo:0.1&steps=1&bs=2&seed=3&eval=0&lora=8:8';
const RUNS = ['DPO', 'ORPO'];

let f: Fixtures;
let adapter: string;
let llamaAdapter: string;
let s: Session;

async function download(page: Page, button: string): Promise<Uint8Array> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.getByRole('button', { name: button, exact: true }).click()]);
  return new Uint8Array(readFileSync(await d.path()));
}

beforeAll(async () => {
  f = await makeFixtures();
  // the adapter to import: a CLI LoRA run's DIR/adapter/ (two updates from B = 0)
  const run = join(f.dir, 'lora-run');
  const code = await main(['train', '--model', f.model, '--pairs', f.pairs, '--method', 'dpo', '--lora-r', '4', '--lora-alpha', '16', '--steps', '2', '--batch-size', '2', '--lr', '2e-2', '--seed', '1', '--out', run, '--quiet']);
  if (code !== 0) throw new Error(`cli train --lora-r exited ${code}`);
  adapter = join(run, 'adapter');
  // an adapter of another preset: a tiny Llama's (q_proj … down_proj), B ≠ 0
  const m = freshModel('llama-tiny', 1);
  const lora = { r: 4, alpha: 16 };
  const tensors = loraInit(m.config, lora, 1);
  for (const t of loraSpec(m.config, lora)) if (t.name.endsWith('lora_B.weight')) tensors.set(t.name, new Float32Array(t.shape[0] * t.shape[1]).fill(0.01));
  llamaAdapter = join(f.dir, 'llama-adapter');
  mkdirSync(llamaAdapter);
  for (const [name, bytes] of peftAdapterFiles(m.config, lora, tensors, 'llama-tiny')) writeFileSync(join(llamaAdapter, name), bytes);
  s = await openPage(baseUrl + QUERY, { webgpu: true });
}, 180_000);
afterAll(async () => {
  await s?.browser.close();
});

describe('an imported PEFT adapter in the page', () => {
  it('imports a CLI LoRA run’s adapter, refuses another preset’s, continues it with DPO vs ORPO, and keeps it over a reload', async () => {
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    await page.getByLabel('Preference pairs file').setInputFiles(f.pairs);
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });

    await openTab(page, 'Model');
    await page.getByLabel('Model folder', { exact: true }).setInputFiles(f.model);
    await expect.poll(() => page.getByTestId('model-name').textContent(), { timeout: 60_000 }).toBe('tiny');

    // the adapter folder: validated against the model, summarised
    await page.getByLabel('Adapter folder (PEFT)').setInputFiles(adapter);
    const summary = page.getByTestId('adapter-summary');
    await summary.waitFor({ timeout: 30_000 });
    const text = (await summary.textContent()) ?? '';
    expect(await page.getByTestId('peft-adapter-name').textContent()).toBe('adapter');
    expect(text).toMatch(/r · lora_alpha4 · 16 \(scale 4\)/);
    expect(text).toMatch(/Target modulesc_attn, c_fc, c_proj/);
    expect(text).toMatch(/Tensors\d+ \(lora_A and lora_B\)/);
    expect(text).toContain(f.model); // base_model_name_or_path: the CLI writes the model folder's path
    expect(text).toMatch(/LoRA is on \(Settings\): every run continues training this adapter/);

    // another preset's adapter is refused, naming why; the good one stays
    await page.getByLabel('Adapter files (PEFT)').setInputFiles([join(llamaAdapter, 'adapter_config.json'), join(llamaAdapter, 'adapter_model.safetensors')]);
    const error = page.getByTestId('adapter-error');
    await error.waitFor({ timeout: 30_000 });
    expect(await error.textContent()).toMatch(/^The adapter files were refused: LoRA target "\w+_proj" matches no linear projection of this model/);
    expect(await page.getByTestId('peft-adapter-name').textContent()).toBe('adapter');

    await page.mouse.move(0, 0);
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'adapter-model-1280');
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth), { timeout: 5_000 }).toBeLessThanOrEqual(390);
    await screenshot(page, 'adapter-model-390');
    await page.setViewportSize({ width: 1280, height: 900 });

    // the LoRA section: the adapter's values replace the form's
    await openTab(page, 'Settings');
    expect(await page.getByTestId('lora-from-adapter').textContent()).toMatch(/Continues the imported adapter adapter \(Model tab\): r 4, lora_alpha 16, target modules c_attn, c_fc, c_proj\./);
    expect(await page.getByRole('group', { name: 'LoRA and memory' }).getByLabel('LoRA rank r').count()).toBe(0);

    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, RUNS, 1, 300_000, true);
    await openTab(page, 'Export');
    const rows = new TextDecoder()
      .decode(await download(page, 'Metrics JSON Lines'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const dpo = rows.filter((r) => r.run === 'DPO');
    expect(dpo.map((r) => r.step)).toEqual([1]);
    // the runs used the adapter's r and lora_alpha
    for (const r of rows) expect(r.settings).toMatch(/ lora=4:16:c_attn\/c_fc\/c_proj( |$)/);
    // policy = base + adapter, reference = base (adapters off): not 0, so the adapter was applied
    expect(dpo[0]['rewards/chosen']).not.toBe(0);
    expect(dpo[0]['rewards/margins']).not.toBe(0);
    for (const [k, v] of Object.entries(dpo[0])) if (typeof v === 'number') expect(Number.isFinite(v), k).toBe(true);

    // a reload keeps the adapter
    await waitForSaves(page);
    await page.reload();
    await openTab(page, 'Model');
    await page.getByTestId('adapter-summary').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('peft-adapter-name').textContent()).toBe('adapter');
    expect(await page.getByTestId('model-name').textContent()).toBe('tiny');
    // Remove: gone, and the LoRA section has its own fields again
    await page.getByRole('button', { name: 'Remove adapter' }).click();
    await page.getByTestId('adapter-summary').waitFor({ state: 'detached', timeout: 10_000 });
    await openTab(page, 'Settings');
    expect(await page.getByRole('group', { name: 'LoRA and memory' }).getByLabel('LoRA rank r').count()).toBe(1);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
