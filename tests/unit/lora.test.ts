// LoRA's host side (src/model/lora.ts), the PEFT adapter folder (src/export/peft.ts), the config
// validator's LoRA fields and the TRL export's LoraConfig: targets matched as PEFT matches
// target_modules, PEFT's initialisation, merging, and the adapter folder's names, shapes and
// config as PEFT writes them, read back.
import { describe, it, expect } from 'vitest';
import { paramSpec, presetConfig } from '../../src/model/config';
import { llamaParamSpec, llamaPresetConfig } from '../../src/model/llama-config';
import { isLlamaConfig, type ModelConfig } from '../../src/model/family';

const paramSpecOf = (c: ModelConfig) => (isLlamaConfig(c) ? llamaParamSpec(c) : paramSpec(c));
import { checkpointBaseDtype, defaultLoraTargets, linearModules, loraInit, loraModules, loraNames, loraParamCount, loraSpec, mergeLora, targetMatches } from '../../src/model/lora';
import { loadPeftAdapter, peftAdapterFiles, PEFT_PREFIX, PEFT_SCORE_NAME } from '../../src/export/peft';
import { rewardConfig } from '../../src/model/reward';
import { parseSafetensors, readTensorF32 } from '../../src/model/safetensors';
import { TRAIN_DEFAULTS, trainConfigProblems } from '../../src/train/config';
import { trlExportFiles } from '../../src/export/trl-script';
import { Rng } from '../../src/util/rng';
import { adapterFiles } from '../../src/worker/exports';
import type { ModelInfo } from '../../src/worker/protocol';
import type { LoadedModel } from '../../src/model/family-checkpoint';
import type { Example } from '../../src/data/types';

const GPT = presetConfig('tiny'); // C 32, 2 layers
const LLAMA = llamaPresetConfig('qwen-tiny'); // C 32, I 48, NH 4, NKV 1, HS 8, 2 layers

