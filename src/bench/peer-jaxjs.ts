// The second peer: the same GPT-2 training step written in jax-js (@jax-js/jax) on its WebGPU
// backend, the way a performance-minded jax-js user would write it — a pure loss function of a
// parameter tree, `valueAndGrad`, global-norm clipping and Adam written over the tree, and the
// whole update (forward, backward, clipping, Adam) under one `jit`, so jax-js fuses elementwise
// work into its kernels and replays one compiled program per step. Same config, weights layout
// (Conv1D (in,out), tied LM head), batch, coefficients and hyperparameters as the engine's step
// (src/bench/train-step.ts) and the TF.js peer (src/bench/peer-tfjs.ts).
// Dimensions: B batch, T time, C channels, NH heads, HS = C/NH, V vocab, L layers.
//
// Written around three limits of jax-js 0.1.25 (docs/perf.md "The jax-js peer"):
// - attention is two np.matmul calls and a causal `where`, not nn.dotProductAttention: that one
//   parses an einsum with iterator helpers (Iterator.prototype.map), which Node 20 lacks;
// - the embedding lookup is np.take on (B,T) token ids added straight to the positions: the
//   backward of take is a scatter, a routine that jit can only feed from a materialised array,
//   and a reshape between take and its use made jit refuse the program;
// - log p(target) is picked with a `targets == arange(V)` mask, not nn.oneHot, which indexes an
//   eye(V) constant: V² floats, a 10 GB buffer at GPT-2's vocabulary.
// `jax` is passed in (its WebGPU backend initialised), so this runs in Node and in pages.
import type * as JAX from '@jax-js/jax';
import type { GPTConfig } from '../model/config';
import { paramSpec } from '../model/config';
import type { BenchBatch } from './workload';

export type Jax = typeof JAX;

/** The @jax-js/jax release this peer is written against (the package exports no version; tests/unit/bench-jaxjs.test.ts keeps this equal to node_modules'). */
export const JAXJS_VERSION = '0.1.25';

export interface LoadedJaxPeer {
  jax: Jax;
  name: string;
  version: string;
  adapter: { vendor: string; architecture: string; description: string };
}

/** Starts jax-js's WebGPU backend (it requests its own device from navigator.gpu) and makes it the default device. Node and pages. */
export async function startJaxWebgpu(jax: Jax): Promise<LoadedJaxPeer> {
  const devices = await jax.init('webgpu');
  if (!devices.includes('webgpu')) throw new Error('jax-js could not start its WebGPU backend on this adapter');
  jax.defaultDevice('webgpu');
  const info = (jax.getWebGPUDevice() as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    jax,
    name: 'jax-js WebGPU backend (GPT-2 in jax-js, grad + jit)',
    version: JAXJS_VERSION,
    adapter: { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', description: info?.description ?? '' },
  };
}

type Arr = JAX.numpy.Array;
type Params = { [name: string]: Arr };
type AdamState = { params: Params; m: Params; v: Params; t: Arr };

/** Torch defaults as the engine's AdamW with decay 0 (src/bench/train-step.ts). */
export interface JaxStepHp {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** clip_grad_norm_: scale = min(1, max / (‖g‖ + 1e-6)). */
  maxGradNorm: number;
}

export const JAX_STEP_HP: JaxStepHp = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1.0 };

/** The jax-js WebGPU backend's device queue, to wait for its work the way the engine does. */
export async function jaxIdle(jax: Jax): Promise<void> {
  await jax.getWebGPUDevice().queue.onSubmittedWorkDone();
}

export class JaxGpt {
  private state: AdamState;
  private readonly causal: Arr;
  private readonly trainStep: (s: AdamState, tokens: Arr, targets: Arr, coef: Arr, causal: Arr) => [AdamState, Arr];
  private readonly lossAndGrad: (p: Params, tokens: Arr, targets: Arr, coef: Arr, causal: Arr) => [Arr, Params];
  /** Milliseconds of the first step (tracing, kernel generation, pipeline compilation, the run). */
  firstStepMs: number | null = null;

