// LoRA adapters with PEFT's semantics (docs/design.md, "LoRA"), host side: which projections a
// target list picks, the adapter tensors' names and shapes, PEFT's initialisation, and merging
// into the base weights. The GPU state is ./lora-adapters.ts; the kernels src/kernels/lora.ts.
//
// A targeted projection y = x·W (+ b) becomes y + s·(x Aᵀ) Bᵀ with A [r, in], B [out, r] and
// s = lora_alpha / r (PEFT's LoraLayer without use_rslora, dropout 0). PEFT names the tensors
// `<module>.lora_A.weight` / `.lora_B.weight` and stores them in those shapes for both
// nn.Linear and GPT-2's Conv1D (whose weight is [in, out]: PEFT sets fan_in_fan_out and merges
// ΔW = (B A)ᵀ there). Targets match as PEFT's target_modules list does: a module is targeted when
// its name equals a target or ends with "." + target, so GPT-2's "c_proj" is both attn.c_proj and
// mlp.c_proj, and "attn.c_proj" only the first.
// A reward model (config `scoreHead`) trains its score head in full beside the adapters, as PEFT
// does for task_type SEQ_CLS (the classifier in modules_to_save): the adapter set then also holds
// a trainable copy of `score.weight` [1, C] (PEFT's ModulesToSaveWrapper copy, started from the
// base's head), which the runners read instead of the frozen original while the adapters are on,
// and which merging puts in place of the original.
// Dimensions: r rank, in/out the projection's input/output channels, L layers, C channels.
import type { TensorSpec } from '../engine/arena';
import { SCORE_WEIGHT } from './score-config';
import type { GPTConfig } from './config';
import type { LlamaFamilyConfig } from './llama-config';
import { Rng } from '../util/rng';

/** An adapter configuration as PEFT's LoraConfig holds it (r, lora_alpha, target_modules). */
export interface LoraConfig {
  /** Rank r ≥ 1. */
  r: number;
  /** lora_alpha: the update is scaled by alpha / r. */
  alpha: number;
  /** PEFT target_modules; absent or empty: every linear projection of the blocks (defaultLoraTargets). */
  targets?: readonly string[];
}

/** Storage of the frozen base weights of a LoRA run: f32, or bf16 / f16 widened in the matmuls. */
export type BaseDtype = 'f32' | 'bf16' | 'f16';

export const BASE_DTYPES: readonly BaseDtype[] = ['f32', 'bf16', 'f16'];

/** Ranks above this can only be a typo (no projection here is that wide). */
export const MAX_LORA_RANK = 4096;

/** One projection an adapter may attach to. */
export interface LinearModule {
  /** Parameter-name prefix in this engine: `h.0.attn.c_attn`, `model.layers.0.self_attn.q_proj`. */
  module: string;
  /** The base weight's parameter name (`${module}.weight`). */
  weight: string;
  /** Its bias, when the model has one. */
  bias: string | null;
  /** The module's name in the transformers model (what PEFT matches and saves under). */
  hfModule: string;
  /** Within a layer: `attn.c_attn`, `self_attn.q_proj`, … */
  key: string;
  layer: number;
  in: number;
  out: number;
  /** GPT-2's Conv1D: the weight is stored [in, out] (PEFT's fan_in_fan_out). */
  conv1d: boolean;
}

/** The per-layer projections of each family, in forward order. */
export const GPT2_LINEAR_KEYS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
export const LLAMA_LINEAR_KEYS = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'] as const;

function isLlama(c: GPTConfig | LlamaFamilyConfig): c is LlamaFamilyConfig {
  return typeof (c as Partial<LlamaFamilyConfig>).family === 'string';
}

/** Every linear projection of the model's blocks, layer by layer in forward order (no LM head, as PEFT's "all-linear"). */
export function linearModules(c: GPTConfig | LlamaFamilyConfig): LinearModule[] {
  const out: LinearModule[] = [];
  if (isLlama(c)) {
    const { hiddenSize: C, intermediateSize: I, numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS, numHiddenLayers: L } = c;
    const qkvBias = c.family === 'qwen2' || !!c.attentionBias;
    const dims: Record<string, [number, number, boolean]> = {
      'self_attn.q_proj': [C, NH * HS, qkvBias],
      'self_attn.k_proj': [C, NKV * HS, qkvBias],
      'self_attn.v_proj': [C, NKV * HS, qkvBias],
      'self_attn.o_proj': [NH * HS, C, c.family !== 'qwen2' && !!c.attentionBias],
      'mlp.gate_proj': [C, I, false],
      'mlp.up_proj': [C, I, false],
      'mlp.down_proj': [I, C, false],
    };
    for (let l = 0; l < L; l++) {
      for (const key of LLAMA_LINEAR_KEYS) {
        const module = `model.layers.${l}.${key}`;
        const [inC, outC, bias] = dims[key];
        out.push({ module, weight: `${module}.weight`, bias: bias ? `${module}.bias` : null, hfModule: module, key, layer: l, in: inC, out: outC, conv1d: false });
      }
    }
    return out;
  }
  const C = c.nEmbd;
  const dims: Record<string, [number, number]> = { 'attn.c_attn': [C, 3 * C], 'attn.c_proj': [C, C], 'mlp.c_fc': [C, 4 * C], 'mlp.c_proj': [4 * C, C] };
  for (let l = 0; l < c.nLayer; l++) {
    for (const key of GPT2_LINEAR_KEYS) {
      const module = `h.${l}.${key}`;
      const [inC, outC] = dims[key];
      out.push({ module, weight: `${module}.weight`, bias: `${module}.bias`, hfModule: `transformer.${module}`, key, layer: l, in: inC, out: outC, conv1d: true });
    }
  }
  return out;
}

