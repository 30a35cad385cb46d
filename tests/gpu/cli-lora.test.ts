// `train --lora-r` end to end through the CLI on WebGPU, for GPT-2 and a Llama-family folder:
// DIR/adapter/ is a PEFT adapter folder (names, shapes, config as PEFT writes them), DIR/model/
// is the base with those adapters merged in, run.json records the LoRA config; `--lora-adapter`
// continues from the folder; `--base-dtype bf16` and `--checkpoint-activations` train; flags
// that need LoRA are refused without it.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { loadModelArg } from '../../src/cli/model-load';
import { parseSafetensors, readTensorF32 } from '../../src/model/safetensors';
import { loraModules, type LoraConfig } from '../../src/model/lora';
import { freshSeed } from '../helpers/close';
import { Rng } from '../../src/util/rng';

const dir = mkdtempSync(join(tmpdir(), 'prefplay-cli-lora-'));

function pairsFile(rng: Rng, name: string, n: number): string {
  const words = ['le', 'chat', 'Paris', 'is', 'the', 'très', 'bien', 'answer', '42', 'no'];
  const w = (k: number) => Array.from({ length: k }, () => words[rng.int(words.length)]).join(' ');
  const file = join(dir, name);
  writeFileSync(file, Array.from({ length: n }, () => JSON.stringify({ prompt: w(2), chosen: ' ' + w(2), rejected: ' ' + w(1) + '!' })).join('\n'));
  return file;
}