  constructor(
    private jax: Jax,
    readonly config: GPTConfig,
    weights: Map<string, Float32Array>,
    readonly B: number,
    readonly T: number,
    readonly hp: JaxStepHp = JAX_STEP_HP,
  ) {
    const { numpy: np, nn, jit, valueAndGrad, tree } = jax;
    const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V, layerNormEpsilon: eps } = config;
    const HS = C / NH;
    if (T > config.nPositions) throw new Error(`jax-js peer: T=${T} exceeds n_positions ${config.nPositions}`);
    const params: Params = {};
    const m: Params = {};
    const v: Params = {};
    for (const s of paramSpec(config)) {
      const w = weights.get(s.name);
      if (!w) throw new Error(`jax-js peer: missing tensor "${s.name}"`);
      params[s.name] = np.array(w, { shape: [...s.shape] });
      m[s.name] = np.zeros([...s.shape]);
      v[s.name] = np.zeros([...s.shape]);
    }
    this.state = { params, m, v, t: np.zeros([]) };
    this.causal = np.tri(T, T, 0, { dtype: np.bool });

    const layerNorm = (x: Arr, w: Arr, b: Arr) => nn.standardize(x, -1, { epsilon: eps }).mul(w).add(b);
    const linear = (x: Arr, w: Arr, b: Arr) => np.matmul(x, w).add(b);

