// The page's adapter import (src/worker/adapter.ts): a PEFT folder's files read by the CLI's
// --lora-adapter reader against the loaded model, what the Model tab shows of it, and the
// refusals it names (another model's adapter, a reward model's, a missing file, a bad config,
// LoRA settings of another rank or other modules).
import { describe, it, expect } from 'vitest';
import { peftAdapterFiles } from '../../src/export/peft';
import { loraInit, loraSpec, type LoraConfig } from '../../src/model/lora';
import { freshModel } from '../../src/model/presets';
import type { GPTConfig } from '../../src/model/config';
import { SCORE_WEIGHT } from '../../src/model/score-config';
import { scoreChannels } from '../../src/model/reward';
import { adapterFingerprint, adapterInfo, adapterLoraProblem, readAdapter } from '../../src/worker/adapter';
import { adapterFolderFiles, effectiveSettings, sameAdapter } from '../../src/store/adapter';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import type { AdapterSource } from '../../src/worker/protocol';

const gpt2 = freshModel('tiny', 1);
const llama = freshModel('llama-tiny', 1);
const LORA: LoraConfig = { r: 2, alpha: 4, targets: ['c_attn', 'c_fc'] };

function folder(m: typeof gpt2, lora: LoraConfig, extra?: (a: Map<string, Float32Array>) => void): AdapterSource {
  const adapters = loraInit(m.config, lora, 1);
  for (const s of loraSpec(m.config, lora)) if (s.name.endsWith('lora_B.weight')) adapters.set(s.name, new Float32Array(s.shape[0] * s.shape[1]).fill(0.01));
  extra?.(adapters);
  const files = peftAdapterFiles(m.config, lora, adapters, 'my-base');
  return { name: 'my-adapter', files: { 'adapter_config.json': new Blob([files.get('adapter_config.json')! as Uint8Array<ArrayBuffer>]), 'adapter_model.safetensors': new Blob([files.get('adapter_model.safetensors')! as Uint8Array<ArrayBuffer>]) } };
}