describe('LoRA targets (PEFT target_modules)', () => {
  it('the defaults name every linear projection of the blocks', () => {
    expect(defaultLoraTargets(GPT)).toEqual(['c_attn', 'c_proj', 'c_fc']);
    expect(loraModules(GPT, { r: 4, alpha: 8 }).map((m) => m.module)).toEqual(linearModules(GPT).map((m) => m.module));
    expect(loraModules(GPT, { r: 4, alpha: 8 })).toHaveLength(8);
    expect(loraModules(LLAMA, { r: 4, alpha: 8 })).toHaveLength(14);
  });

  it('match as PEFT does: the name or a dotted suffix, so c_proj is both attention and MLP projections', () => {
    expect(targetMatches('transformer.h.0.attn.c_proj', 'c_proj')).toBe(true);
    expect(targetMatches('transformer.h.0.attn.c_proj', 'attn.c_proj')).toBe(true);
    expect(targetMatches('transformer.h.0.mlp.c_proj', 'attn.c_proj')).toBe(false);
    expect(targetMatches('transformer.h.0.attn.c_proj', 'proj')).toBe(false);
    expect(loraModules(GPT, { r: 2, alpha: 2, targets: ['c_proj'] }).map((m) => m.key)).toEqual(['attn.c_proj', 'mlp.c_proj', 'attn.c_proj', 'mlp.c_proj']);
    expect(loraModules(GPT, { r: 2, alpha: 2, targets: ['mlp.c_proj'] }).map((m) => m.module)).toEqual(['h.0.mlp.c_proj', 'h.1.mlp.c_proj']);
    expect(loraModules(LLAMA, { r: 2, alpha: 2, targets: ['model.layers.1.self_attn.v_proj'] }).map((m) => m.module)).toEqual(['model.layers.1.self_attn.v_proj']);
    expect(() => loraModules(LLAMA, { r: 2, alpha: 2, targets: ['c_attn'] })).toThrow(/matches no linear projection.*q_proj/);
  });

  it('adapter shapes: A [r, in], B [out, r] — Conv1D (GPT-2) and nn.Linear alike', () => {
    const gpt = new Map(loraSpec(GPT, { r: 3, alpha: 6 }).map((s) => [s.name, s.shape]));
    expect(gpt.get('h.0.attn.c_attn.lora_A.weight')).toEqual([3, 32]);
    expect(gpt.get('h.0.attn.c_attn.lora_B.weight')).toEqual([96, 3]);
    expect(gpt.get('h.1.mlp.c_proj.lora_A.weight')).toEqual([3, 128]);
    const llama = new Map(loraSpec(LLAMA, { r: 3, alpha: 6 }).map((s) => [s.name, s.shape]));
    expect(llama.get('model.layers.0.self_attn.k_proj.lora_B.weight')).toEqual([8, 3]); // NKV·HS = 8
    expect(llama.get('model.layers.0.mlp.down_proj.lora_A.weight')).toEqual([3, 48]);
    expect(loraParamCount(LLAMA, { r: 3, alpha: 6 })).toBe(2 * 3 * (32 + 32 + 32 + 8 + 32 + 8 + 32 + 32 + 32 + 48 + 32 + 48 + 48 + 32));
  });

  it("PEFT's init: A ~ U(−1/√in, 1/√in) (kaiming_uniform_, a = √5), B = 0; seeded", () => {
    const lora = { r: 8, alpha: 16 };
    const w = loraInit(LLAMA, lora, 7);
    for (const m of loraModules(LLAMA, lora)) {
      const A = w.get(loraNames(m).A)!, B = w.get(loraNames(m).B)!;
      const bound = 1 / Math.sqrt(m.in);
      expect(Math.max(...A.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...A.map(Math.abs))).toBeGreaterThan(0.9 * bound);
      expect(B.every((x) => x === 0)).toBe(true);
    }
    expect(loraInit(LLAMA, lora, 7)).toEqual(w);
    expect(loraInit(LLAMA, lora, 8).get('model.layers.0.self_attn.q_proj.lora_A.weight')).not.toEqual(w.get('model.layers.0.self_attn.q_proj.lora_A.weight'));
  });

  it('merging adds s·B A to nn.Linear weights and s·(B A)ᵀ to Conv1D weights', () => {
    const rng = new Rng(3);
    for (const config of [GPT, LLAMA]) {
      const lora = { r: 2, alpha: 3, targets: config === GPT ? ['c_fc'] : ['o_proj'] };
      const m = loraModules(config, lora)[0];
      const W = rng.floats(m.in * m.out), A = rng.floats(2 * m.in), B = rng.floats(m.out * 2);
      const adapters = new Map<string, Float32Array>();
      for (const mm of loraModules(config, lora)) {
        const it = mm.module === m.module;
        adapters.set(loraNames(mm).A, it ? A : new Float32Array(2 * mm.in));
        adapters.set(loraNames(mm).B, it ? B : new Float32Array(mm.out * 2));
      }
      const base = new Map(loraModules(config, lora).map((mm) => [mm.weight, mm.module === m.module ? W : new Float32Array(mm.in * mm.out)]));
      const merged = mergeLora(config, lora, base, adapters).get(m.weight)!;
      const s = 1.5;
      const [o, i] = [m.out - 1, 1];
      const delta = s * (B[o * 2] * A[i] + B[o * 2 + 1] * A[m.in + i]);
      const at = m.conv1d ? i * m.out + o : o * m.in + i;
      expect(merged[at]).toBeCloseTo(W[at] + delta, 6);
    }
  });

  it("the default base dtype is the checkpoint's torch_dtype (GPT-2: f32)", () => {
    expect(checkpointBaseDtype(GPT)).toBe('f32');
    expect(checkpointBaseDtype({ ...LLAMA, torchDtype: 'bfloat16' })).toBe('bf16');
    expect(checkpointBaseDtype({ ...LLAMA, torchDtype: 'float16' })).toBe('f16');
    expect(checkpointBaseDtype({ ...LLAMA, torchDtype: null })).toBe('f32');
  });
});

