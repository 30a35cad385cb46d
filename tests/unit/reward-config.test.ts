// Reward models in config.json and model folders (src/model/score-config.ts, reward.ts): transformers'
// *ForSequenceClassification fields read and written for both families, a classifier with another
// label count refused, the parameter tables (score.weight last, no LM head) with their closed-form
// counts and arena sizes, folders round-tripped in memory (score.weight unprefixed), and a causal
// LM turned into a reward model (trunk kept, untied LM head dropped, head drawn from the seed).
import { describe, it, expect } from 'vitest';
import { layoutArena } from '../../src/engine/arena';
import { configFromHF, configToHF, paramArenaBytes, paramCount, paramSpec, presetConfig } from '../../src/model/config';
import { initLlamaParams, llamaConfigFromHF, llamaConfigToHF, llamaParamArenaBytes, llamaParamCount, llamaParamSpec, llamaPresetConfig } from '../../src/model/llama-config';
import { initParams } from '../../src/model/init';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint';
import { loadLlamaCheckpoint, saveLlamaCheckpoint } from '../../src/model/llama-checkpoint';
import { parseSafetensors } from '../../src/model/safetensors';
import { rewardConfig, SCORE_INIT_STD, toRewardModel } from '../../src/model/reward';

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const reader = (files: Map<string, Uint8Array>) => async (name: string) => files.get(name) ?? null;

describe('reward model configs', () => {
  it('GPT-2: GPT2ForSequenceClassification with num_labels 1 and pad_token_id, both ways', () => {
    const c = rewardConfig(presetConfig('tiny'));
    expect(c).toMatchObject({ scoreHead: true, padTokenId: 256 });
    const json = configToHF(c);
    expect(json).toMatchObject({ architectures: ['GPT2ForSequenceClassification'], num_labels: 1, id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 }, pad_token_id: 256, model_type: 'gpt2' });
    expect(configFromHF(json)).toEqual(c);
    // a causal LM's config is unchanged (no new fields)
    expect(configFromHF(configToHF(presetConfig('tiny')))).toEqual(presetConfig('tiny'));
    // one label from id2label alone; a pad id may be absent (the last token is read)
    expect(configFromHF({ ...json, num_labels: undefined, pad_token_id: undefined })).toMatchObject({ scoreHead: true, padTokenId: null });
    expect(() => configFromHF({ ...json, num_labels: 2 })).toThrow(/GPT2ForSequenceClassification with num_labels 2 is not supported \(a reward model has num_labels 1/);
    expect(() => configFromHF({ ...json, num_labels: undefined, id2label: undefined })).toThrow(/num_labels 2/); // transformers' default
    expect(() => configFromHF({ ...json, pad_token_id: 999 })).toThrow(/pad_token_id = 999 is outside the vocabulary/);
  });

  it('Llama family: *ForSequenceClassification, no lm_head, score.weight last', () => {
    const q = rewardConfig(llamaPresetConfig('qwen-tiny'));
    const json = llamaConfigToHF(q);
    expect(json).toMatchObject({ architectures: ['Qwen2ForSequenceClassification'], num_labels: 1, pad_token_id: 256 });
    expect(llamaConfigFromHF(json)).toEqual(q);
    expect(llamaConfigToHF(rewardConfig(llamaPresetConfig('llama-tiny'))).architectures).toEqual(['LlamaForSequenceClassification']);
    const names = llamaParamSpec(q).map((s) => s.name);
    expect(names).not.toContain('lm_head.weight');
    expect(names[names.length - 1]).toBe('score.weight');
    expect(() => llamaConfigFromHF({ ...json, num_labels: 3 })).toThrow(/Qwen2ForSequenceClassification with num_labels 3/);
  });

  it.each([
    ['tiny', () => rewardConfig(presetConfig('tiny')), paramSpec, paramCount, paramArenaBytes],
    ['qwen-tiny (untied)', () => rewardConfig(llamaPresetConfig('qwen-tiny')), llamaParamSpec, llamaParamCount, llamaParamArenaBytes],
    ['llama-tiny (tied)', () => rewardConfig(llamaPresetConfig('llama-tiny')), llamaParamSpec, llamaParamCount, llamaParamArenaBytes],
  ] as const)('%s: closed-form parameter count and arena bytes agree with the table', (_, make, spec, count, bytes) => {
    const c = make() as never;
    const s = spec(c);
    expect(s[s.length - 1]).toEqual({ name: 'score.weight', shape: [1, 32] });
    expect(count(c)).toBe(s.reduce((a, t) => a + numel(t.shape), 0));
    expect(bytes(c)).toBe(layoutArena(s, 256).bytes);
  });

  it('folders round-trip in memory with score.weight unprefixed', async () => {
    const g = rewardConfig(presetConfig('tiny'));
    const gFiles = saveCheckpoint(g, initParams(g, 1), 'byte');
    const gNames = [...parseSafetensors(gFiles.get('model.safetensors')!).tensors.keys()];
    expect(gNames).toContain('score.weight');
    expect(gNames.filter((n) => !n.startsWith('transformer.'))).toEqual(['score.weight']);
    const gBack = await loadCheckpoint(reader(gFiles));
    expect(gBack.config).toEqual(g);
    expect(gBack.params.get('score.weight')).toEqual(initParams(g, 1).get('score.weight'));

    const q = rewardConfig(llamaPresetConfig('qwen-tiny'));
    const qFiles = saveLlamaCheckpoint(q, initLlamaParams(q, 2), 'byte');
    expect([...parseSafetensors(qFiles.get('model.safetensors')!).tensors.keys()].filter((n) => !n.startsWith('model.'))).toEqual(['score.weight']);
    const qBack = await loadLlamaCheckpoint(reader(qFiles));
    expect(qBack.config).toEqual(q);
    expect([...qBack.params.keys()]).toEqual(llamaParamSpec(q).map((s) => s.name));
  });

  it('toRewardModel keeps the trunk, drops an untied LM head and draws the head from the seed', () => {
    const base = llamaPresetConfig('qwen-tiny');
    const params = initLlamaParams(base, 3);
    const r = toRewardModel({ config: base, params }, 7);
    expect(r.config).toEqual({ ...base, scoreHead: true, padTokenId: 256 });
    expect(r.params.has('lm_head.weight')).toBe(false);
    for (const s of llamaParamSpec(r.config)) if (s.name !== 'score.weight') expect(r.params.get(s.name)).toBe(params.get(s.name));
    const w = r.params.get('score.weight')!;
    expect(w).toEqual(toRewardModel({ config: base, params }, 7).params.get('score.weight'));
    expect(w).not.toEqual(toRewardModel({ config: base, params }, 8).params.get('score.weight'));
    expect(Math.max(...w.map(Math.abs))).toBeLessThan(6 * SCORE_INIT_STD);
    // a reward model stays as it is
    expect(toRewardModel(r, 9)).toEqual(r);
  });
});
