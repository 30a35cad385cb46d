// LoRA in the page (issue 15): a SmolLM2-135M-shaped Llama folder (30 layers, hidden 576, 9 query
// heads over 3 key/value heads, intermediate 1536, vocabulary 49,152, tied head, rope θ 100,000;
// random weights saved as BF16 safetensors with torch_dtype bfloat16, as SmolLM2 ships) is picked
// through the folder input, LoRA is turned on in the Settings tab's form (rank 8, lora_alpha 16,
// every linear layer, the checkpoint's bf16 as the frozen base, checkpointing on for this size),
// the memory estimate shows what LoRA saves, and DPO vs ORPO train with it: TRL's metric names,
// finite values, DPO's rewards 0 at step 1 (B = 0: the policy is the reference, the base with
// the adapters off), and DPO's PEFT adapter folder with PEFT's names, shapes and config.
// Sizes are the smallest honest ones (SwiftShader runs the 135M-parameter model at about 9 s a
// step in Node, each pass over the pairs costs a forward of it): one pair, 16 tokens, one update.
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { llamaConfigToHF, llamaParamSpec, llamaPresetConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { parseSafetensors, readTensorF32 } from '../../src/model/safetensors';
import { chatTokenizerFiles, SPECIALS } from '../helpers/chat-model';
import { unzip } from './unzip';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { waitForSteps } from './page';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
const STEPS = 1;
const QUERY = `?runs=dpo:sigmoid:0.1,orpo:0.1&steps=${STEPS}&bs=1&seed=3&eval=0&maxlen=16`;
const RUNS = ['DPO', 'ORPO'];
const FOLDER = 'smollm2-135m-shaped';
const LLAMA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

let dir: string;
let s: Session;

/**
 * model.safetensors with every tensor as BF16 (what SmolLM2's own file holds), drawn straight in
 * bf16: norms 1, everything else uniform with HF's initializer_range (0.02) as its standard
 * deviation, from a seeded xorshift (drawing 134M normals in f32 first takes longer than the run).
 */
function bf16Safetensors(config: LlamaFamilyConfig, seed: number): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const spec = llamaParamSpec(config);
  let offset = 0;
  for (const { name, shape } of spec) {
    const n = shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + 2 * n] };
    offset += 2 * n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headLen), true);
  out.fill(0x20, 8, 8 + headLen);
  out.set(json, 8);
  const words = new Uint16Array(out.buffer, 8 + headLen, offset / 2);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const half = 0.02 * Math.sqrt(3);
  let x = seed >>> 0 || 1;
  let at = 0;
  for (const { name, shape } of spec) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = /norm\.weight$/.test(name);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      f[0] = norm ? 1 : ((x >>> 0) / 2 ** 32 - 0.5) * 2 * half;
      words[at++] = u[0] >>> 16; // exact: the value is then read back as this bf16
    }
  }
  return out;
}

async function download(page: Page, button: string): Promise<Uint8Array> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.getByRole('button', { name: button, exact: true }).click()]);
  return new Uint8Array(readFileSync(await d.path()));
}

/** "≈ 1.23 GB per run" → bytes. */
function perRun(text: string): number {
  const m = /≈ ([\d.]+) (KB|MB|GB) (?:GPU memory )?per run/.exec(text);
  if (!m) throw new Error(`no per-run estimate in "${text}"`);
  return Number(m[1]) * 1024 ** { KB: 1, MB: 2, GB: 3 }[m[2] as 'KB' | 'MB' | 'GB'];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prefplay-lora-e2e-'));
  // SmolLM2-135M's shape over the chat helper's byte-level vocabulary (ids < 260 of 49,152)
  const config: LlamaFamilyConfig = { ...llamaPresetConfig('smollm2-135m'), bosTokenId: SPECIALS.bos, eosTokenId: SPECIALS.imEnd, torchDtype: 'bfloat16' };
  const folder = join(dir, FOLDER);
  mkdirSync(folder);
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...llamaConfigToHF(config), torch_dtype: 'bfloat16' }, null, 2) + '\n');
  writeFileSync(join(folder, 'model.safetensors'), bf16Safetensors(config, 11));
  const tok = chatTokenizerFiles(config.maxPositionEmbeddings);
  writeFileSync(join(folder, 'tokenizer.json'), tok.tokenizerJson!);
  writeFileSync(join(folder, 'tokenizer_config.json'), tok.tokenizerConfigJson!);
  const pairs = [{ prompt: '2+3=', chosen: '5', rejected: '6' }];
  writeFileSync(join(dir, 'pairs.jsonl'), pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  s = await openPage(baseUrl + QUERY, { webgpu: true });
}, 180_000);
afterAll(async () => {
  await s?.browser.close();
});