describe('the config validator on LoRA fields', () => {
  const base = { ...TRAIN_DEFAULTS };
  it('accepts a LoRA run and refuses bad ranks, alphas, targets, and a 16-bit base without LoRA', () => {
    expect(trainConfigProblems({ ...base, lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, baseDtype: 'bf16', checkpointActivations: true })).toEqual([]);
    const fields = (c: Parameters<typeof trainConfigProblems>[0]) => trainConfigProblems(c).map((p) => p.field);
    expect(fields({ ...base, lora: { r: 0, alpha: 16 } })).toEqual(['loraR']);
    expect(fields({ ...base, lora: { r: 2.5, alpha: 16 } })).toEqual(['loraR']);
    expect(fields({ ...base, lora: { r: 8, alpha: 0 } })).toEqual(['loraAlpha']);
    expect(fields({ ...base, lora: { r: 8, alpha: 8, targets: ['q proj'] } })).toEqual(['loraTargets']);
    expect(fields({ ...base, lora: { r: 8, alpha: 8, targets: [] } })).toEqual(['loraTargets']);
    expect(fields({ ...base, baseDtype: 'bf16' })).toEqual(['baseDtype']);
    expect(fields({ ...base, lora: { r: 8, alpha: 8 }, baseDtype: 'f8' as never })).toEqual(['baseDtype']);
    expect(trainConfigProblems({ ...base, baseDtype: 'bf16' })[0].message).toMatch(/LoRA runs only/);
  });
});