    // Σ coef·log p(target) over the batch; positions without a target have coef 0 (target 0).
    // Every argument is consumed once (jax-js ownership: `.ref` for each further use).
    const loss = (p: Params, tokens: Arr, targets: Arr, coef: Arr, causal: Arr): Arr => {
      let x = np.take(p['wte.weight'].ref, tokens, 0).add(p['wpe.weight'].slice([0, T])); // (B,T,C)
      for (let l = 0; l < L; l++) {
        const h = `h.${l}`;
        const qkv = linear(layerNorm(x.ref, p[`${h}.ln_1.weight`], p[`${h}.ln_1.bias`]), p[`${h}.attn.c_attn.weight`], p[`${h}.attn.c_attn.bias`]);
        const [q, k, vv] = np.split(qkv.reshape([B, T, 3, NH, HS]).transpose([2, 0, 3, 1, 4]), 3, 0).map((t) => t.reshape([B, NH, T, HS]));
        const scores = np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(HS)); // (B,NH,T,T)
        const att = nn.softmax(np.where(causal.ref, scores, -Infinity), -1);
        const y = np.matmul(att, vv).transpose([0, 2, 1, 3]).reshape([B, T, C]);
        x = x.add(linear(y, p[`${h}.attn.c_proj.weight`], p[`${h}.attn.c_proj.bias`]));
        const fc = nn.gelu(linear(layerNorm(x.ref, p[`${h}.ln_2.weight`], p[`${h}.ln_2.bias`]), p[`${h}.mlp.c_fc.weight`], p[`${h}.mlp.c_fc.bias`]), { approximate: true });
        x = x.add(linear(fc, p[`${h}.mlp.c_proj.weight`], p[`${h}.mlp.c_proj.bias`]));
      }
      causal.dispose();
      const lnf = layerNorm(x, p['ln_f.weight'], p['ln_f.bias']).reshape([B * T, C]);
      const logits = np.matmul(lnf, p['wte.weight'].transpose()); // (BT,V)
      // log p(target) by a comparison mask, which jit fuses; nn.oneHot(targets, V) would index an
      // eye(V) constant: V² floats, 10 GB at GPT-2's vocabulary
      const hit = targets.reshape([B * T, 1]).equal(np.arange(V, undefined, undefined, { dtype: np.int32 }));
      const logp = np.where(hit, nn.logSoftmax(logits, -1), 0).sum(-1);
      return logp.mul(coef).sum();
    };

    const { lr, beta1: b1, beta2: b2, eps: adamEps, maxGradNorm } = hp;
    const step = (s: AdamState, tokens: Arr, targets: Arr, coef: Arr, causal: Arr): [AdamState, Arr] => {
      const [value, grads] = valueAndGrad(loss)(tree.ref(s.params), tokens, targets, coef, causal);
      const names = Object.keys(grads);
      const normSq = names.map((n) => np.square(grads[n].ref).sum()).reduce((a, b) => a.add(b));
      const scale = np.minimum(np.reciprocal(np.sqrt(normSq).add(1e-6)).mul(maxGradNorm), 1);
      const t = s.t.add(1); // consumes s.t
      const lrT = np.reciprocal(np.power(b1, t.ref).mul(-1).add(1)).mul(lr); // lr / (1 − β1ᵗ)
      const rootBc2 = np.sqrt(np.power(b2, t.ref).mul(-1).add(1)); // √(1 − β2ᵗ)
      const next: AdamState = { params: {}, m: {}, v: {}, t };
      for (const n of names) {
        const g = grads[n].mul(scale.ref);
        const mn = s.m[n].mul(b1).add(g.ref.mul(1 - b1));
        const vn = s.v[n].mul(b2).add(np.square(g).mul(1 - b2));
        const denom = np.sqrt(vn.ref).div(rootBc2.ref).add(adamEps);
        next.params[n] = s.params[n].sub(mn.ref.mul(lrT.ref).div(denom));
        next.m[n] = mn;
        next.v[n] = vn;
      }
      scale.dispose();
      lrT.dispose();
      rootBc2.dispose();
      return [next, value];
    };

    this.trainStep = jit(step) as unknown as typeof this.trainStep;
    this.lossAndGrad = jit(valueAndGrad(loss)) as unknown as typeof this.lossAndGrad;
  }

  private inputs(batch: BenchBatch, coef: Float32Array): [Arr, Arr, Arr] {
    const np = this.jax.numpy;
    const { B, T } = this;
    if (batch.B !== B || batch.T !== T || coef.length !== B * T) throw new Error(`jax-js peer: batch ${batch.B}×${batch.T} (${coef.length} coefficients) for a ${B}×${T} model`);
    return [
      np.array(Int32Array.from(batch.tokens), { dtype: np.int32, shape: [B, T] }),
      np.array(Int32Array.from(batch.targets, (t) => (t > 0x7fffffff ? 0 : t)), { dtype: np.int32 }),
      np.array(coef),
    ];
  }

  /** One step: forward + backward, clip by global norm, Adam (one jit program), read the loss back. */
  async step(batch: BenchBatch, coef: Float32Array): Promise<number> {
    const t0 = performance.now();
    const [tokens, targets, c] = this.inputs(batch, coef);
    const [state, value] = this.trainStep(this.state, tokens, targets, c, this.causal.ref);
    this.state = state;
    // every output of a jit call shares one list of pending work: reading the loss submits the
    // whole program (Adam included), and the queue runs it before the loss's copy; one wait more
    // for the queue, as the engine and the TF.js peer end theirs. (blockUntilReady on each of the
    // state's leaves would add one readback round trip per tensor.)
    const loss = (await value.data())[0];
    await jaxIdle(this.jax);
    this.firstStepMs ??= performance.now() - t0;
    return loss;
  }

  /** Σ coef·log p and its gradient by parameter name, without an update (tests). */
  async lossAndGrads(batch: BenchBatch, coef: Float32Array): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
    const [tokens, targets, c] = this.inputs(batch, coef);
    const [value, grads] = this.lossAndGrad(this.jax.tree.ref(this.state.params), tokens, targets, c, this.causal.ref);
    const out = new Map<string, Float32Array>();
    for (const [name, g] of Object.entries(grads)) out.set(name, (await g.data()) as Float32Array);
    return { loss: (await value.data())[0], grads: out };
  }

  /** The current parameters by name (tests). */
  async params(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, p] of Object.entries(this.state.params)) out.set(name, (await p.ref.data()) as Float32Array);
    return out;
  }

  destroy(): void {
    this.jax.tree.dispose(this.state);
    this.causal.dispose();
    (this.trainStep as unknown as { dispose?: () => void }).dispose?.();
    (this.lossAndGrad as unknown as { dispose?: () => void }).dispose?.();
  }
}

/** The jax-js matmul the bench times against the engine's: C (M,N) = A (M,K)·B (K,N), np.matmul. */
export function jaxMatmul(jax: Jax, A: Float32Array, B: Float32Array, M: number, N: number, K: number): { run: () => Promise<void>; destroy: () => void } {
  const np = jax.numpy;
  const a = np.array(A, { shape: [M, K] });
  const b = np.array(B, { shape: [K, N] });
  return {
    async run() {
      const c = np.matmul(a.ref, b.ref);
      await c.blockUntilReady();
      await jaxIdle(jax);
      c.dispose();
    },
    destroy() {
      a.dispose();
      b.dispose();
    },
  };
}
