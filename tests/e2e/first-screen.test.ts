// Tier 3, the one-screen layout: at 1280×800 the run controls (Start, preset, steps, learning
// rate) and the charts share the first screen, before Start and while the curves grow, with no
// scrolling; at 390×844 nothing scrolls sideways, before or after the charts appear.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { openPage, type Session } from './browser';
import { runStatus, waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync('test-results/screenshots', { recursive: true });
  await page.screenshot({ path: `test-results/screenshots/${name}.png` });
}

/** The element lies wholly inside the first screen (the page is not scrolled). */
async function inFirstScreen(el: Locator, height: number, what: string): Promise<void> {
  const box = await el.boundingBox();
  expect(box, `${what} is rendered`).not.toBeNull();
  expect(box!.y, `${what} top`).toBeGreaterThanOrEqual(0);
  expect(box!.y + box!.height, `${what} bottom (${JSON.stringify(box)})`).toBeLessThanOrEqual(height);
}

const sideways = (page: Page) => page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));

async function ready(page: Page): Promise<void> {
  await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
  // the built-in data and model load by themselves on a first visit
  await expect.poll(() => page.getByRole('region', { name: 'Run controls' }).textContent(), { timeout: 60_000 }).toMatch(/Data: .*\d+ pairs.*Model: .*parameters/);
}

describe('first screen', () => {
  it('keeps Start, the key settings and the charts in one 1280×800 screen while training', async () => {
    const s = await openPage(baseUrl + '?steps=8', { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.setViewportSize({ width: 1280, height: 800 });
    await ready(page);
    const start = page.getByRole('button', { name: /^Start/ });
    const chartsHeading = page.getByRole('heading', { name: 'Charts', level: 2 });
    for (const [el, what] of [
      [start, 'Start'],
      [page.getByRole('combobox', { name: 'Preset' }), 'the preset'],
      [page.getByLabel('Steps', { exact: true }), 'Steps'],
      [page.getByLabel('Learning rate', { exact: true }), 'Learning rate'],
      [page.getByLabel('DPO β', { exact: true }), 'DPO β'],
      [page.getByLabel('ORPO λ', { exact: true }), 'ORPO λ'],
      [chartsHeading, 'the Charts heading'],
    ] as Array<[Locator, string]>) {
      await inFirstScreen(el, 800, what);
    }
    // buttons that start nothing are not styled as the primary action
    expect((await page.getByRole('button', { name: 'Check GPU' }).getAttribute('class')) ?? '').not.toMatch(/primary/);
    expect(await page.locator('button.primary').count()).toBe(1);
    await shot(page, 'first-screen-1280-before');

    await start.click();
    await waitForSteps(page, ['DPO', 'ORPO'], 1, 120_000);
    await expect.poll(() => page.locator('.recharts-line').count(), { timeout: 30_000 }).toBeGreaterThan(1);
    await page.mouse.move(0, 0);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    await inFirstScreen(start, 800, 'Start (while training)');
    await inFirstScreen(page.getByRole('button', { name: 'Stop all' }), 800, 'Stop all');
    await inFirstScreen(chartsHeading, 800, 'the Charts heading (while training)');
    await inFirstScreen(page.getByRole('progressbar', { name: 'DPO progress' }), 800, 'the DPO progress bar');
    // the first chart's plot, with curves in it
    const plot = page.getByRole('region', { name: 'Charts' }).locator('figure svg.recharts-surface').first();
    await inFirstScreen(plot, 800, 'the first chart');
    expect(await plot.locator('.recharts-line').count()).toBeGreaterThan(0);
    await shot(page, 'first-screen-1280-training');
    await page.getByRole('button', { name: 'Stop all' }).click();
    await expect.poll(() => runStatus(page, 'ORPO'), { timeout: 60_000 }).toMatch(/^(stopped|done)/);
    expect(s.consoleErrors).toEqual([]);
  });

  it('never scrolls sideways at 390 px, before and after the charts appear', async () => {
    const s = await openPage(baseUrl + '?steps=6', { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.setViewportSize({ width: 390, height: 844 });
    await ready(page);
    const fits = async (when: string) => {
      const w = await sideways(page);
      expect(w.scrollWidth, `${when}: ${JSON.stringify(w)}`).toBeLessThanOrEqual(w.innerWidth);
    };
    await fits('first visit');
    await inFirstScreen(page.getByRole('button', { name: /^Start/ }), 844, 'Start');
    await shot(page, 'first-screen-390-before');
    for (const tab of ['Settings', 'Data', 'Model', 'Formulas', 'Export', 'Methods'] as const) {
      await openTab(page, tab);
      await fits(`${tab} tab`);
    }
    await page.getByRole('button', { name: /^Start/ }).click();
    await waitForSteps(page, ['DPO', 'ORPO'], 1, 120_000);
    await expect.poll(() => page.locator('.recharts-line').count(), { timeout: 30_000 }).toBeGreaterThan(1);
    await fits('charts drawn');
    await shot(page, 'first-screen-390-training');
    await page.getByRole('button', { name: 'Stop all' }).click();
    await expect.poll(() => runStatus(page, 'ORPO'), { timeout: 60_000 }).toMatch(/^(stopped|done)/);
    await fits('runs stopped');
    await page.screenshot({ path: 'test-results/screenshots/first-screen-390-full.png', fullPage: true });
    expect(s.consoleErrors).toEqual([]);
  });
});