describe('PEFT adapter folder', () => {
  const lora = { r: 4, alpha: 16 };
  const weights = (config: typeof GPT | typeof LLAMA, seed: number) => {
    const rng = new Rng(seed);
    return new Map(loraSpec(config, lora).map((s) => [s.name, rng.floats(s.shape[0] * s.shape[1])]));
  };

  it("a Hub model's adapter names the commit it was trained on (PEFT's revision; AutoPeftModel loads the base at it); a folder's names none", () => {
    const commit = 'a'.repeat(40);
    const info = (kind: 'hub' | 'files', name: string, c?: string) => ({ name, kind, commit: c }) as unknown as ModelInfo;
    const base = { config: LLAMA } as unknown as LoadedModel;
    const read = (files: Map<string, Uint8Array>) => [JSON.parse(new TextDecoder().decode(files.get('adapter_config.json')!)) as Record<string, unknown>, new TextDecoder().decode(files.get('README.md')!)] as const;
    const [hub, hubReadme] = read(adapterFiles(base, info('hub', `org/base@main`, commit), lora, weights(LLAMA, 3)));
    expect(hub).toMatchObject({ base_model_name_or_path: 'org/base', revision: commit });
    expect(hubReadme).toContain(`AutoModelForCausalLM.from_pretrained("org/base", revision="${commit}")`);
    const [folder, folderReadme] = read(adapterFiles(base, info('files', 'my-model', commit), lora, weights(LLAMA, 3)));
    expect(folder).toMatchObject({ base_model_name_or_path: 'my-model', revision: null });
    // a snapshot kept under its revision's name (the server named no commit): no revision
    expect(read(adapterFiles(base, info('hub', 'org/base@refs/pr/1', 'refs--pr--1'), lora, weights(LLAMA, 3)))[0]).toMatchObject({ base_model_name_or_path: 'org/base', revision: null });
    expect(folderReadme).toContain('AutoModelForCausalLM.from_pretrained("my-model"), "this-folder")');
  });

  it.each([
    ['gpt2', GPT, 'base_model.model.transformer.h.0.attn.c_attn', [4, 32], [96, 4], true],
    ['qwen2', LLAMA, 'base_model.model.model.layers.0.self_attn.q_proj', [4, 32], [32, 4], false],
  ] as const)('%s: adapter_config.json and adapter_model.safetensors as PEFT writes them, read back exactly', async (_f, config, first, aShape, bShape, fanInFanOut) => {
    const adapters = weights(config, 1);
    const files = peftAdapterFiles(config, lora, adapters, 'org/base');
    const cfg = JSON.parse(new TextDecoder().decode(files.get('adapter_config.json')!)) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 16, base_model_name_or_path: 'org/base', revision: null, fan_in_fan_out: fanInFanOut, lora_dropout: 0, bias: 'none', use_dora: false, use_rslora: false });
    expect(cfg.target_modules).toEqual([...defaultLoraTargets(config)].sort());
    const st = parseSafetensors(files.get('adapter_model.safetensors')!);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.tensors.get(`${first}.lora_A.weight`)?.shape).toEqual(aShape);
    expect(st.tensors.get(`${first}.lora_B.weight`)?.shape).toEqual(bShape);
    expect([...st.tensors.keys()].every((n) => n.startsWith(PEFT_PREFIX) && /\.lora_[AB]\.weight$/.test(n))).toBe(true);
    expect(st.tensors.size).toBe(loraSpec(config, lora).length);
    expect(Array.from(readTensorF32(st, `${first}.lora_A.weight`))).toEqual(Array.from(adapters.get(`${first.slice(PEFT_PREFIX.length).replace(/^transformer\./, '')}.lora_A.weight`)!));
    const back = await loadPeftAdapter(async (n) => files.get(n) ?? null, config);
    expect(back.lora).toEqual({ r: 4, alpha: 16, targets: cfg.target_modules });
    expect(back.baseModel).toBe('org/base');
    expect([...back.adapters.keys()].sort()).toEqual([...adapters.keys()].sort());
    for (const [k, v] of adapters) expect(Array.from(back.adapters.get(k)!), k).toEqual(Array.from(v));
  });

  it.each([
    ['gpt2', GPT],
    ['qwen2', LLAMA],
  ] as const)("%s reward model: its adapters carry the score head; a SEQ_CLS folder with it saved (PEFT's modules_to_save name), read back; merging puts it in place", async (_f, causal) => {
    const rm = rewardConfig(causal);
    const spec = loraSpec(rm, lora);
    expect(spec.at(-1)).toEqual({ name: 'score.weight', shape: [1, 32] });
    expect(loraParamCount(rm, lora)).toBe(loraParamCount(causal, lora) + 32);
    const head = new Rng(4).floats(32);
    // PEFT's ModulesToSaveWrapper starts its copy as the base's head; loraInit needs it
    expect(Array.from(loraInit(rm, lora, 3, new Map([['score.weight', head]])).get('score.weight')!)).toEqual(Array.from(head));
    expect(() => loraInit(rm, lora, 3)).toThrow(/no "score.weight" to train beside the adapters/);
    const adapters = weights(rm, 2);
    expect(adapters.has('score.weight')).toBe(true);
    // the page hands the causal LM's config with a reward run's adapters: the head makes it SEQ_CLS too
    for (const config of [rm, causal]) {
      const files = peftAdapterFiles(config, lora, adapters, 'org/base');
      const cfg = JSON.parse(new TextDecoder().decode(files.get('adapter_config.json')!)) as Record<string, unknown>;
      expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', modules_to_save: ['classifier', 'score'], r: 4, lora_alpha: 16 });
      const st = parseSafetensors(files.get('adapter_model.safetensors')!);
      expect(PEFT_SCORE_NAME).toBe('base_model.model.score.weight');
      expect(st.tensors.get(PEFT_SCORE_NAME)?.shape).toEqual([1, 32]);
      expect(st.tensors.size).toBe(spec.length);
      expect(new TextDecoder().decode(files.get('README.md')!)).toContain('AutoModelForSequenceClassification.from_pretrained("org/base", num_labels=1)');
      const back = await loadPeftAdapter(async (n) => files.get(n) ?? null, config);
      for (const [k, v] of adapters) expect(Array.from(back.adapters.get(k)!), k).toEqual(Array.from(v));
      expect(back.adapters.size).toBe(adapters.size);
    }
    expect(() => peftAdapterFiles(rm, lora, new Map([...adapters].filter(([k]) => k !== 'score.weight')), null)).toThrow(/missing score.weight/);
    // a SEQ_CLS folder must save the head, and only classifier modules
    const files = peftAdapterFiles(rm, lora, adapters, null);
    const patched = (patch: Record<string, unknown>) => async (n: string) => (n === 'adapter_config.json' ? new TextEncoder().encode(JSON.stringify({ ...(JSON.parse(new TextDecoder().decode(files.get(n)!)) as object), ...patch })) : (files.get(n) ?? null));
    await expect(loadPeftAdapter(patched({ modules_to_save: null }), rm)).rejects.toThrow(/a SEQ_CLS adapter must save its score head/);
    await expect(loadPeftAdapter(patched({ modules_to_save: ['score', 'lm_head'] }), rm)).rejects.toThrow(/modules_to_save \["score","lm_head"\]/);
    await expect(loadPeftAdapter(patched({ task_type: 'CAUSAL_LM', modules_to_save: null }), rm)).rejects.toThrow(/unexpected tensor "base_model.model.score.weight"/);
    // merge_and_unload: the trained head replaces the base's
    const baseW = new Map(paramSpecOf(rm).map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
    const merged = mergeLora(rm, lora, baseW, adapters);
    expect(Array.from(merged.get('score.weight')!)).toEqual(Array.from(adapters.get('score.weight')!));
    expect(() => mergeLora(rm, lora, baseW, new Map([...adapters].filter(([k]) => k !== 'score.weight')))).toThrow(/missing score.weight/);
  });

  it('refuses what PrefPlay does not compute, adapters of untargeted modules, and wrong shapes', async () => {
    const files = peftAdapterFiles(LLAMA, { r: 4, alpha: 8, targets: ['q_proj'] }, new Map(loraSpec(LLAMA, { r: 4, alpha: 8, targets: ['q_proj'] }).map((s) => [s.name, new Float32Array(s.shape[0] * s.shape[1])])), null);
    const withConfig = (patch: Record<string, unknown>) => {
      const cfg = { ...(JSON.parse(new TextDecoder().decode(files.get('adapter_config.json')!)) as Record<string, unknown>), ...patch };
      const m = new Map(files);
      m.set('adapter_config.json', new TextEncoder().encode(JSON.stringify(cfg)));
      return async (n: string) => m.get(n) ?? null;
    };
    await expect(loadPeftAdapter(withConfig({ use_dora: true }), LLAMA)).rejects.toThrow(/use_dora/);
    await expect(loadPeftAdapter(withConfig({ peft_type: 'IA3' }), LLAMA)).rejects.toThrow(/only LORA/);
    await expect(loadPeftAdapter(withConfig({ target_modules: ['v_proj'] }), LLAMA)).rejects.toThrow(/q_proj, which target_modules/);
    await expect(loadPeftAdapter(withConfig({ r: 2 }), LLAMA)).rejects.toThrow(/has shape \[4, 32\], expected \[2, 32\]/);
    await expect(loadPeftAdapter(withConfig({}), GPT)).rejects.toThrow(/matches no linear projection|unexpected tensor/);
    // a regex target_modules (PEFT's string form) resolves from the tensors the file holds
    expect((await loadPeftAdapter(withConfig({ target_modules: '.*q_proj' }), LLAMA)).lora.targets).toEqual(['q_proj']);
  });
});