describe('the page’s PEFT adapter import', () => {
  it('reads an adapter of the loaded model and says what it holds', async () => {
    const loaded = await readAdapter(folder(gpt2, LORA), gpt2.config);
    const info = adapterInfo('my-adapter', loaded, await adapterFingerprint(folder(gpt2, LORA)));
    const c = gpt2.config as GPTConfig;
    const layers = c.nLayer;
    expect(info).toMatchObject({ name: 'my-adapter', r: 2, alpha: 4, targets: ['c_attn', 'c_fc'], tensors: 4 * layers, baseModel: 'my-base' });
    const E = c.nEmbd;
    expect(info.params).toBe(layers * (2 * E + 3 * E * 2 + 2 * E + 4 * E * 2));
    // LoRA runs get the adapter's r, alpha and targets
    expect(effectiveSettings({ ...DEFAULT_SETTINGS, lora: { r: 8, alpha: 8 } }, info).lora).toEqual({ r: 2, alpha: 4, targets: ['c_attn', 'c_fc'] });
    expect(effectiveSettings(DEFAULT_SETTINGS, info).lora).toBeNull();
  });

  it('refuses another family’s adapter, a reward model’s, a missing file and a bad config, naming why', async () => {
    await expect(readAdapter(folder(llama, { r: 2, alpha: 4 }), gpt2.config)).rejects.toThrow(/^LoRA target "\w+_proj" matches no linear projection of this model/);
    const wider = freshModel('builtin', 1);
    await expect(readAdapter(folder(wider, LORA), gpt2.config)).rejects.toThrow(/has shape \[2, \d+\], expected \[2, \d+\]|unexpected tensor/);
    const seqCls = folder(gpt2, LORA, (a) => a.set(SCORE_WEIGHT, new Float32Array(scoreChannels(gpt2.config))));
    await expect(readAdapter(seqCls, gpt2.config)).rejects.toThrow("a reward model's adapter (task_type SEQ_CLS, its score head saved): the page continues a causal LM's adapter (task_type CAUSAL_LM)");
    const good = folder(gpt2, LORA);
    await expect(readAdapter({ name: 'x', files: { 'adapter_config.json': good.files['adapter_config.json'] } }, gpt2.config)).rejects.toThrow('adapter_model.safetensors not found in the adapter folder');
    await expect(readAdapter({ name: 'x', files: { 'adapter_model.safetensors': good.files['adapter_model.safetensors'] } }, gpt2.config)).rejects.toThrow('adapter_config.json not found in the adapter folder');
    const cfg = JSON.parse(await good.files['adapter_config.json'].text()) as Record<string, unknown>;
    await expect(readAdapter({ name: 'x', files: { ...good.files, 'adapter_config.json': new Blob([JSON.stringify({ ...cfg, use_dora: true })]) } }, gpt2.config)).rejects.toThrow('adapter_config.json: use_dora = true is not supported');
    await expect(readAdapter({ name: 'x', files: { ...good.files, 'adapter_config.json': new Blob(['{not json']) } }, gpt2.config)).rejects.toThrow(/adapter_config.json is not valid JSON/);
  });

  it('LoRA settings must have the adapter’s rank and modules (lora_alpha may differ, as the CLI’s --lora-alpha)', () => {
    expect(adapterLoraProblem(gpt2.config, { r: 2, alpha: 99, targets: ['c_fc', 'c_attn'] }, LORA)).toBeNull();
    expect(adapterLoraProblem(gpt2.config, { r: 4, alpha: 4, targets: LORA.targets }, LORA)).toBe("LoRA rank r 4 differs from the imported adapter's r 2");
    expect(adapterLoraProblem(gpt2.config, { r: 2, alpha: 4 }, LORA)).toBe("LoRA target modules all linear layers differ from the imported adapter's target_modules c_attn, c_fc");
  });

  it('a folder pick takes its top adapter (not a checkpoint-*/ one), refuses several at the same depth; loose files are themselves', () => {
    const file = (path: string) => {
      const f = new File([path], path.split('/').at(-1)!);
      Object.defineProperty(f, 'webkitRelativePath', { value: path });
      return f;
    };
    const trainer = ['out/README.md', 'out/checkpoint-2/adapter_config.json', 'out/checkpoint-2/adapter_model.safetensors', 'out/adapter_config.json', 'out/adapter_model.safetensors', 'out/checkpoint-1/adapter_model.safetensors'].map(file);
    const top = adapterFolderFiles(trainer);
    expect(top.name).toBe('out');
    expect(Object.keys(top.files).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect((top.files['adapter_model.safetensors'] as File).webkitRelativePath).toBe('out/adapter_model.safetensors');
    // only checkpoints: one at the shallowest depth is the adapter, named by its path; two are refused
    expect(adapterFolderFiles(['run/a/b/adapter_config.json', 'run/x/adapter_config.json', 'run/x/adapter_model.safetensors'].map(file)).name).toBe('run/x');
    expect(() => adapterFolderFiles(['out/checkpoint-1/adapter_model.safetensors', 'out/checkpoint-2/adapter_model.safetensors'].map(file))).toThrow('out holds several adapters (out/checkpoint-1/, out/checkpoint-2/) and none at its top: pick one of those folders');
    const loose = adapterFolderFiles([new File(['{}'], 'adapter_config.json'), new File(['x'], 'notes.txt')]);
    expect(loose.name).toBeNull();
    expect(Object.keys(loose.files)).toEqual(['adapter_config.json']);
  });

  it('two adapters with the same config and shapes differ by their weights file (size and hash)', async () => {
    const a = folder(gpt2, LORA);
    const b = folder(gpt2, LORA, (m) => m.set([...m.keys()].find((k) => k.includes('lora_B'))!, new Float32Array(m.get([...m.keys()].find((k) => k.includes('lora_B'))!)!.length).fill(0.02)));
    const info = async (s: AdapterSource) => adapterInfo(s.name, await readAdapter(s, gpt2.config), await adapterFingerprint(s));
    const [ia, ia2, ib] = [await info(a), await info(folder(gpt2, LORA)), await info(b)];
    expect(ia.bytes).toBe(a.files['adapter_model.safetensors'].size);
    expect(ia.hash).toMatch(/^[0-9a-f]{8}$/);
    expect(sameAdapter(ia, ia2)).toBe(true);
    expect({ ...ib, hash: ia.hash }).toEqual(ia);
    expect(sameAdapter(ia, ib)).toBe(false);
  });
});
