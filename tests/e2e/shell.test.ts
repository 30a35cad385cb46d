// Tier 3: the built app in headless Chromium with real WebGPU (SwiftShader): the page finds
// an adapter, runs matmul forward+backward in its engine worker and matches float64.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

describe('app shell', () => {
  it('reports the adapter and runs a matmul that matches the reference', async () => {
    const s = await openPage(baseUrl, { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await expect(page.getByRole('heading', { name: 'PrefPlay', level: 1 }).textContent()).resolves.toBe('PrefPlay');
    const adapter = page.getByTestId('adapter-name');
    await adapter.waitFor({ timeout: 60_000 });
    // An adapter with no name would show the fallback text; a real one names itself.
    expect(await adapter.textContent()).toMatch(/swiftshader|SwiftShader|\w+/);
    await page.getByRole('button', { name: 'Check GPU' }).click();
    const result = page.getByRole('status').or(page.locator('output[aria-label="GPU check result"]'));
    const output = page.locator('output[aria-label="GPU check result"][data-ok]');
    await output.waitFor({ timeout: 120_000 });
    const text = (await output.textContent()) ?? '';
    await screenshot(page, 'shell-webgpu');
    expect(await output.getAttribute('data-ok'), text).toBe('true');
    expect(text).toMatch(/match float64/);
    expect(await result.count()).toBeGreaterThan(0);
    // the charts are always in view; data, model and methods are tabs of the side panel
    await expect(page.getByRole('heading', { name: 'Charts', level: 2 }).count()).resolves.toBe(1);
    for (const region of ['Data', 'Model', 'Methods'] as const) {
      await openTab(page, region);
      await expect(page.getByRole('heading', { name: region, level: 2 }).count()).resolves.toBe(1);
    }
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('explains a missing WebGPU and keeps the rest of the page', async () => {
    const s = await openPage(baseUrl, { webgpu: false });
    sessions.push(s);
    const { page } = s;
    // Without --enable-unsafe-webgpu, headless Linux Chromium has no WebGPU adapter. If this
    // Chromium ever ships WebGPU on by default, this test must force it off another way.
    const heading = page.getByRole('heading', { name: 'WebGPU is not available' });
    await heading.waitFor({ timeout: 60_000 });
    expect(await page.getByText(/enable-unsafe-webgpu/).count()).toBeGreaterThan(0);
    await openTab(page, 'Data');
    await expect(page.getByRole('heading', { name: 'Data', level: 2 }).count()).resolves.toBe(1);
    // the data preview and the formula explorer need no GPU
    const dir = mkdtempSync(join(tmpdir(), 'prefplay-shell-'));
    const file = join(dir, 'pairs.jsonl');
    writeFileSync(file, '{"prompt": "2+2=", "chosen": "4", "rejected": "5"}\n{"prompt": "x", "chosen": "y"}\n');
    await page.getByLabel('Preference pairs file').setInputFiles(file);
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('accepted-count').textContent()).toBe('1');
    expect(await page.getByRole('table', { name: 'Rejected rows' }).textContent()).toMatch(/2.*rejected/);
    await openTab(page, 'Formulas');
    await page.getByRole('button', { name: /^The worked example: P\(chosen\) 0\.8 vs P\(rejected\) 0\.2$/ }).click();
    const explorer = page.getByRole('table', { name: /One pair/ });
    expect(await explorer.getByRole('row', { name: /^odds ratio/ }).textContent()).toMatch(/16\.0000/);
    expect(await explorer.getByRole('row', { name: /^probability ratio/ }).textContent()).toMatch(/4\.0000/);
    expect(await page.getByRole('complementary', { name: 'Worked example' }).textContent()).toMatch(/probability ratio.*odds ratio is .* 16/);
    // the losses and gradients plotted against P(chosen)
    expect(await page.getByRole('figure', { name: /^Loss against P\(chosen\)/ }).locator('.recharts-line').count()).toBe(2);
    expect(await page.getByRole('figure', { name: /^Gradient .* against P\(chosen\)/ }).locator('.recharts-line').count()).toBe(2);
    await page.getByRole('button', { name: /^Start/ }).click();
    expect(await page.getByRole('alert').filter({ hasText: 'Cannot start yet' }).textContent()).toMatch(/Training needs WebGPU/);
    await screenshot(page, 'shell-no-webgpu');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
  });
});
