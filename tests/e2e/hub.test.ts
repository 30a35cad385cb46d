// Models from the Hugging Face Hub in the page (issue 14), against the local stand-in
// (tests/helpers/hub-server.ts) behind a proxy that can slow a file down: the page names the host
// before anything is sent and sends nothing until asked; a typed id downloads with a progress bar,
// is cancelled halfway and continues with a Range request; the sharded llama-tiny trains DPO vs
// ORPO; a reload restores it from the browser's cache with no request at all; 404 and 401 are
// explained, a token kept in memory only makes the 401 work; a cached model is deleted; a forced
// small quota gives the quota message. Only the stand-in's host is ever contacted.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { writeGptFolder, writeShardedLlamaFolder } from '../helpers/hub-models';
import { startSlowProxy, type SlowProxy } from '../helpers/slow-proxy';
import { formatBytes } from '../../src/hub/progress';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { waitForSteps, waitForSaves } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const LLAMA = 'test-org/tiny-llama';
const GPT = 'test-org/tiny-gpt';
const TOKEN = 'hf_e2eSecretToken';
let server: HubServer;
let proxy: SlowProxy;
let s: Session;
let shard: string;
/** What the GPT model's download fetches (the repository less README.md and .gitattributes). */
let gptBytes = 0;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prefplay-hub-e2e-'));
  const llama = writeShardedLlamaFolder(join(dir, 'llama'));
  shard = readdirSync(llama).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f))[1];
  const gpt = writeGptFolder(join(dir, 'gpt'));
  gptBytes = readdirSync(gpt).filter((f) => !f.startsWith('.') && f !== 'README.md').reduce((a, f) => a + statSync(join(gpt, f)).size, 0);
  server = await startHubServer({ models: { [LLAMA]: llama, [GPT]: gpt } });
  proxy = await startSlowProxy(server.endpoint);
  s = await openPage(`${baseUrl}?steps=2&bs=2&hub=${proxy.endpoint}`, { webgpu: true });
});
afterAll(async () => {
  await s?.browser.close();
  await proxy?.stop();
  await server?.stop();
});

const host = () => new URL(proxy.endpoint).host;
/** Requests that left the page's origin: each one to the stand-in's host, or the test fails. */
function onlyStandIn(requests: string[]): string[] {
  const foreign = foreignRequests(requests, baseUrl);
  expect(foreign.filter((u) => new URL(u).origin !== proxy.endpoint)).toEqual([]);
  return foreign;
}
const modelName = (page: Page) => page.getByTestId('model-name').textContent();
const download = (page: Page) => page.getByRole('button', { name: `Download from ${host()}` });
const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
/** A screenshot of the Hub part of the Model tab only (the whole page is long). */
async function hubShot(page: Page, name: string): Promise<void> {
  mkdirSync('test-results/screenshots', { recursive: true });
  await page.getByRole('region', { name: 'From the Hugging Face Hub' }).screenshot({ path: `test-results/screenshots/${name}.png` });
}