/** PEFT target_modules naming every linear projection of the blocks: GPT-2 c_attn, c_proj, c_fc; Llama q/k/v/o, gate/up/down. */
export function defaultLoraTargets(c: GPTConfig | LlamaFamilyConfig): string[] {
  return isLlama(c) ? LLAMA_LINEAR_KEYS.map((k) => k.split('.')[1]) : ['c_attn', 'c_proj', 'c_fc'];
}

/** The targets a config names (its own, or the default). */
export function loraTargetList(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig): string[] {
  return lora.targets?.length ? [...lora.targets] : defaultLoraTargets(c);
}

/** PEFT's rule for a target_modules list: the name itself, or a suffix after a dot. */
export function targetMatches(hfModule: string, target: string): boolean {
  return hfModule === target || hfModule.endsWith(`.${target}`);
}

/**
 * The projections a LoRA config targets, in forward order. Throws naming a target that matches no
 * projection (PEFT refuses those too), listing what may be targeted.
 */
export function loraModules(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig): LinearModule[] {
  const all = linearModules(c);
  const targets = loraTargetList(c, lora);
  for (const t of targets) {
    if (!all.some((m) => targetMatches(m.hfModule, t))) {
      const keys = isLlama(c) ? LLAMA_LINEAR_KEYS : GPT2_LINEAR_KEYS;
      throw new Error(`LoRA target "${t}" matches no linear projection of this model (targets: ${keys.map((k) => k.split('.').pop()).filter((k, i, xs) => xs.indexOf(k) === i).join(', ')}, or ${keys.join(', ')})`);
    }
  }
  return all.filter((m) => targets.some((t) => targetMatches(m.hfModule, t)));
}

