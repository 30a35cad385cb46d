// The URL carries a comparison's configuration: encode → decode is the identity, bad values are
// reported (never silently used), and defaults stay out of the URL.
import { describe, it, expect } from 'vitest';
import { decodeConfig, encodeConfig, parseCardToken } from '../../../src/store/url';
import { newCard, METHOD_PRESETS as PRESETS } from '../../../src/store/presets';
import { DEFAULT_SETTINGS } from '../../../src/store/settings';

describe('URL configuration', () => {
  it('round-trips every preset and non-default settings', () => {
    const settings = { ...DEFAULT_SETTINGS, lr: 3e-5, steps: 7, batchSize: 3, seed: 9, schedule: 'cosine' as const, optimizer: 'sgd' as const, weightDecay: 0, maxLength: 48, maxPromptLength: 16, warmupSteps: 2, checkpointEvery: 4 };
    for (const p of Object.values(PRESETS)) {
      const cards = p.cards();
      const q = encodeConfig(cards, settings, 'my pairs.jsonl');
      const back = decodeConfig(q);
      expect(back.problems).toEqual([]);
      expect(back.cards).toEqual(cards);
      expect({ ...DEFAULT_SETTINGS, ...back.settings }).toEqual(settings);
      expect(back.dataset).toBe('my pairs.jsonl');
    }
  });

  it('writes readable run tokens and only the settings that matter', () => {
    const q = encodeConfig(PRESETS['dpo-vs-orpo'].cards(), DEFAULT_SETTINGS, null);
    expect(q).toBe(`?runs=dpo:sigmoid:0.1,orpo:0.1&lr=0.0005&steps=${DEFAULT_SETTINGS.steps}&bs=4&seed=42&eval=0.1`);
    const cards = [newCard('dpo', { lossType: 'robust', beta: 0.2, labelSmoothing: 0.1 }), newCard('simpo', { beta: 2.5, simpoGamma: 1, cpoAlpha: 0.5 }), newCard('cpo', { beta: 0.3, cpoAlpha: 2 }), newCard('dpo', { lossType: ['sigmoid', 'sft'], lossWeights: [1, 0.5] }), newCard('orpo', { nllIncludesPrompt: false }), newCard('sft')];
    const back = decodeConfig(encodeConfig(cards, DEFAULT_SETTINGS, null));
    expect(back.cards).toEqual(cards);
  });

  it('reports what it cannot read, naming the key', () => {
    const r = decodeConfig('?runs=dpo:bogus:0.1&lr=abc&sched=weekly&opt=adam&steps=5');
    expect(r.cards).toBeUndefined();
    expect(r.settings).toEqual({ steps: 5 });
    expect(r.problems).toEqual(['runs: "dpo:bogus:0.1": dpo: option lossType "bogus" is unknown; expected one of sigmoid, robust, hinge, ipo, sigmoid_norm, exo_pair, nca_pair, bco_pair, sppo_hard, aot, aot_unpaired, apo_zero, apo_down, discopop, sft', 'lr: "abc" is not a number', 'sched: "weekly" is not linear, cosine or constant', 'opt: "adam" is not adamw or sgd']);
    expect(() => parseCardToken('zzz:0.1')).toThrow(/unknown method "zzz"/);
    expect(() => parseCardToken('orpo:x')).toThrow(/λ: "x" is not a decimal number/);
  });

  it('carries bf16 AdamW moments and f16 activations, and names a bad value', () => {
    const settings = { ...DEFAULT_SETTINGS, momentsDtype: 'bf16' as const };
    const q = encodeConfig(PRESETS['dpo-vs-orpo'].cards(), settings, null);
    expect(q).toContain('&moments=bf16');
    expect({ ...DEFAULT_SETTINGS, ...decodeConfig(q).settings }).toEqual(settings);
    expect(encodeConfig(PRESETS['dpo-vs-orpo'].cards(), DEFAULT_SETTINGS, null)).not.toContain('moments=');
    expect(decodeConfig('?moments=f16').problems).toEqual(['moments: "f16" is not f32 or bf16']);
    const f16 = { ...DEFAULT_SETTINGS, activationsDtype: 'f16' as const };
    expect({ ...DEFAULT_SETTINGS, ...decodeConfig(encodeConfig([], f16, null)).settings }).toEqual(f16);
    expect(decodeConfig('?acts=bf16').problems).toEqual(['acts: "bf16" is not f32 or f16']);
  });

  it('carries LoRA (rank, alpha, targets), the frozen base dtype and activation checkpointing, and names a bad value', () => {
    const cards = PRESETS['dpo-vs-orpo'].cards();
    const lora = { ...DEFAULT_SETTINGS, lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, baseDtype: 'bf16' as const, checkpointActivations: true };
    const q = encodeConfig(cards, lora, null);
    expect(q).toContain('&lora=8:16:q_proj/v_proj&base=bf16&ckptacts=1');
    const back = decodeConfig(q);
    expect(back.problems).toEqual([]);
    expect({ ...DEFAULT_SETTINGS, ...back.settings }).toEqual(lora);
    // every linear layer (no targets), the checkpoint's own base dtype, checkpointing off
    const all = { ...DEFAULT_SETTINGS, lora: { r: 4, alpha: 8 }, checkpointActivations: false };
    expect(encodeConfig(cards, all, null)).toMatch(/&lora=4:8&ckptacts=0$/);
    expect({ ...DEFAULT_SETTINGS, ...decodeConfig(encodeConfig(cards, all, null)).settings }).toEqual(all);
    // full fine-tuning writes none of them
    expect(encodeConfig(cards, DEFAULT_SETTINGS, null)).not.toMatch(/lora=|base=|ckptacts=/);
    expect(decodeConfig('?lora=8').problems).toEqual(['lora: "8" is not R:ALPHA or R:ALPHA:TARGETS (e.g. 8:16 or 8:16:q_proj/v_proj)']);
    expect(decodeConfig('?lora=x:16').problems).toEqual(['lora: the rank in "x:16" is not a number']);
    expect(decodeConfig('?lora=8:16:').problems[0]).toMatch(/^lora: "8:16:" names no target modules/);
    expect(decodeConfig('?lora=0:16').problems).toEqual(['lora: LoRA rank r must be a whole number from 1 to 4096 (the adapters\' rank), got 0']);
    expect(decodeConfig('?lora=8:-1').problems).toEqual(['lora: lora_alpha must be > 0 (the update is scaled by alpha / r), got -1']);
    expect(decodeConfig('?lora=8:16:q-proj').problems[0]).toMatch(/^lora: Target modules must be module names/);
    expect(decodeConfig('?lora=8:16&base=f8').problems).toEqual(['base: "f8" is not f32, bf16, f16 (the frozen base weights\' storage of a LoRA run)']);
    // a 16-bit base without LoRA: full fine-tuning keeps f32 master weights
    expect(decodeConfig('?base=bf16').problems).toEqual(['base: Frozen base dtype applies to LoRA runs only: full fine-tuning keeps f32 master weights (got bf16)']);
    expect(decodeConfig('?ckptacts=yes').problems).toEqual(['ckptacts: "yes" is not 1 (activation checkpointing on) or 0 (off)']);
  });

  it('refuses out-of-range values and methods the page cannot train, naming them', () => {
    expect(decodeConfig('?runs=orpo:-5').problems).toEqual(['runs: "orpo:-5": orpo: option beta must be > 0, got -5']);
    expect(decodeConfig('?runs=dpo:robust:0.1:0.7').problems[0]).toMatch(/labelSmoothing/);
    // KTO has a card (pairs are split into desirable and undesirable as TRL does)
    expect(decodeConfig('?runs=kto:0.1').problems).toEqual([]);
    expect(decodeConfig('?runs=dpo:sigmoid:0.1,kto:0.2').cards?.map((c) => [c.method, c.values.beta])).toEqual([['dpo', 0.1], ['kto', 0.2]]);
    expect(decodeConfig('?runs=orpo:0.1:1:2').problems[0]).toMatch(/orpo takes at most 2 values/);
  });

  it('drops duplicate runs', () => {
    expect(decodeConfig('?runs=orpo:0.1,orpo:0.1,orpo:0.2').cards!.map((c) => c.id)).toEqual(['orpo-0.1', 'orpo-0.2']);
  });
});