describe('models from the Hugging Face Hub', () => {
  it('names the host first, downloads with progress, cancels, continues with Range, trains, and restores from the cache', async () => {
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Model');
    // before any download: the host is named, and nothing has been sent to it
    const notice = page.getByTestId('hub-host');
    await expect.poll(() => notice.textContent()).toMatch(new RegExp(`Downloads contact ${host().replace(/\./g, '\\.')} \\(${proxy.endpoint.replace(/[.:/]/g, '\\$&')}\\), and only when you press Download`));
    expect(await notice.textContent()).toMatch(/hub= in the URL/);
    await expect.poll(() => modelName(page), { timeout: 60_000 }).toBeTruthy();
    expect(server.requests).toEqual([]);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(page.url()).toContain(`hub=${proxy.endpoint}`);
    await hubShot(page, 'hub-picker');

    // download, slowed down on one shard: the progress bar moves, then Cancel
    proxy.slow = { file: shard, bytes: 1000, everyMs: 200 };
    await page.getByLabel('Hub model id').fill(LLAMA);
    await download(page).click();
    const bar = page.getByRole('progressbar', { name: 'Download progress' });
    await expect.poll(async () => Number((await bar.getAttribute('value')) ?? 0), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('download-status').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^${shard.replace(/\./g, '\\.')} \\(\\d of \\d+ files\\): .* KB / .* KB \\(\\d+ %\\), .*/s$`));
    await page.setViewportSize({ width: 390, height: 844 });
    await hubShot(page, 'hub-downloading-390');
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Cancel download' }).click();
    await expect.poll(() => page.getByTestId('hub-notice').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Download of ${LLAMA} cancelled\\. .* stay in the browser; Download it again to continue where it stopped\\.$`));
    expect(await bar.count()).toBe(0);
    const cached = page.getByRole('list', { name: 'Cached models' });
    await expect.poll(() => cached.textContent()).toMatch(/test-org\/tiny-llama.*download interrupted/);

    // Download again: the shard continues where it stopped
    proxy.slow = null;
    const before = server.fileRequests(shard).length;
    await download(page).click();
    await expect.poll(() => modelName(page), { timeout: 60_000 }).toBe(LLAMA);
    const again = server.fileRequests(shard).slice(before);
    expect(again).toHaveLength(1);
    expect(again[0].range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(again[0].status).toBe(206);
    const details = page.getByRole('group', { name: 'Model details' });
    expect(await details.textContent()).toMatch(/llama.*2 · 4 \(2 key\/value\) · 32/);
    await expect.poll(() => cached.textContent()).toMatch(/test-org\/tiny-llama.*KB.*complete/);

    // DPO vs ORPO on it
    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, ['DPO', 'ORPO'], 2, 240_000, true);
    await page.mouse.move(0, 0);
    await screenshot(page, 'hub-trained');
    const downloadRequests = onlyStandIn(s.requests);
    expect(downloadRequests.length).toBeGreaterThan(0);
    expect(s.consoleErrors).toEqual([]);

    // a reload restores it from the browser's cache: no request to anyone but the page's origin
    // (SPEC §3.2: nothing leaves the page unasked; Load would ask for the revision's commit), no notice
    await waitForSaves(page); // the page saves its state half a second after a change
    const served = server.requests.length;
    const seen = s.requests.length;
    await page.reload();
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Model');
    await expect.poll(() => modelName(page), { timeout: 60_000 }).toBe(LLAMA);
    await expect.poll(() => cached.textContent(), { timeout: 30_000 }).toMatch(/test-org\/tiny-llama/);
    expect(server.requests.length).toBe(served);
    expect(foreignRequests(s.requests.slice(seen), baseUrl)).toEqual([]);
    expect(await page.getByTestId('model-cache-notice').count()).toBe(0);
    expect(await page.getByTestId('model-cache-note').count()).toBe(0);
    expect(page.url()).toContain(`hub=${proxy.endpoint}`);
  });

  it('explains a 404, and a 401 until an access token kept in memory makes it work', async () => {
    const { page } = s;
    await openTab(page, 'Model');
    await page.getByLabel('Hub model id').fill('test-org/no-such-model');
    await download(page).click();
    const alert = page.getByTestId('hub-error');
    await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^${host().replace(/\./g, '\\.')} has no model test-org/no-such-model\\. Check the spelling`));
    expect(await alert.textContent()).toMatch(/HTTP 404/);
    expect(await modelName(page)).toBe(LLAMA); // the loaded model stays

    server.options.token = TOKEN;
    try {
      await page.getByLabel('Hub model id').fill(GPT);
      await download(page).click();
      await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^${GPT} needs an access token\\. It is gated`));
      expect(await alert.textContent()).toMatch(/HTTP 401/);
      await hubShot(page, 'hub-401');
      const token = page.getByLabel('Access token');
      await token.fill(TOKEN);
      expect(await page.getByText(/Kept in this tab’s memory only/).count()).toBe(1);
      await download(page).click();
      await expect.poll(() => modelName(page), { timeout: 60_000 }).toBe(GPT);
      expect(await alert.count()).toBe(0);
      expect(server.requests.filter((r) => r.path.includes(GPT)).at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
    } finally {
      server.options.token = null;
    }
    // the token is in no URL, no storage the page keeps
    expect(page.url()).not.toContain(TOKEN);
    const stored = await page.evaluate(async () => {
      const out: string[] = [JSON.stringify(localStorage), JSON.stringify(sessionStorage)];
      for (const info of await indexedDB.databases()) {
        const db = await new Promise<IDBDatabase>((res, rej) => {
          const r = indexedDB.open(info.name!);
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
        for (const name of db.objectStoreNames) {
          const all = await new Promise<unknown[]>((res) => {
            const r = db.transaction(name).objectStore(name).getAll();
            r.onsuccess = () => res(r.result);
          });
          out.push(JSON.stringify(all));
        }
        db.close();
      }
      return out.join('\n');
    });
    expect(stored).not.toContain(TOKEN);
    onlyStandIn(s.requests);
  });

  it('lists cached models with sizes and deletes one', async () => {
    const { page } = s;
    await openTab(page, 'Model');
    const cached = page.getByRole('list', { name: 'Cached models' });
    await expect.poll(() => cached.getByRole('listitem').count(), { timeout: 30_000 }).toBe(2);
    expect(await cached.textContent()).toMatch(/test-org\/tiny-gpt\d+(\.\d+)? KBcomplete/);
    // the loaded model may go from the cache: it stays in memory until another is loaded
    await page.getByRole('button', { name: `Delete ${GPT}` }).click();
    await expect.poll(() => cached.getByRole('listitem').count(), { timeout: 30_000 }).toBe(1);
    expect(await cached.textContent()).not.toContain(GPT);
    expect(await page.getByTestId('hub-notice').textContent()).toBe(`${GPT} was deleted from the browser's cache.`);
    expect(await modelName(page)).toBe(GPT);
    await page.setViewportSize({ width: 390, height: 844 });
    await hubShot(page, 'hub-cached-390');
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(s.consoleErrors).toEqual([]);
    onlyStandIn(s.requests);
  });

  it('says so when the browser storage is full', async () => {
    const { page } = s;
    await openTab(page, 'Model');
    const origin = new URL(baseUrl).origin;
    const cdp = await page.context().newCDPSession(page);
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    // room for config.json, not for the 146 KB model.safetensors
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 30_000 });
    try {
      await page.getByLabel('Hub model id').fill(GPT);
      await download(page).click();
      const alert = page.getByTestId('hub-error');
      await expect.poll(() => alert.textContent(), { timeout: 30_000 }).toMatch(/^The browser’s storage for this page is full\./);
      expect(await alert.textContent()).toMatch(new RegExp(`Not enough browser storage to download ${GPT} \\(${formatBytes(gptBytes)}\\): .*Cached models take .* KB \\(2 models\\): delete those you no longer need under “Cached models”`));
      await hubShot(page, 'hub-quota');
      expect(await modelName(page)).toBe(GPT);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    }
    onlyStandIn(s.requests);
  });
});
