// `npm run bench` as a page (bench.html) in headless Chromium on real WebGPU (SwiftShader): the
// engine and the TensorFlow.js peer run alternately on the page's adapter and the report comes
// back with ratios — small cases, since SwiftShader is slow; no timing is asserted.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { openPage, foreignRequests, screenshot, type Session } from './browser';

const baseUrl = inject('baseUrl');
const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

interface Report {
  adapter: { description: string; architecture: string };
  ceiling_gflops: number;
  matmul: Array<{ M: number; gflops: number; peer_gflops: number | null; ratio: number | null }>;
  train_step: Array<{ preset: string; ms: number; peer: { ms: number } | null; ratio: number | null; peak_gpu_bytes: number }>;
  ratios: { train_step_vs_peer: Record<string, number>; matmul_vs_peer: number | null };
}

describe('bench page', () => {
  it('runs the engine and the TensorFlow.js peer on the page adapter and reports ratios', async () => {
    const url = new URL('bench.html', baseUrl);
    url.search = new URLSearchParams({ cases: 'tiny:2x16', matmul: '64x96x32', reps: '1', profile: '0', memory: '0', auto: '1' }).toString();
    const s = await openPage(url.toString(), { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: 300_000 });
    const log = (await page.locator('#log').textContent()) ?? '';
    expect(await page.evaluate(() => document.body.dataset.state), log).toBe('done');
    const report = (await page.evaluate(() => (window as unknown as { benchReport: unknown }).benchReport)) as Report;
    expect(report.adapter.description + report.adapter.architecture).not.toBe('');
    expect(report.ceiling_gflops).toBeGreaterThan(0);
    const [mm] = report.matmul;
    expect(mm.M).toBe(64);
    expect(mm.gflops).toBeGreaterThan(0);
    expect(mm.peer_gflops).toBeGreaterThan(0);
    const [step] = report.train_step;
    expect(step.preset).toBe('tiny');
    expect(step.ms).toBeGreaterThan(0);
    expect(step.peer?.ms).toBeGreaterThan(0);
    expect(step.peak_gpu_bytes).toBeGreaterThan(0);
    expect(report.ratios.train_step_vs_peer.tiny).toBe(step.ratio);
    expect(report.ratios.matmul_vs_peer).toBe(mm.ratio);
    // the rendered tables and the JSON download
    await expect(page.locator('#result table').first().locator('td').first().textContent()).resolves.toBe('tiny');
    await expect(page.getByRole('link', { name: /Download the full report/ }).getAttribute('download')).resolves.toBe('prefplay-bench.json');
    await screenshot(page, 'bench-page');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('names a malformed case instead of running', async () => {
    const url = new URL('bench.html', baseUrl);
    url.search = new URLSearchParams({ cases: 'tiny-2x16', peer: '0', auto: '1' }).toString();
    const s = await openPage(url.toString(), { webgpu: true });
    sessions.push(s);
    await s.page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 60_000 });
    expect(await s.page.locator('#log').textContent()).toMatch(/case "tiny-2x16": expected PRESET:BxT/);
  });
});
