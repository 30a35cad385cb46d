// The float64 GPT-2 reference against Hugging Face transformers itself: a tiny random
// GPT2LMHeadModel saved by save_pretrained, with torch float64 log-probs, mean logits and
// autograd gradients of Σ coef·logp (scripts/make-hf-gpt2-fixture.py). Also exercises the
// loader on a real transformers-written model.safetensors and config.json.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromHF, paramSpec } from '../../src/model/config';
import { paramsFromSafetensors } from '../../src/model/checkpoint';
import { parseSafetensors } from '../../src/model/safetensors';
import { gpt2ForwardRef, gpt2BackwardRef } from '../../src/reference/gpt2';
import { expectClose } from '../helpers/close';

const DIR = join(__dirname, '..', 'fixtures', 'hf-gpt2-tiny');

interface Expected {
  seqs: number[][];
  coef: number[][];
  logp: number[][];
  meanLogit: number[][];
  grads: Record<string, number[]>;
}

describe('gpt2 reference vs Hugging Face transformers', () => {
  const config = configFromHF(JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>);
  const bytes = new Uint8Array(readFileSync(join(DIR, 'model.safetensors')));
  const want = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;

  it('reads the transformers-written file (transformer. prefix, tied head omitted)', () => {
    expect([...parseSafetensors(bytes).tensors.keys()].every((k) => k.startsWith('transformer.'))).toBe(true);
    const params = paramsFromSafetensors(bytes, config);
    expect([...params.keys()].sort()).toEqual(paramSpec(config).map((s) => s.name).sort());
  });

  it('log-probs, mean logits and every gradient match torch float64', () => {
    const params = paramsFromSafetensors(bytes, config);
    const { logp, meanLogit, cache } = gpt2ForwardRef(params, config, want.seqs);
    expectClose(logp.flat(), want.logp.flat(), { rtol: 1e-10, atol: 1e-12, what: 'logp' });
    expectClose(meanLogit.flat(), want.meanLogit.flat(), { rtol: 1e-10, atol: 1e-12, what: 'meanLogit' });
    const grads = gpt2BackwardRef(cache, want.coef);
    for (const { name } of paramSpec(config)) {
      expect(want.grads[name], name).toBeDefined();
      expectClose(grads.get(name)!, want.grads[name], { rtol: 1e-9, atol: 1e-12, what: `d${name}` });
    }
  });
});