describe('TRL export of a LoRA run', () => {
  it('passes the same LoraConfig as peft_config and pins peft', () => {
    const ex: Example = { kind: 'pair', prompt: 'p', chosen: 'a', rejected: 'b', line: 1 } as unknown as Example;
    const files = trlExportFiles({ config: { ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.1 }, lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, baseDtype: 'bf16', checkpointActivations: true }, maxLength: 64, maxPromptLength: 32, modelType: 'llama' }, [ex]);
    const py = files.get('train.py')!;
    expect(py).toContain('from peft import LoraConfig');
    expect(py).toMatch(/peft_config = LoraConfig\(\n {4}r=8,\n {4}lora_alpha=16\.0,\n {4}target_modules=\["q_proj", "v_proj"\],\n {4}lora_dropout=0\.0,\n {4}bias="none",\n {4}task_type="CAUSAL_LM",\n\)/);
    expect(py).toContain('    peft_config=peft_config,');
    expect(py).toContain('gradient_checkpointing=True');
    expect(py).toContain('torch_dtype=torch.bfloat16');
    expect(files.get('requirements.txt')).toMatch(/^peft>=/m);
    const gpt = trlExportFiles({ config: { ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.1 }, lora: { r: 4, alpha: 8 } }, maxLength: 64, maxPromptLength: 32, modelType: 'gpt2' }, [ex]).get('train.py')!;
    expect(gpt).toContain('target_modules=["c_attn", "c_proj", "c_fc"]');
    expect(gpt).toContain('fan_in_fan_out=True');
    // a reward model's: sequence classification with the score head trained in full (RewardTrainer's advice)
    const rm = trlExportFiles({ config: { ...TRAIN_DEFAULTS, objective: { method: 'reward' }, lora: { r: 4, alpha: 8 } }, maxLength: 64, maxPromptLength: 32, modelType: 'gpt2' }, [ex]).get('train.py')!;
    expect(rm).toMatch(/ {4}task_type="SEQ_CLS",\n {4}modules_to_save=\["score"\],\n {4}fan_in_fan_out=True,/);
    expect(rm).toContain('    peft_config=peft_config,');
    expect(rm).not.toContain('CAUSAL_LM');
    const plain = trlExportFiles({ config: { ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.1 } }, maxLength: 64, maxPromptLength: 32 }, [ex]);
    expect(plain.get('train.py')).not.toContain('peft');
    expect(plain.get('requirements.txt')).not.toContain('peft');
  });
});
