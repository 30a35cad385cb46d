// The engine's independent check: the same ragged batch through onnxruntime-web (the exported
// graph, wasm) and through the WGSL GptRunner; per-position next-token log-probs must agree, and
// both must agree with the float64 GPT-2.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { randomIds, randomParams } from '../helpers/onnx-ref';
import type { GpuContext } from '../../src/engine/gpu';
import { GptModel } from '../../src/model/gpt';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { exportGpt2Onnx } from '../../src/onnx/gpt2';
import { createNodeOnnxLm } from '../../src/onnx/session-node';
import { checkEngineAgainstOrt } from '../../src/onnx/engine-check';
import { gpt2ForwardRef } from '../../src/reference/gpt2';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };

describe('ORT (exported graph) vs the WGSL engine', () => {
  it('per-position log-probs agree on a ragged batch, and both match float64 GPT-2', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = randomParams(config, rng);
    const seqs = randomIds(rng, config.vocabSize, [19, 6, 32]);
    const model = new GptModel(gpu, config);
    const lm = await createNodeOnnxLm(exportGpt2Onnx(config, params), { ...config, padId: config.eosTokenId });
    try {
      model.upload(params);
      const r = await checkEngineAgainstOrt(model, lm, seqs);
      console.log(`engine check seed=${seed}: max |engine − ORT| ${r.maxAbsDiff.toExponential(2)} over ${r.positions} positions (rel ${r.maxRelDiff.toExponential(2)}), worst seq ${r.worst.seq} pos ${r.worst.pos}`);
      expect(r.backend).toBe('wasm');
      expect(r.positions).toBe(18 + 5 + 31);
      const worstRef = gpt2ForwardRef(params, config, [seqs[r.worst.seq]]).logp[0][r.worst.pos];
      // |engine − ORT| ≤ what each may differ from float64 (rtol 1e-4, atol 1e-5), twice
      expect(r.maxAbsDiff, `seed=${seed}`).toBeLessThanOrEqual(2 * (1e-5 + 1e-4 * Math.abs(worstRef)));
      expectClose([r.worst.ort], [worstRef], { rtol: 1e-4, atol: 1e-5, what: `ORT at the worst position seed=${seed}` });
      expectClose([r.worst.engine], [worstRef], { rtol: 1e-4, atol: 1e-5, what: `engine at the worst position seed=${seed}` });

      // a different model in the engine is caught: the check is not blind
      const other = randomParams(config, new Rng(seed + 1));
      model.upload(other);
      const bad = await checkEngineAgainstOrt(model, lm, seqs);
      expect(bad.maxAbsDiff).toBeGreaterThan(0.05);
      await expect(checkEngineAgainstOrt(model, lm, [[1]])).rejects.toThrow(/at least 2 are needed/);
    } finally {
      await lm.release();
      model.destroy();
    }
  });
});
