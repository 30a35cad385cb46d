// Tier 3, the "done when": a first visit with no model picked, one JSONL upload and one
// click start DPO vs ORPO on the default model; both runs pass step 5 within two minutes on
// software WebGPU with curves drawn; Stop all ends them; nothing leaves the origin.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { makeFixtures } from './fixtures';
import { runStatus, waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
let s: Session | null = null;
afterAll(async () => {
  await s?.browser.close();
});

describe('first visit', () => {
  it('trains DPO vs ORPO on the default model after one upload and one click', async () => {
    const fx = await makeFixtures();
    s = await openPage(baseUrl, { webgpu: true });
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    if (existsSync('public/data/seed-examples.jsonl')) {
      // a built-in set is ready on a first visit; an upload replaces it
      await expect.poll(() => page.getByRole('status', { name: 'Data status' }).textContent(), { timeout: 30_000 }).toMatch(/seed-examples.*built-in/);
    }
    await page.getByLabel('Preference pairs file').setInputFiles(fx.pairs);
    await openTab(page, 'Model');
    await page.getByTestId('model-name').waitFor({ timeout: 60_000 });
    const model = (await page.getByRole('group', { name: 'Model details' }).textContent()) ?? '';
    expect(model).toMatch(/built-in|fresh builtin/);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, ['DPO', 'ORPO'], 2, 120_000);
    // the page stays responsive while the worker trains: a slider answers at once
    await openTab(page, 'Formulas');
    const t1 = Date.now();
    await page.getByRole('slider', { name: 'P(chosen)' }).fill('0.5');
    await expect.poll(() => page.getByRole('row', { name: /^odds\(chosen\)/ }).textContent(), { timeout: 5_000 }).toMatch(/1\.0000/);
    const latency = Date.now() - t1;
    expect(await runStatus(page, 'DPO')).toMatch(/^training/);
    await waitForSteps(page, ['DPO', 'ORPO'], 6, 120_000);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`default model (${model.match(/[\d,]+ parameters/)?.[0]}): both runs past step 5 after ${seconds.toFixed(1)} s; a slider answered in ${latency} ms while training`);
    expect(latency).toBeLessThan(2_000);
    expect(await page.locator('.recharts-line').count()).toBeGreaterThan(8);
    await page.getByRole('button', { name: 'Stop all' }).click();
    await expect.poll(() => runStatus(page, 'ORPO'), { timeout: 60_000 }).toMatch(/^stopped/);
    expect(await runStatus(page, 'DPO')).toMatch(/^stopped/);
    await screenshot(page, 'first-visit');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
