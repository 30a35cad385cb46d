// Tier 3, docs/design.md: a lost GPU device pauses the runs with a message and Resume continues them
// from their last checkpoint (IndexedDB), recomputing exactly the updates that were lost; a run
// that produces NaN stops, naming the step and the file lines of its pairs.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpointDir, writeCheckpointDir } from '../../src/model/checkpoint-node';
import { saveCheckpoint } from '../../src/model/checkpoint';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { makeFixtures, type Fixtures } from './fixtures';
import { chartTable, runStatus, waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const STEPS = 60;
const sessions: Session[] = [];
let fx: Fixtures;

beforeAll(async () => {
  fx = await makeFixtures(23);
});
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

async function open(query: string, modelFiles = fx.modelFiles): Promise<Session> {
  const s = await openPage(baseUrl + query, { webgpu: true });
  sessions.push(s);
  const { page } = s;
  await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
  await openTab(page, 'Data');
  await page.getByLabel('Preference pairs file').setInputFiles(fx.pairs);
  await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
  await openTab(page, 'Model');
  await page.getByLabel('Model files').setInputFiles(modelFiles);
  await page.getByTestId('model-name').waitFor({ timeout: 30_000 });
  return s;
}

describe('reliability', () => {
  it('pauses on a lost device and resumes from the last checkpoint', async () => {
    const s = await open(`?steps=${STEPS}&bs=2&seed=3&eval=0&ckpt=4`);
    const { page } = s;
    await page.getByText('Features and limits').click();
    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, ['DPO', 'ORPO'], 5, 180_000);
    // (the tiny model trains fast: lose the device at once, well before the last step)
    await page.getByRole('button', { name: 'Simulate device loss' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The GPU device was lost' });
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toMatch(/press Resume/);
    await expect.poll(() => runStatus(page, 'DPO'), { timeout: 30_000 }).toMatch(/^paused/);
    expect(await runStatus(page, 'ORPO')).toMatch(/^paused/);
    await screenshot(page, 'reliability-device-lost');
    // every update done before the loss, including those after the last checkpoint
    const before = await chartTable(page, 'Loss');
    expect(before.length - 1).toBeGreaterThanOrEqual(5);
    expect(before.length - 1).toBeLessThan(STEPS);

    await page.getByRole('button', { name: 'Resume from last checkpoint' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Runs' }).textContent(), { timeout: 30_000 }).toMatch(/Resumed from the checkpoint at step \d+/);
    await waitForSteps(page, ['DPO', 'ORPO'], STEPS, 180_000, true);
    await page.getByTestId('adapter-name').waitFor({ timeout: 30_000 });
    const after = await chartTable(page, 'Loss');
    // every step once, and the updates redone after the checkpoint give the same numbers
    expect(after.slice(1).map((r) => Number(r[0]))).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(after[0]).toEqual(before[0]);
    for (const row of before.slice(1)) {
      const redone = after[Number(row[0])];
      row.forEach((cell, j) => cell !== '' && expect(redone[j], `${before[0][j]} at step ${row[0]}`).toBe(cell));
    }
    await screenshot(page, 'reliability-resumed');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    // work in flight when the device went away may log WebGPU errors; nothing else may
    expect(s.consoleErrors.filter((e) => !/destroyed|lost|device/i.test(e))).toEqual([]);
  });

  it('resumes runs interrupted by a reload from their checkpoints in IndexedDB', async () => {
    const s = await open(`?steps=${STEPS}&bs=2&seed=5&eval=0&ckpt=4`);
    const { page } = s;
    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, ['DPO', 'ORPO'], 6, 180_000);
    await page.reload();
    await expect.poll(() => runStatus(page, 'DPO'), { timeout: 30_000 }).toMatch(/^paused/);
    expect(await page.getByRole('list', { name: 'Runs' }).textContent()).toMatch(/Interrupted at step \d+ by a page reload\. Resume continues from the checkpoint at step \d+/);
    const before = await chartTable(page, 'Loss');
    await openTab(page, 'Model');
    await page.getByTestId('model-name').waitFor({ timeout: 30_000 });
    await openTab(page, 'Data');
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Resume from checkpoints' }).click();
    await waitForSteps(page, ['DPO', 'ORPO'], STEPS, 180_000, true);
    const after = await chartTable(page, 'Loss');
    expect(after.slice(1).map((r) => Number(r[0]))).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    for (const row of before.slice(1)) {
      const redone = after[Number(row[0])];
      row.forEach((cell, j) => cell !== '' && expect(redone[j], `${before[0][j]} at step ${row[0]}`).toBe(cell));
    }
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('stops a run whose loss becomes NaN, naming the step and the file lines of its pairs', async () => {
    // LayerNorm gains near f32's largest value: the logits overflow at the first update
    const ckpt = await readCheckpointDir(fx.model);
    const blown = join(fx.dir, 'tiny-blown');
    await writeCheckpointDir(blown, saveCheckpoint(ckpt.config, new Map([...ckpt.params, ['ln_f.weight', new Float32Array(ckpt.config.nEmbd).fill(3e38)]]), 'byte'));
    const s = await open('?runs=orpo:0.1&steps=6&bs=2&seed=3&eval=0', readdirSync(blown).map((f) => join(blown, f)));
    const { page } = s;
    await page.getByRole('button', { name: /^Start/ }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'ORPO stopped at step' });
    await alert.waitFor({ timeout: 120_000 });
    const text = (await alert.textContent()) ?? '';
    expect(text).toMatch(/ORPO stopped at step \d: non-finite .* \(file lines? [\d, ]+\): lower the learning rate or check these rows\./);
    expect(await runStatus(page, 'ORPO')).toMatch(/^failed/);
    await screenshot(page, 'reliability-nan');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
