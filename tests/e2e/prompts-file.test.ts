// A prompt-only file on the page (issue 16: prompts come "from the same files … or prompt-only rows
// {"prompt": …}"): uploaded through the real file input, the Data panel reads it as prompts (the
// count says prompts, the preview shows prompts, a bad row is named by line and reason), the DPO
// card says it needs preference pairs and Start is refused with that message, and GRPO rewarded
// by judge:arithmetic trains on the prompts for 2 updates.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, type Session } from './browser';
import { waitForSteps } from './page';
import { openTab } from './tabs';
import { arithmeticJudge } from '../../src/judge';

const baseUrl = inject('baseUrl');
const STEPS = 2;
// GRPO: judge:arithmetic, β 0.04, G = 2, 8 new tokens; 2 prompts per update; beside DPO
const QUERY = `?runs=grpo:arithmetic:0.04:2:8,dpo:sigmoid:0.1&steps=${STEPS}&bs=2&seed=3&eval=0.2&evalEvery=${STEPS}`;
const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

const PROMPTS = [
  '{"prompt": "Q: What is 4+1?\\nA: "}',
  '{"prompt": "Q: What is 2+3?\\nA: ", "id": 2}',
  '{"prompt": "Q: What is 3+3?\\nA: "}',
  '{"prompt": [{"role": "user", "content": "What is 2*2?"}]}',
  '{"prompt": "Q: What is 5+5?\\nA: ", "chosen": "10"}',
  '{"prompt": "Q: What is 1+2?\\nA: "}',
  '{"prompt": "Q: What is 9+0?\\nA: "}',
  '{"prompt": "Q: What is 7+1?\\nA: "}',
].join('\n');

describe('a prompt-only file on the page', () => {
  it('reads as prompts, refuses DPO with what it needs, and trains GRPO on the prompts', async () => {
    const s = await openPage(baseUrl + QUERY, { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000, state: 'attached' });
    await page.getByTestId('model-name').waitFor({ timeout: 60_000, state: 'attached' });
    await openTab(page, 'Data');
    const file = join(mkdtempSync(join(tmpdir(), 'prefplay-prompts-')), 'prompts.jsonl');
    writeFileSync(file, PROMPTS + '\n');
    await page.getByLabel('Preference pairs file').setInputFiles(file);

    // the report counts prompts; the bad row is named by line and reason; the preview shows prompts
    const preview = page.getByRole('table', { name: 'Preview of accepted prompts' });
    await preview.getByRole('row').filter({ hasText: 'What is 7+1?' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('accepted-count').textContent()).toBe('7');
    expect(await page.getByTestId('rejected-count').textContent()).toBe('1');
    const report = page.getByRole('group', { name: 'Validation report' });
    expect(await report.textContent()).toMatch(/7 prompts accepted, 1 rejected of 8 rows/);
    expect(await report.textContent()).not.toMatch(/pairs accepted/);
    const rejected = await page.getByRole('table', { name: 'Rejected rows' }).evaluate((el) => [...el.querySelectorAll('[role=row]')].slice(1).map((r) => [...r.querySelectorAll('[role=cell]')].map((c) => c.textContent ?? '')));
    expect(rejected).toHaveLength(1);
    expect(rejected[0].slice(0, 2)).toEqual(['5', 'chosen']);
    expect(rejected[0][2]).toMatch(/another format's field.*prompt-only rows/);
    const rows = await preview.evaluate((el) => [...el.querySelectorAll('[role=row]')].slice(1).map((r) => [...r.querySelectorAll('[role=cell]')].map((c) => c.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '6', '7', '8']);
    expect(rows[3]).toEqual(['4', 'User: What is 2*2?\nAssistant: ']);
    // the histogram counts prompts
    expect(await page.getByRole('table', { name: /Prompts per token-length bin/, includeHidden: true }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Data: / }).textContent()).toMatch(/prompts\.jsonl · 7 prompts/);

    // DPO cannot train on prompts: its card says so, and Start is refused with the same words
    await openTab(page, 'Methods');
    const dpo = page.getByRole('article', { name: 'DPO method' });
    await expect.poll(() => dpo.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/^Needs preference pairs \(prompt, chosen, rejected\), and this file holds prompts only/);
    expect(await page.getByRole('article', { name: 'GRPO method' }).getByRole('alert').count()).toBe(0);
    await page.getByRole('button', { name: 'Start 2 runs' }).click();
    await expect.poll(() => page.getByText(/^Cannot start yet:/).textContent(), { timeout: 10_000 }).toMatch(/DPO needs preference pairs \(prompt, chosen, rejected\), and this file holds prompts only/);

    // without DPO, GRPO trains on the prompts
    await page.getByRole('button', { name: 'Remove DPO' }).click();
    await page.getByRole('button', { name: 'Start 1 run' }).click();
    await waitForSteps(page, ['GRPO'], STEPS, 45_000, true);
    expect(await page.getByText(/^Cannot start yet:/).count()).toBe(0);
    // its samples over steps are completions of the file's prompts, rewarded by the judge
    const table = page.getByRole('table', { name: 'Samples over steps: GRPO' });
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const samples = await table.evaluate((el) => [...el.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((c) => c.textContent ?? '')));
    const texts = ['Q: What is 4+1?\nA: ', 'Q: What is 2+3?\nA: ', 'Q: What is 3+3?\nA: ', 'User: What is 2*2?\nAssistant: ', 'Q: What is 1+2?\nA: ', 'Q: What is 9+0?\nA: ', 'Q: What is 7+1?\nA: '];
    for (const [prompt, completion, reward] of samples) {
      expect(texts).toContain(prompt);
      expect(Number(/^-?[\d.]+/.exec(reward)![0]), `${prompt} → ${completion}`).toBe(arithmeticJudge.judge(prompt, completion).score);
    }
  });
});
