// Tier 3: a 240-character file name and folder name never make the page scroll sideways (at a
// phone's 390 px and a laptop's 1280 px), the data file's name ends in an ellipsis with the full
// name in its title; the starting passes over the data set show a progress bar whose Cancel
// button stops the comparison and leaves the page ready for Start again.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { makeFixtures, type Fixtures } from './fixtures';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const sessions: Session[] = [];
let fx: Fixtures;

beforeAll(async () => {
  fx = await makeFixtures(29);
});
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

/** How far the page scrolls sideways (0: not at all), once the charts have followed a resize. */
async function sideways(page: Page): Promise<number> {
  let over = 0;
  for (let i = 0; i < 20; i++) {
    over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (over <= 0) break;
    await page.waitForTimeout(250);
  }
  return over;
}

describe('long names and long passes', () => {
  it('a 240-character file name and model folder name wrap or end in an ellipsis at 390 and 1280 px', async () => {
    const s = await openPage(baseUrl, { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    const name = `preference-pairs-${'x'.repeat(240 - 'preference-pairs-'.length - '.jsonl'.length)}.jsonl`;
    expect(name).toHaveLength(240);
    const file = join(fx.dir, name);
    copyFileSync(fx.pairs, file);
    await openTab(page, 'Data');
    await page.getByLabel('Preference pairs file').setInputFiles(file);
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    const shown = page.getByRole('status', { name: 'Data status' }).locator('.file-name');
    expect(await shown.getAttribute('title')).toBe(name);
    // a folder of the same length, picked as a folder (its name is the model's)
    const folder = join(fx.dir, `model-${'y'.repeat(234)}`);
    mkdirSync(folder);
    for (const f of readdirSync(fx.model)) copyFileSync(join(fx.model, f), join(folder, f));
    await page.getByLabel('Model folder').setInputFiles(folder);
    await openTab(page, 'Model');
    await page.getByTestId('model-name').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('model-name').textContent()).toBe(`model-${'y'.repeat(234)}`);
    await page.getByText('Features and limits').click(); // the adapter's limits table, open
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      expect(await sideways(page), `scrolls sideways at ${width} px`).toBeLessThanOrEqual(0);
      // the names are cut or wrapped, not the page widened (each in its own tab)
      await openTab(page, 'Data');
      const box = await shown.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(width);
      await openTab(page, 'Model');
      const modelBox = await page.getByTestId('model-name').boundingBox();
      expect(modelBox!.x + modelBox!.width).toBeLessThanOrEqual(width);
      expect(await sideways(page), `scrolls sideways at ${width} px (Model tab)`).toBeLessThanOrEqual(0);
    }
    await screenshot(page, 'long-names-390');
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'long-names-1280');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('shows the reference pass as a progress bar; Cancel stops it and Start works again', async () => {
    // a few hundred tiny pairs, one per batch: a pass of several seconds on SwiftShader
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ prompt: `${i}+1=`, chosen: String(i + 1), rejected: String(i + 2) }));
    const file = join(fx.dir, 'many.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const s = await openPage(`${baseUrl}?runs=dpo:0.1&steps=2&bs=1&eval=0`, { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    await page.getByLabel('Preference pairs file').setInputFiles(file);
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    await openTab(page, 'Model');
    await page.getByLabel('Model files').setInputFiles(fx.modelFiles);
    await page.getByTestId('model-name').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: /^Start/ }).click();
    const bar = page.getByRole('progressbar', { name: 'Reference log-probs progress' });
    await bar.waitFor({ timeout: 120_000 });
    expect(Number(await bar.getAttribute('max'))).toBe(400);
    const text = (await page.getByRole('status', { name: 'Pass progress' }).textContent()) ?? '';
    expect(text).toMatch(/^[\d,]+ \/ 400 pairs \(\d+ %\), \d+ s(, ~.+ left)?$/);
    await screenshot(page, 'long-passes-progress');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByText('Cancelled before training began').waitFor({ timeout: 30_000 });
    expect(await bar.count()).toBe(0);
    expect(await page.getByRole('list', { name: 'Runs' }).count()).toBe(0);
    // the user changes a setting and starts again: this time it trains to the end
    await page.getByLabel('Steps', { exact: true }).fill('1');
    const start = page.getByRole('button', { name: /^Start/ });
    expect(await start.isEnabled()).toBe(true);
    await start.click();
    await page.getByRole('status', { name: 'DPO status' }).filter({ hasText: /^done/ }).waitFor({ timeout: 240_000 });
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
