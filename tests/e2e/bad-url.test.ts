// A link with junk settings: the page lists what it refused at load, the form holds valid values,
// and neither the URL nor IndexedDB carries the junk to the next visit. A value typed into the
// form that the validator refuses is named at its field and not stored either.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { openTab } from './tabs';
import { waitForSaves } from './page';

const baseUrl = inject('baseUrl');
const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

const JUNK = ['1e99', '99999', '-1', 'orpo:-5'];

describe('junk in a link', () => {
  it('is refused at load, listed, never stored, and gone after a reload of the plain URL', async () => {
    // no WebGPU: reading and saving the configuration needs none
    const s = await openPage(new URL('/?lr=1e99&bs=99999&steps=-1&runs=orpo:-5', baseUrl).href, { webgpu: false });
    sessions.push(s);
    const { page } = s;
    const notice = page.getByRole('alert').filter({ hasText: 'Parts of this link’s configuration were ignored' });
    await notice.waitFor({ timeout: 30_000 });
    const text = (await notice.textContent()) ?? '';
    expect(text).toContain('runs: "orpo:-5": orpo: option beta must be > 0, got -5');
    expect(text).toContain('lr: Learning rate must be ≤ 1');
    expect(text).toContain('got 1e+99');
    expect(text).toContain('bs: Batch size must be ≤ 4096');
    expect(text).toContain('steps: Steps must be a whole number ≥ 1, got -1');

    const field = (label: string) => page.getByLabel(label, { exact: true }).inputValue();
    expect([await field('Learning rate'), await field('Batch size'), await field('Steps')]).toEqual(['0.0005', '4', '60']);
    // the URL now says what the page holds; the default comparison stays
    await expect.poll(() => new URL(page.url()).searchParams.get('bs')).toBe('4');
    const search = new URL(page.url()).search;
    for (const j of JUNK) expect(search).not.toContain(j);
    expect(new URL(page.url()).searchParams.get('runs')).not.toContain('-5');

    // a refused value typed into the form: named at the field, not stored
    await openTab(page, 'Settings');
    await page.getByLabel('Batch size', { exact: true }).fill('99999');
    expect(await page.locator('.field-error').textContent()).toMatch(/^Batch size must be ≤ 4096/);
    await page.getByLabel('Steps', { exact: true }).fill('7');
    await expect.poll(() => new URL(page.url()).searchParams.get('steps')).toBe('7');
    expect(new URL(page.url()).searchParams.get('bs')).toBe('4');
    await screenshot(page, 'bad-url-refused');
    await waitForSaves(page); // the page saves its state half a second after a change

    await page.goto(baseUrl);
    await page.getByLabel('Steps', { exact: true }).waitFor();
    await expect.poll(() => field('Steps'), { timeout: 30_000 }).toBe('7');
    expect([await field('Learning rate'), await field('Batch size')]).toEqual(['0.0005', '4']);
    await expect.poll(() => new URL(page.url()).searchParams.get('steps')).toBe('7');
    const plain = new URL(page.url()).search;
    for (const j of JUNK) expect(plain).not.toContain(j);
    expect(await page.getByRole('alert').filter({ hasText: 'Parts of this link’s configuration were ignored' }).count()).toBe(0);
    expect(await page.locator('.field-error').count()).toBe(0);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
  });

  it('a max length the loaded model cannot take is refused naming the field, not the file', async () => {
    const s = await openPage(new URL('/?maxlen=500&maxprompt=1e9', baseUrl).href, { webgpu: false });
    sessions.push(s);
    const { page } = s;
    const notice = page.getByRole('alert').filter({ hasText: 'Parts of this link’s configuration were ignored' });
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toContain('maxprompt: Max prompt length must be < the max length (500), so completions keep a token, got 1000000000');
    // the built-in model has 128 positions; the URL is read before it loads
    await expect.poll(() => notice.textContent(), { timeout: 30_000 }).toContain("maxlen: Max length must be ≤ the model's n_positions (128), got 500");
    expect(await page.getByLabel('Max length', { exact: true }).inputValue()).toBe('');
    await openTab(page, 'Data');
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    expect(await page.getByText(/Check the file’s format/).count()).toBe(0);
    await expect.poll(() => new URL(page.url()).search).not.toMatch(/maxlen|maxprompt/);
    expect(s.consoleErrors).toEqual([]);
  });
});
