// A model folder whose config.json says n_layer 10,000,000, loaded through the page's *Model
// files* input: the page shows one clear error within seconds, stays responsive, and the
// engine worker still loads a good folder afterwards (it used to run out of memory and crash
// the tab).
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPage, type Session } from './browser';
import { makeFixtures, type Fixtures } from './fixtures';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');

let fx: Fixtures;
let s: Session;
let badFiles: string[];

beforeAll(async () => {
  fx = await makeFixtures();
  const bad = join(fx.dir, 'huge-n-layer');
  cpSync(fx.model, bad, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(bad, 'config.json'), JSON.stringify({ ...cfg, n_layer: 10_000_000 }));
  badFiles = readdirSync(bad).map((f) => join(bad, f));
  s = await openPage(baseUrl, { webgpu: true });
});
afterAll(async () => {
  await s?.browser.close();
});

describe('a bad model folder', () => {
  it('n_layer 10,000,000: one clear error, the page stays responsive and loads a good folder next', async () => {
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Model');
    const t0 = Date.now();
    await page.getByLabel('Model files').setInputFiles(badFiles);
    const alert = page.getByRole('alert').filter({ hasText: 'Could not load the model' });
    await alert.waitFor({ timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await alert.textContent()).toContain('config.json: n_layer = 10000000 is more than 1,024, the largest PrefPlay supports');

    // responsive: the main thread answers at once, and the engine worker loads the good folder
    const t1 = Date.now();
    expect(await page.evaluate(() => 1 + 1)).toBe(2);
    expect(Date.now() - t1).toBeLessThan(2000);
    await page.getByLabel('Model files').setInputFiles(fx.modelFiles);
    await expect.poll(() => page.getByRole('group', { name: 'Model details' }).textContent(), { timeout: 30_000 }).toMatch(/35,744 parameters/);
    expect(await page.getByRole('alert').filter({ hasText: 'Could not load the model' }).count()).toBe(0);
    expect(s.consoleErrors.filter((e) => /out of memory|crash/i.test(e))).toEqual([]);
  });
});
