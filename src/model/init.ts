// Random initialisation as Hugging Face GPT2PreTrainedModel._init_weights: Conv1D weights and
// both embeddings N(0, 0.02), every c_proj weight N(0, 0.02/sqrt(2·L)) (GPT-2's scaled
// residual init), biases 0, LayerNorm weight 1 and bias 0. Draws come from one Rng in
// paramSpec order, so a seed reproduces the model exactly.
import type { GPTConfig } from './config';
import { paramSpec } from './config';
import { Rng } from '../util/rng';

export const INITIALIZER_RANGE = 0.02;

export function initParams(config: GPTConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const residStd = INITIALIZER_RANGE / Math.sqrt(2 * config.nLayer);
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of paramSpec(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/\.ln_\w+\.weight$|^ln_f\.weight$/.test(name)) {
      data.fill(1);
    } else if (name.endsWith('.weight')) {
      const std = name.endsWith('c_proj.weight') ? residStd : INITIALIZER_RANGE;
      for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    }
    out.set(name, data);
  }
  return out;
}