/** One line saying what is wrong with a LoRA config for this model, or null (config validation). */
export function loraProblem(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig): string | null {
  try {
    loraModules(c, lora);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** alpha / r: the factor of every adapter's update. */
export function loraScale(lora: LoraConfig): number {
  return lora.alpha / lora.r;
}

/** Names of a module's adapter tensors in this engine (PEFT's, without the model prefix). */
export function loraNames(m: LinearModule): { A: string; B: string } {
  return { A: `${m.module}.lora_A.weight`, B: `${m.module}.lora_B.weight` };
}

/** The modules a LoRA run trains in full beside the adapters (PEFT's modules_to_save): a reward model's score head, else none. */
export function loraSavedModules(c: GPTConfig | LlamaFamilyConfig): TensorSpec[] {
  if (!c.scoreHead) return [];
  return [{ name: SCORE_WEIGHT, shape: [1, isLlama(c) ? c.hiddenSize : c.nEmbd] }];
}

/**
 * The adapters' size table: A [r, in] then B [out, r] per targeted projection, in forward order,
 * then a reward model's trainable score head copy (loraSavedModules).
 */
export function loraSpec(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig): TensorSpec[] {
  const adapters = loraModules(c, lora).flatMap((m) => {
    const n = loraNames(m);
    return [
      { name: n.A, shape: [lora.r, m.in] },
      { name: n.B, shape: [m.out, lora.r] },
    ];
  });
  return [...adapters, ...loraSavedModules(c)];
}

/** Trained parameters of a LoRA run: A and B of every targeted projection, and a reward model's score head. */
export function loraParamCount(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig): number {
  return loraModules(c, lora).reduce((n, m) => n + lora.r * (m.in + m.out), 0) + loraSavedModules(c).reduce((n, t) => n + t.shape[0] * t.shape[1], 0);
}

/**
 * PEFT's initialisation (init_lora_weights=True): A by nn.init.kaiming_uniform_(a=√5), which is
 * U(−1/√in, 1/√in) for an [r, in] weight (gain √(2/(1+5)) times √(3/fan_in)); B = 0, so the
 * adapted model starts exactly at the base model. Seeded (PyTorch's generator is not
 * reproduced: the same distribution, other draws). A reward model's score head copy starts as
 * the base's head (PEFT's ModulesToSaveWrapper deep-copies the original module): `base` must hold
 * it then.
 */
export function loraInit(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig, seed: number, base?: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const rng = new Rng((seed * 2654435761 + 0x10a) >>> 0);
  const out = new Map<string, Float32Array>();
  for (const m of loraModules(c, lora)) {
    const n = loraNames(m);
    const bound = 1 / Math.sqrt(m.in);
    out.set(n.A, rng.floats(lora.r * m.in, -bound, bound));
    out.set(n.B, new Float32Array(m.out * lora.r));
  }
  for (const t of loraSavedModules(c)) {
    const w = base?.get(t.name);
    if (!w) throw new Error(`LoRA on a reward model: the starting weights have no "${t.name}" to train beside the adapters`);
    out.set(t.name, Float32Array.from(w));
  }
  return out;
}

/**
 * The base weights with every adapter merged in (PEFT's merge_and_unload): W += s·B A for an
 * nn.Linear weight [out, in], W += s·(B A)ᵀ for a Conv1D weight [in, out]; summed in float64,
 * rounded once to f32. Tensors without an adapter are returned as they are (not copied). A reward
 * model's trained score head (loraSavedModules, held with the adapters) replaces the base's, as
 * PEFT's merge_and_unload keeps the modules_to_save copy; it is taken whenever `adapters` holds
 * it (the page merges a reward run's adapters over the causal LM it started from).
 */
export function mergeLora(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig, base: ReadonlyMap<string, Float32Array>, adapters: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map(base);
  const s = loraScale(lora);
  const r = lora.r;
  for (const m of loraModules(c, lora)) {
    const n = loraNames(m);
    const W = base.get(m.weight), A = adapters.get(n.A), B = adapters.get(n.B);
    if (!W || !A || !B) throw new Error(`mergeLora: missing ${!W ? m.weight : !A ? n.A : n.B}`);
    const merged = new Float32Array(W.length);
    for (let o = 0; o < m.out; o++) {
      for (let i = 0; i < m.in; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += B[o * r + k] * A[k * m.in + i];
        const at = m.conv1d ? i * m.out + o : o * m.in + i;
        merged[at] = W[at] + s * d;
      }
    }
    out.set(m.weight, merged);
  }
  const score = adapters.get(SCORE_WEIGHT);
  if (score) out.set(SCORE_WEIGHT, score);
  else if (c.scoreHead) throw new Error(`mergeLora: missing ${SCORE_WEIGHT} (a reward model's score head trains beside its adapters)`);
  return out;
}

/** The base weights a 16-bit base dtype stores packed: every linear projection's weight (never embeddings, norms or biases). */
export function packedBaseNames(c: GPTConfig | LlamaFamilyConfig): Set<string> {
  return new Set(linearModules(c).map((m) => m.weight));
}

/** The Llama family's projections that run stacked with others (q|k|v, gate|up: src/model/llama.ts). */
const STACKED_KEYS = new Set(['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'mlp.gate_proj', 'mlp.up_proj']);

/** Whether a projection's output is a column slice of a stacked matmul output. */
export function isStacked(m: LinearModule): boolean {
  return !m.conv1d && STACKED_KEYS.has(m.key);
}

/**
 * Runner activation tensors of the adapters of layer l: u = s·x Aᵀ (R, r) per targeted
 * projection, named `${prefix}lora.${key}` (prefix `${l}.`, or the shared `ck.` with activation
 * checkpointing).
 */
export function loraLayerActivations(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig, l: number, prefix: string, R: number): TensorSpec[] {
  return loraModules(c, lora)
    .filter((m) => m.layer === l)
    .map((m) => ({ name: `${prefix}lora.${m.key}`, shape: [R, lora.r] }));
}

/** Runner scratch of the adapters: du (R, r), and delta (R, widest stacked projection) when one is stacked. */
export function loraScratchActivations(c: GPTConfig | LlamaFamilyConfig, lora: LoraConfig, R: number): TensorSpec[] {
  const widest = loraModules(c, lora).reduce((w, m) => (isStacked(m) ? Math.max(w, m.out) : w), 0);
  const s: TensorSpec[] = [{ name: 'lora_du', shape: [R, lora.r] }];
  if (widest > 0) s.push({ name: 'lora_delta', shape: [R, widest] });
  return s;
}

/**
 * The dtype a checkpoint's weights were saved in, as a LoRA run's default base dtype: a Llama-family
 * config.json's torch_dtype (bfloat16 → bf16, float16 → f16), else f32 (GPT-2 checkpoints are f32).
 */
export function checkpointBaseDtype(c: GPTConfig | LlamaFamilyConfig): BaseDtype {
  if (!isLlama(c)) return 'f32';
  return c.torchDtype === 'bfloat16' ? 'bf16' : c.torchDtype === 'float16' ? 'f16' : 'f32';
}
