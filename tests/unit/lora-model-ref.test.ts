// Tier 1 for LoRA in the whole-model oracles (src/reference/gpt2.ts, llama.ts): every adapter
// tensor's gradient against central finite differences of Σ coef·logp (B ≠ 0), the base
// gradients unchanged in form, and B = 0 (PEFT's init) giving exactly the base model.
import { describe, it, expect } from 'vitest';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { llamaBackwardRef, llamaForwardRef, llamaParamSpec, type LlamaConfig } from '../../src/reference/llama';
import { paramSpec, type GPTConfig } from '../../src/model/config';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';

const GPT: GPTConfig = { vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: 10, eosTokenId: 10 };
const LLAMA: LlamaConfig = {
  model_type: 'qwen2', vocab_size: 13, hidden_size: 8, intermediate_size: 10, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
  head_dim: 4, rms_norm_eps: 1e-5, rope_theta: 100, max_position_embeddings: 8, tie_word_embeddings: false,
};

type Dims = Array<[string, number, number]>; // module, in, out

function gptModules(): Dims {
  const C = GPT.nEmbd;
  return [0, 1].flatMap((l) => [[`h.${l}.attn.c_attn`, C, 3 * C], [`h.${l}.attn.c_proj`, C, C], [`h.${l}.mlp.c_fc`, C, 4 * C], [`h.${l}.mlp.c_proj`, 4 * C, C]] as Dims);
}

function llamaModules(): Dims {
  const { hidden_size: C, intermediate_size: I } = LLAMA;
  const QC = 16, KC = 8;
  return [0, 1].flatMap((l) => {
    const p = `model.layers.${l}`;
    return [[`${p}.self_attn.q_proj`, C, QC], [`${p}.self_attn.k_proj`, C, KC], [`${p}.self_attn.v_proj`, C, KC], [`${p}.self_attn.o_proj`, QC, C], [`${p}.mlp.gate_proj`, C, I], [`${p}.mlp.up_proj`, C, I], [`${p}.mlp.down_proj`, I, C]] as Dims;
  });
}

function adapters(mods: Dims, r: number, rng: Rng, zeroB = false): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const [name, inC, outC] of mods) {
    m.set(`${name}.lora_A.weight`, Float64Array.from({ length: r * inC }, () => 0.5 * rng.normal()));
    m.set(`${name}.lora_B.weight`, Float64Array.from({ length: outC * r }, () => (zeroB ? 0 : 0.5 * rng.normal())));
  }
  return m;
}

function params(specs: Array<{ name: string; shape: readonly number[] }>, rng: Rng): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const gain = /(ln_\w+|norm)\.weight$/.test(s.name);
    m.set(s.name, Float64Array.from({ length: n }, () => (gain ? 1 : 0) + 0.5 * rng.normal()));
  }
  return m;
}

const FAMILIES = [
  {
    label: 'gpt2',
    specs: () => paramSpec(GPT),
    mods: gptModules,
    V: GPT.vocabSize,
    forward: (p: Map<string, Float64Array>, seqs: number[][], lora?: { scale: number; weights: Map<string, Float64Array> }) => gpt2ForwardRef(p, GPT, seqs, undefined, lora),
    backward: (cache: unknown, coef: number[][]) => gpt2BackwardRef(cache as Parameters<typeof gpt2BackwardRef>[0], coef),
  },
  {
    label: 'qwen2 (GQA, q/k/v biases, untied)',
    specs: () => llamaParamSpec(LLAMA),
    mods: llamaModules,
    V: LLAMA.vocab_size,
    forward: (p: Map<string, Float64Array>, seqs: number[][], lora?: { scale: number; weights: Map<string, Float64Array> }) => llamaForwardRef(p, LLAMA, seqs, undefined, lora),
    backward: (cache: unknown, coef: number[][]) => llamaBackwardRef(cache as Parameters<typeof llamaBackwardRef>[0], coef),
  },
];

describe.each(FAMILIES)('LoRA in the $label float64 reference', (f) => {
  it('every adapter gradient matches central finite differences (B ≠ 0)', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const p = params(f.specs(), rng);
    const r = 3;
    const lora = { scale: 2 / r, weights: adapters(f.mods(), r, rng) };
    const seqs = [[1, 4, 2, 7, 3, 0], [5, 2, 9]].map((s) => s.map((t) => t % f.V));
    const coef = seqs.map((s) => Array.from({ length: s.length - 1 }, () => rng.uniform(-1, 1)));
    const objective = () => f.forward(p, seqs, lora).logp.reduce((acc, row, i) => acc + row.reduce((a, v, t) => a + coef[i][t] * v, 0), 0);
    const grads = f.backward(f.forward(p, seqs, lora).cache, coef);
    const h = 1e-5;
    for (const [name, w] of lora.weights) {
      const g = grads.get(name)!;
      expect(g.length, name).toBe(w.length);
      const got: number[] = [], fd: number[] = [];
      for (let j = 0; j < 6; j++) {
        const i = rng.int(w.length);
        const old = w[i];
        w[i] = old + h;
        const up = objective();
        w[i] = old - h;
        const down = objective();
        w[i] = old;
        got.push(g[i]);
        fd.push((up - down) / (2 * h));
      }
      expectClose(got, fd, { rtol: 1e-5, atol: 1e-7, what: `${name} seed=${seed}` });
    }
  });

  it('B = 0 gives exactly the base model and a zero gradient for every A', () => {
    const rng = new Rng(freshSeed());
    const p = params(f.specs(), rng);
    const lora = { scale: 4, weights: adapters(f.mods(), 2, rng, true) };
    const seqs = [[3, 1, 4, 1, 5]];
    const base = f.forward(p, seqs);
    const with0 = f.forward(p, seqs, lora);
    expect(with0.logp).toEqual(base.logp);
    const grads = f.backward(with0.cache, [[1, -0.5, 0.25, 2]]);
    const baseGrads = f.backward(base.cache, [[1, -0.5, 0.25, 2]]);
    for (const [name] of lora.weights) {
      if (name.endsWith('lora_A.weight')) expect(grads.get(name)!.every((x) => x === 0), name).toBe(true);
      else expect(grads.get(name)!.some((x) => x !== 0), name).toBe(true);
    }
    for (const s of f.specs()) expect(grads.get(s.name), s.name).toEqual(baseGrads.get(s.name));
  });
});