describe('LoRA in the page', () => {
  it('trains SmolLM2-135M-shaped DPO vs ORPO with LoRA set in the form, and exports the PEFT adapter', async () => {
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Data');
    await page.getByLabel('Preference pairs file').setInputFiles(join(dir, 'pairs.jsonl'));
    await page.getByTestId('accepted-count').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('accepted-count').textContent()).toBe('1');

    await openTab(page, 'Model');
    await page.getByLabel('Model folder').setInputFiles(join(dir, FOLDER));
    const details = page.getByRole('group', { name: 'Model details' });
    await expect.poll(() => details.textContent(), { timeout: 120_000 }).toMatch(/llama/);
    const text = (await details.textContent()) ?? '';
    expect(text).toMatch(/30 · 9 \(3 key\/value\) · 576/);
    expect(text).toContain('134,515,008 parameters');
    const memory = page.getByTestId('model-memory');
    const full = (await memory.textContent()) ?? '';
    expect(full).not.toMatch(/LoRA saves/);

    // LoRA through the shared settings form
    await openTab(page, 'Settings');
    const form = page.getByRole('group', { name: 'LoRA and memory' });
    await form.getByLabel('LoRA adapters').check();
    await form.getByLabel('LoRA rank r').fill('8');
    await form.getByLabel('lora_alpha').fill('16');
    const targets = form.getByRole('group', { name: 'Target modules' });
    for (const t of LLAMA_TARGETS) expect(await targets.getByLabel(t, { exact: true }).isChecked(), t).toBe(true);
    const base = form.getByLabel('Frozen base dtype');
    expect(await base.inputValue()).toBe(''); // the checkpoint's own
    expect(await base.locator('option:checked').textContent()).toBe("the checkpoint's (bf16)");
    expect(await form.getByLabel('Activation checkpointing').locator('option:checked').textContent()).toBe('auto (on for this model)');
    await expect.poll(() => new URL(page.url()).searchParams.get('lora'), { timeout: 10_000 }).toBe('8:16');
    expect(new URL(page.url()).searchParams.get('base')).toBeNull();
    const savings = (await form.getByTestId('memory-savings').textContent()) ?? '';
    expect(savings).toMatch(/LoRA saves [\d.]+ (MB|GB), bf16 base saves [\d.]+ MB, checkpointing saves [\d.]+ (MB|GB)/);

    // the Model tab's estimate now counts LoRA: less than full fine-tuning
    await openTab(page, 'Model');
    const withLora = (await memory.textContent()) ?? '';
    expect(withLora).toMatch(/frozen base, adapters/);
    expect(withLora).toMatch(/LoRA saves/);
    expect(perRun(withLora)).toBeLessThan(perRun(full) / 2);
    console.log(`memory per run: full fine-tuning ${/≈ [^(]+/.exec(full)![0]}, LoRA ${/≈ [^(]+/.exec(withLora)![0]} (${/LoRA saves.*/.exec(withLora)![0]})`);

    const t0 = Date.now();
    await page.getByRole('button', { name: 'Start DPO vs ORPO' }).click();
    await waitForSteps(page, RUNS, STEPS, 300_000, true);
    console.log(`DPO vs ORPO, ${STEPS} LoRA updates each: ${((Date.now() - t0) / 1000).toFixed(1)} s from Start`);
    await page.mouse.move(0, 0);
    await screenshot(page, 'lora-done');

    // every metric under TRL's names, finite; DPO starts at its reference
    await openTab(page, 'Export');
    const rows = new TextDecoder()
      .decode(await download(page, 'Metrics JSON Lines'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const run of RUNS) {
      const mine = rows.filter((r) => r.run === run);
      expect(mine.map((r) => r.step), run).toEqual([1]);
      for (const r of mine) {
        expect(r.settings, run).toMatch(/ lora=8:16( |$)/);
        for (const [k, v] of Object.entries(r)) if (typeof v === 'number') expect(Number.isFinite(v), `${run} ${k} at step ${String(r.step)}: ${v}`).toBe(true);
      }
    }
    const dpo = rows.filter((r) => r.run === 'DPO');
    const orpo = rows.filter((r) => r.run === 'ORPO');
    for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'grad_norm', 'learning_rate']) expect(dpo[0], k).toHaveProperty([k]);
    for (const k of ['loss', 'nll_loss', 'log_odds_ratio', 'log_odds_chosen', 'rewards/margins', 'logps/chosen']) expect(orpo[0], k).toHaveProperty([k]);
    // B = 0 at the start: the adapted policy equals the base with the adapters off, exactly
    expect(dpo[0]['rewards/chosen']).toBe(0);
    expect(dpo[0]['rewards/rejected']).toBe(0);
    expect(dpo[0]['rewards/margins']).toBe(0);
    expect(dpo[0].loss as number).toBeCloseTo(Math.log(2), 12);

    // DPO's PEFT adapter folder
    const files = unzip(await download(page, 'DPO PEFT adapter'));
    const cfg = JSON.parse(new TextDecoder().decode(files.get('adapter_config.json'))) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 8, lora_alpha: 16, base_model_name_or_path: FOLDER, fan_in_fan_out: false });
    expect([...(cfg.target_modules as string[])].sort()).toEqual([...LLAMA_TARGETS].sort());
    const st = parseSafetensors(files.get('adapter_model.safetensors')!);
    expect(st.tensors.size).toBe(30 * 7 * 2);
    expect(st.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')).toMatchObject({ dtype: 'F32', shape: [8, 576] });
    expect(st.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')).toMatchObject({ dtype: 'F32', shape: [576, 8] });
    expect(st.tensors.get('base_model.model.model.layers.29.self_attn.k_proj.lora_B.weight')).toMatchObject({ shape: [192, 8] });
    expect(st.tensors.get('base_model.model.model.layers.29.mlp.down_proj.lora_A.weight')).toMatchObject({ shape: [8, 1536] });
    // the update moved the adapters: B started at 0 and got a gradient (A's first gradient is 0), A within PEFT's init bound
    const B = readTensorF32(st, 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight');
    expect(B.some((x) => x !== 0)).toBe(true);
    const A = readTensorF32(st, 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(A.every((x) => Math.abs(x) <= 1 / Math.sqrt(576))).toBe(true);
    expect(A.some((x) => x !== 0)).toBe(true);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
