// An exported model graph (GPT-2 or Llama family, ./export.ts) under onnxruntime-web: ragged token sequences in, logits out. The ORT
// module is passed in, so this file runs unchanged in Node (./session-node.ts: the wasm backend)
// and in the browser (./session-web.ts: WebGPU with wasm fallback, files from the app's origin).
// Dimensions: B batch, T time (the longest sequence), V vocab.
import type * as OrtModule from 'onnxruntime-web';
import { ONNX_INPUT, ONNX_OUTPUT } from './gpt2';

export type Ort = typeof OrtModule;

/** Logits of a right-padded batch: (B,T,V) row-major; positions past lengths[b] are padding. */
export interface BatchLogits {
  B: number;
  T: number;
  V: number;
  lengths: number[];
  logits: Float32Array;
}

export class OnnxLm {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtModule.InferenceSession,
    /** The execution provider the session was created with ('webgpu', 'wasm', ...). */
    readonly backend: string,
    readonly vocabSize: number,
    readonly nPositions: number,
    private readonly padId: number,
  ) {}

  /**
   * A session on the first execution provider in `providers` that accepts the model.
   * `model` is the .onnx bytes (e.g. from exportModelOnnx); vocabSize and nPositions come from the
   * model's config and bound the inputs; padId fills the right padding.
   */
  static async create(ort: Ort, model: Uint8Array, dims: { vocabSize: number; nPositions: number; padId?: number }, providers: string[] = ['wasm']): Promise<OnnxLm> {
    const errors: string[] = [];
    for (const ep of providers) {
      try {
        const session = await ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
        if (!session.inputNames.includes(ONNX_INPUT) || !session.outputNames.includes(ONNX_OUTPUT)) {
          await session.release();
          throw new Error(`the model has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; expected ${ONNX_INPUT} -> ${ONNX_OUTPUT}`);
        }
        return new OnnxLm(ort, session, ep, dims.vocabSize, dims.nPositions, dims.padId ?? 0);
      } catch (e) {
        errors.push(`${ep}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    throw new Error(`onnxruntime-web could not open the model (${errors.join('; ')})`);
  }

  /** One forward pass over ragged sequences (each 1..nPositions tokens in [0, V)). */
  async logits(seqs: readonly (readonly number[])[]): Promise<BatchLogits> {
    if (seqs.length === 0) throw new Error('logits: no sequences');
    const B = seqs.length;
    const lengths = seqs.map((s) => s.length);
    const T = Math.max(...lengths);
    const ids = new BigInt64Array(B * T).fill(BigInt(this.padId));
    seqs.forEach((s, b) => {
      if (s.length < 1 || s.length > this.nPositions) throw new Error(`sequence ${b} has ${s.length} tokens; expected 1..${this.nPositions} (n_positions)`);
      s.forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new Error(`sequence ${b} position ${t}: token ${id} is outside [0, ${this.vocabSize})`);
        ids[b * T + t] = BigInt(id);
      });
    });
    const input = new this.ort.Tensor('int64', ids, [B, T]);
    const out = await this.session.run({ [ONNX_INPUT]: input });
    const t = out[ONNX_OUTPUT];
    const dims = t.dims;
    if (t.type !== 'float32' || dims.length !== 3 || dims[0] !== B || dims[1] !== T || dims[2] !== this.vocabSize) {
      throw new Error(`logits: got ${t.type} [${dims.join(', ')}], expected float32 [${B}, ${T}, ${this.vocabSize}]`);
    }
    // getData() downloads from the GPU when the WebGPU provider kept the output there
    const logits = (await t.getData()) as Float32Array;
    input.dispose();
    t.dispose();
    return { B, T, V: this.vocabSize, lengths, logits };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}


/**
 * Per-position next-token log-probs from ORT logits: out[b][t] = log p(seq[t+1] | seq[..t]),
 * t = 0..len−2 — the quantity the WGSL engine computes (GptRunner.readTokenLogps).
 */
export function tokenLogps(batch: BatchLogits, seqs: readonly (readonly number[])[]): number[][] {
  const { T, V, logits } = batch;
  return seqs.map((s, b) => {
    const row: number[] = [];
    for (let t = 0; t + 1 < s.length; t++) {
      const off = (b * T + t) * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[off + v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[off + v] - max);
      row.push(logits[off + s[t + 1]] - max - Math.log(sum));
    }
    return row;
  });
}
