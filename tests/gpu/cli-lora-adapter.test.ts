// `--lora-adapter DIR` on the commands that run a model (logps, generate, judge, score): --model
// with an imported PEFT adapter merged in gives what `train --lora-r` writes as DIR/model/ (the
// same adapters merged): logps within 1e-5 (and not the base's), greedy generate and judge the
// same text, a reward model's SEQ_CLS adapter over the causal LM it was trained from scores as the
// merged reward folder. Adapters that do not fit the model (another family's targets, another
// width), a missing file, a bad config and an adapter of the wrong kind are refused naming
// --lora-adapter. Tiny GPT-2 (SwiftShader is slow).
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { cliStdout as stdout } from '../helpers/cli-stdout';
import { peftAdapterFiles } from '../../src/export/peft';
import { loraInit, loraSpec, type LoraConfig } from '../../src/model/lora';
import { freshModel } from '../../src/model/presets';
import { freshSeed } from '../helpers/close';
import { Rng } from '../../src/util/rng';

const dir = mkdtempSync(join(tmpdir(), 'prefplay-cli-lora-adapter-'));
const seed = freshSeed() % 1000;
const rng = new Rng(seed);

function pairsFile(name: string, n: number): string {
  const words = ['le', 'chat', 'Paris', 'is', 'the', 'très', 'bien', 'answer', '42', 'no'];
  const w = (k: number) => Array.from({ length: k }, () => words[rng.int(words.length)]).join(' ');
  const file = join(dir, name);
  writeFileSync(file, Array.from({ length: n }, () => JSON.stringify({ prompt: w(2), chosen: ' ' + w(2), rejected: ' ' + w(1) + '!' })).join('\n'));
  return file;
}

function jsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);
}


/** A PEFT folder of `preset`'s model written directly, with B ≠ 0. */
function adapterFolder(name: string, preset: 'llama-tiny' | 'builtin', lora: LoraConfig): string {
  const m = freshModel(preset, 1);
  const adapters = loraInit(m.config, lora, 1);
  for (const s of loraSpec(m.config, lora)) if (s.name.endsWith('lora_B.weight')) adapters.set(s.name, Float32Array.from({ length: s.shape[0] * s.shape[1] }, () => 0.1 * rng.normal()));
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  for (const [file, bytes] of peftAdapterFiles(m.config, lora, adapters, null)) writeFileSync(join(out, file), bytes);
  return out;
}

type LogpsLine = { chosen_ids: number[]; chosen_logps: number; rejected_logps: number; chosen_token_logps: number[] };
type ScoreLine = { chosen_ids: number[]; chosen_reward: number; rejected_reward: number };