describe.each(['tiny', 'llama-tiny'] as const)('train --lora-r on %s', (preset) => {
  it('writes a PEFT adapter folder and the merged model; --lora-adapter continues from it', async () => {
    const seed = freshSeed() % 1000;
    const rng = new Rng(seed);
    const model = join(dir, `${preset}-model`);
    expect(await main(['init', '--preset', preset, '--seed', String(seed), '--out', model])).toBe(0);
    const pairs = pairsFile(rng, `${preset}-pairs.jsonl`, 4);
    const out = join(dir, `${preset}-run`);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'dpo', '--lora-r', '8', '--lora-alpha', '16', '--steps', '2', '--batch-size', '2', '--lr', '1e-2', '--out', out, '--quiet'])).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { config: { lora: LoraConfig; baseDtype: string } };
    expect(run.config.lora).toMatchObject({ r: 8, alpha: 16 });
    expect(run.config.baseDtype).toBe('f32'); // the presets save f32
    const cfg = JSON.parse(readFileSync(join(out, 'adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 8, lora_alpha: 16, fan_in_fan_out: preset === 'tiny' });
    const st = parseSafetensors(new Uint8Array(readFileSync(join(out, 'adapter', 'adapter_model.safetensors'))));
    const base = await loadModelArg(model);
    const mods = loraModules(base.config, run.config.lora);
    expect(st.tensors.size).toBe(2 * mods.length);
    const first = preset === 'tiny' ? 'base_model.model.transformer.h.0.attn.c_attn' : 'base_model.model.model.layers.0.self_attn.q_proj';
    expect(st.tensors.get(`${first}.lora_A.weight`)?.shape).toEqual([8, preset === 'tiny' ? 32 : 32]);
    expect(st.tensors.get(`${first}.lora_B.weight`)?.shape).toEqual([preset === 'tiny' ? 96 : 32, 8]);
    // DIR/model/ = base + (α/r)·B A merged, every other tensor the base's own
    const merged = await loadModelArg(join(out, 'model'));
    const m = mods[0];
    const A = readTensorF32(st, `${first}.lora_A.weight`), B = readTensorF32(st, `${first}.lora_B.weight`);
    const W0 = base.params.get(m.weight)!, W1 = merged.params.get(m.weight)!;
    let maxErr = 0, moved = 0;
    for (let o = 0; o < m.out; o++) for (let i = 0; i < m.in; i++) {
      let d = 0;
      for (let k = 0; k < 8; k++) d += B[o * 8 + k] * A[k * m.in + i];
      const at = m.conv1d ? i * m.out + o : o * m.in + i;
      maxErr = Math.max(maxErr, Math.abs(W1[at] - (W0[at] + 2 * d)));
      moved = Math.max(moved, Math.abs(W1[at] - W0[at]));
    }
    expect(moved).toBeGreaterThan(0);
    expect(maxErr).toBeLessThan(1e-6);
    for (const [name, w] of base.params) if (!mods.some((x) => x.weight === name)) expect(Array.from(merged.params.get(name)!), name).toEqual(Array.from(w));

    // continue from the adapter folder: its r, alpha and targets; with --checkpoint-activations
    const out2 = join(dir, `${preset}-run2`);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'dpo', '--lora-adapter', join(out, 'adapter'), '--checkpoint-activations', '--steps', '1', '--batch-size', '2', '--lr', '1e-2', '--out', out2, '--quiet'])).toBe(0);
    const run2 = JSON.parse(readFileSync(join(out2, 'run.json'), 'utf8')) as { config: { lora: LoraConfig; checkpointActivations: boolean } };
    expect(run2.config.lora).toMatchObject({ r: 8, alpha: 16 });
    expect(run2.config.checkpointActivations).toBe(true);
    const m2 = JSON.parse(readFileSync(join(out2, 'metrics.jsonl'), 'utf8').split('\n')[0]) as Record<string, number>;
    // the policy starts at the imported adapters, the reference at the base: the log-ratios are not 0
    expect(Math.abs(m2['rewards/chosen'])).toBeGreaterThan(0);
    // its TRL export carries the adapter and loads it into the run's LoRA adapters (reference: the base)
    const trl = join(dir, `${preset}-run2-trl`);
    expect(await main(['export-trl', '--run', out2, '--out', trl])).toBe(0);
    for (const f of ['adapter_config.json', 'adapter_model.safetensors']) expect(Buffer.compare(readFileSync(join(trl, 'adapter', f)), readFileSync(join(out, 'adapter', f))), f).toBe(0);
    const script = readFileSync(join(trl, 'train.py'), 'utf8');
    expect(script).toContain('set_peft_model_state_dict(trainer.model, load_file("adapter/adapter_model.safetensors"))');
    expect(script).toContain('peft_config=peft_config,');
    expect(script).not.toContain('PeftModel.from_pretrained');

    // a 16-bit base
    const out3 = join(dir, `${preset}-run3`);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'orpo', '--lora-r', '4', '--lora-targets', preset === 'tiny' ? 'c_attn' : 'q_proj,v_proj', '--base-dtype', 'bf16', '--steps', '1', '--batch-size', '2', '--out', out3, '--quiet'])).toBe(0);
    const m3 = JSON.parse(readFileSync(join(out3, 'metrics.jsonl'), 'utf8').split('\n')[0]) as Record<string, number>;
    expect(Number.isFinite(m3.loss)).toBe(true);
    expect(JSON.parse(readFileSync(join(out3, 'adapter', 'adapter_config.json'), 'utf8')).target_modules).toEqual(preset === 'tiny' ? ['c_attn'] : ['q_proj', 'v_proj']);
  });
});

describe('LoRA flags are refused where they do not apply', () => {
  it('--lora-alpha without --lora-r, --base-dtype bf16 without LoRA, an unknown target', async () => {
    const model = join(dir, 'refuse-model');
    expect(await main(['init', '--preset', 'tiny', '--out', model])).toBe(0);
    const pairs = pairsFile(new Rng(1), 'refuse.jsonl', 2);
    const out = join(dir, 'refuse-run');
    const refused = (args: string[]) => expect(main(['train', '--model', model, '--pairs', pairs, '--out', out, ...args])).rejects;
    await refused(['--lora-alpha', '16']).toThrow(/--lora-alpha needs --lora-r/);
    await refused(['--base-dtype', 'bf16']).toThrow(/--base-dtype applies to LoRA runs only/);
    await refused(['--lora-r', '0']).toThrow(/--lora-r must be a whole number from 1/);
    await refused(['--lora-r', '4', '--lora-targets', 'q_proj']).toThrow(/--lora-targets: LoRA target "q_proj" matches no linear projection/);
    await refused(['--lora-r', '4', '--checkpoint-activations', '--no-checkpoint-activations']).toThrow(/contradict/);
  });
});
