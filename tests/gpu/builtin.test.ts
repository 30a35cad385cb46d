// The committed built-in model (public/models/builtin): it loads, has the builtin preset's
// shape, and on the held-out corpus rows of its training log it reproduces the logged final
// held-out loss and is far below a fresh random init of the same size (it learned something).
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { MODEL_PRESETS } from '../../src/model/config';
import { GptModel } from '../../src/model/gpt';
import { initParams } from '../../src/model/init';
import { corpusDocs, RowPacker } from '../../src/pretrain/corpus';
import { Pretrainer, PRETRAIN_DEFAULTS } from '../../src/pretrain/pretrain';
import { ByteTokenizer } from '../../src/tokenizer/byte';

const dir = join(__dirname, '..', '..', 'public', 'models', 'builtin');

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

interface Log {
  seeds: { heldout: number };
  corpus: { heldoutRows: number };
  hyperparameters: { seqLen: number; batchSize: number };
  heldout: Array<{ step: number; loss: number }>;
}

describe('built-in model', () => {
  it('has learned: held-out loss as logged, far below a random init', async () => {
    const ckpt = await readCheckpointDir(dir);
    expect(ckpt.config).toEqual(MODEL_PRESETS.builtin);
    expect(ckpt.tokenizer.kind).toBe('byte');
    const log = JSON.parse(readFileSync(join(dir, 'training-log.json'), 'utf8')) as Log;
    const T = log.hyperparameters.seqLen;
    const tok = new ByteTokenizer();
    const rows = new RowPacker(corpusDocs(log.seeds.heldout), (s) => tok.encode(s), T, ckpt.config.eosTokenId).rows(log.corpus.heldoutRows);
    const loss = async (params: Map<string, Float32Array>) => {
      const model = new GptModel(gpu, ckpt.config);
      model.upload(params);
      const tr = new Pretrainer(model, { ...PRETRAIN_DEFAULTS, batchSize: log.hyperparameters.batchSize, seqLen: T, steps: 1 });
      const l = await tr.evalLoss(rows);
      tr.destroy();
      model.destroy();
      return l;
    };
    const trained = await loss(ckpt.params);
    const fresh = await loss(initParams(ckpt.config, 0));
    const logged = log.heldout[log.heldout.length - 1].loss;
    expect(Math.abs(trained - logged)).toBeLessThan(1e-3 * logged);
    expect(fresh).toBeGreaterThan(5);
    expect(trained).toBeLessThan(0.5 * fresh);
  });
});