describe('--lora-adapter on logps, generate, judge and score (tiny GPT-2)', () => {
  const model = join(dir, 'base');
  const pairs = join(dir, 'pairs.jsonl');
  const run = join(dir, 'run');

  it('logps: the merged folder within 1e-5, not the base; generate and judge: the merged folder\'s greedy text', async () => {
    expect(await main(['init', '--preset', 'tiny', '--seed', String(seed), '--out', model])).toBe(0);
    pairsFile('pairs.jsonl', 4);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'dpo', '--lora-r', '4', '--lora-alpha', '16', '--steps', '2', '--batch-size', '2', '--lr', '2e-2', '--seed', String(seed), '--out', run, '--quiet'])).toBe(0);
    const adapter = join(run, 'adapter'), merged = join(run, 'model');

    const logps = async (name: string, extra: string[]) => {
      const out = join(dir, `${name}.jsonl`);
      expect(await main(['logps', ...extra, '--pairs', pairs, '--out', out, '--per-token', '--batch-size', '2', '--quiet'])).toBe(0);
      return jsonl<LogpsLine>(out);
    };
    const viaAdapter = await logps('adapter', ['--model', model, '--lora-adapter', adapter]);
    const viaMerged = await logps('merged', ['--model', merged]);
    const viaBase = await logps('base', ['--model', model]);
    expect(viaAdapter.length).toBe(4);
    let err = 0, moved = 0;
    viaAdapter.forEach((a, i) => {
      const m = viaMerged[i], b = viaBase[i];
      expect(a.chosen_ids).toEqual(m.chosen_ids);
      for (const k of ['chosen_logps', 'rejected_logps'] as const) {
        err = Math.max(err, Math.abs(a[k] - m[k]));
        moved = Math.max(moved, Math.abs(a[k] - b[k]));
      }
      a.chosen_token_logps.forEach((v, t) => (err = Math.max(err, Math.abs(v - m.chosen_token_logps[t]))));
    });
    console.log(`seed=${seed}: logps --lora-adapter vs merged folder max |err| ${err.toExponential(2)}; vs base max |diff| ${moved.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);
    expect(moved).toBeGreaterThan(1e-3);

    const gen = async (extra: string[], engine: string) => JSON.parse(await stdout(['generate', ...extra, '--prompt', 'Le chat ', '--temperature', '0', '--max-new-tokens', '8', '--engine', engine, '--json'])) as { ids: number[]; text: string };
    for (const engine of ['gpu', 'onnx']) {
      const a = await gen(['--model', model, '--lora-adapter', adapter], engine);
      const m = await gen(['--model', merged], engine);
      expect(a.ids.length).toBeGreaterThan(0);
      expect(a).toEqual(m);
    }

    const judged = async (extra: string[]) => JSON.parse(await stdout(['judge', ...extra, '--set', 'arithmetic-test', '--samples', '2', '--seed', '3', '--temperature', '0', '--max-new-tokens', '4'])) as { lora_adapter?: string; examples: unknown[]; wins: number };
    const ja = await judged(['--model', model, '--lora-adapter', adapter]);
    const jm = await judged(['--model', merged]);
    expect(ja.lora_adapter).toBe(adapter);
    expect(ja.examples).toEqual(jm.examples);
    expect(ja.wins).toBe(jm.wins);
  });

  it('score: a SEQ_CLS adapter over the causal LM scores as the merged reward folder; a CAUSAL_LM one is refused there', async () => {
    const reward = join(dir, 'reward-run');
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'reward', '--lora-r', '4', '--steps', '1', '--batch-size', '2', '--lr', '2e-2', '--seed', String(seed), '--out', reward, '--quiet'])).toBe(0);
    const score = async (name: string, extra: string[]) => {
      const out = join(dir, `${name}.jsonl`);
      expect(await main(['score', ...extra, '--pairs', pairs, '--out', out, '--batch-size', '2', '--quiet'])).toBe(0);
      return jsonl<ScoreLine>(out);
    };
    const a = await score('score-adapter', ['--model', model, '--lora-adapter', join(reward, 'adapter')]);
    const m = await score('score-merged', ['--model', join(reward, 'model')]);
    // over the merged reward folder itself: its head replaced by the adapter's own, the adapters merged twice: not the folder's scores
    const twice = await score('score-twice', ['--model', join(reward, 'model'), '--lora-adapter', join(reward, 'adapter')]);
    expect(a.length).toBe(4);
    let err = 0, moved = 0;
    a.forEach((x, i) => {
      expect(x.chosen_ids).toEqual(m[i].chosen_ids);
      for (const k of ['chosen_reward', 'rejected_reward'] as const) {
        err = Math.max(err, Math.abs(x[k] - m[i][k]));
        moved = Math.max(moved, Math.abs(twice[i][k] - m[i][k]));
      }
    });
    console.log(`seed=${seed}: score --lora-adapter vs merged reward folder max |err| ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);
    expect(moved).toBeGreaterThan(0);

    // the wrong kind of adapter for the command
    await expect(main(['score', '--model', model, '--lora-adapter', join(run, 'adapter'), '--pairs', pairs, '--out', join(dir, 'x.jsonl')])).rejects.toThrow(/--lora-adapter .*a causal LM's adapter \(task_type CAUSAL_LM/);
    await expect(main(['logps', '--model', model, '--lora-adapter', join(reward, 'adapter'), '--pairs', pairs, '--out', join(dir, 'x.jsonl')])).rejects.toThrow(/--lora-adapter .*a reward model's adapter \(task_type SEQ_CLS/);
  });

  it('refuses adapters that do not fit the model, a missing file and a bad config, naming --lora-adapter', async () => {
    const refused = (adapter: string, cmd: 'logps' | 'generate') =>
      expect(main(cmd === 'logps' ? ['logps', '--model', model, '--lora-adapter', adapter, '--pairs', pairs, '--out', join(dir, 'x.jsonl')] : ['generate', '--model', model, '--lora-adapter', adapter, '--prompt', 'x'])).rejects;
    // a Llama-family adapter on GPT-2: its target_modules name no projection here
    await refused(adapterFolder('llama-adapter', 'llama-tiny', { r: 2, alpha: 4 }), 'logps').toThrow(/^--lora-adapter \S+: LoRA target "\w+_proj" matches no linear projection of this model/);
    // a wider GPT-2's adapter: the shapes differ
    await refused(adapterFolder('builtin-adapter', 'builtin', { r: 2, alpha: 4, targets: ['c_attn'] }), 'generate').toThrow(/^--lora-adapter \S+: adapter_model.safetensors: tensor "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight" has shape \[2, 64\], expected \[2, 32\]/);
    const empty = join(dir, 'empty-adapter');
    mkdirSync(empty, { recursive: true });
    await refused(empty, 'logps').toThrow(/^--lora-adapter \S+: adapter_config.json not found/);
    const noWeights = join(dir, 'no-weights');
    mkdirSync(noWeights, { recursive: true });
    writeFileSync(join(noWeights, 'adapter_config.json'), readFileSync(join(run, 'adapter', 'adapter_config.json')));
    await refused(noWeights, 'generate').toThrow(/^--lora-adapter \S+: adapter_model.safetensors not found/);
    const badConfig = join(dir, 'bad-config');
    mkdirSync(badConfig, { recursive: true });
    writeFileSync(join(badConfig, 'adapter_config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(run, 'adapter', 'adapter_config.json'), 'utf8')), r: 0 }));
    writeFileSync(join(badConfig, 'adapter_model.safetensors'), readFileSync(join(run, 'adapter', 'adapter_model.safetensors')));
    await refused(badConfig, 'logps').toThrow(/^--lora-adapter \S+: adapter_config.json: r must be a positive integer, got 0/);
  });
});
