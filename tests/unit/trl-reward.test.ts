// The TRL export of `--method reward` (TRL 1.9.0 RewardTrainer / RewardConfig, trl/trainer/
// reward_trainer.py and reward_config.py): the config arguments are RewardConfig's and the
// TrainingArguments' names, center_rewards_coefficient only when set, and train.py hands MODEL to
// RewardTrainer as a path (it loads AutoModelForSequenceClassification(num_labels=1) after
// set_seed), without a reference model; the script runs against stand-in packages whose
// RewardConfig accepts only TRL's field names.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRAIN_DEFAULTS } from '../../src/train/config';
import { trlExportFiles, trlScript, trlTrainerSpec, type TrlRun } from '../../src/export/trl-script';
import type { Example } from '../../src/data/types';
import { TRAINING_ARGS, runTrainPy, writeFakePackages } from '../helpers/fake-trl';

// trl v1.9.0 trl/trainer/reward_config.py
const REWARD_FIELDS = ['model_init_kwargs', 'trust_remote_code', 'chat_template_path', 'disable_dropout', 'dataset_num_proc', 'eos_token', 'max_length', 'pad_to_multiple_of', 'center_rewards_coefficient', 'activation_offloading', 'pad_token'];

const run = (over: Record<string, unknown> = {}, hasEval = false): TrlRun => ({ config: { ...TRAIN_DEFAULTS, objective: { method: 'reward', ...over }, evalEvery: 2 }, maxLength: 96, maxPromptLength: 32, hasEval });

describe('TRL export of the reward model', () => {
  it('RewardTrainer / RewardConfig with TRL field names; center_rewards_coefficient only when set', () => {
    const s = trlTrainerSpec(run());
    expect(s).toMatchObject({ name: 'Reward', modules: ['trl', 'trl.trainer.reward_trainer'], usesRefModel: false, sequenceClassification: true });
    const known = new Set([...TRAINING_ARGS, ...REWARD_FIELDS]);
    for (const [k] of trlTrainerSpec(run({ centerRewardsCoefficient: 0.01 }, true)).args) expect(known.has(k), k).toBe(true);
    expect(new Map(s.args).has('center_rewards_coefficient')).toBe(false); // TRL's None
    expect(new Map(trlTrainerSpec(run({ centerRewardsCoefficient: 0.01 })).args).get('center_rewards_coefficient')).toEqual({ float: 0.01 });
    expect(new Map(s.args).get('max_length')).toBe(96);
    expect(s.notes.join(' ')).toMatch(/score head/);
  });

  it('train.py passes MODEL to RewardTrainer as a path, with no reference model and no causal-LM load', () => {
    const py = trlScript(run({ centerRewardsCoefficient: 0.01 }));
    expect(py).toContain('    from trl import RewardConfig, RewardTrainer');
    expect(py).toContain('from transformers import AutoTokenizer\n');
    expect(py).toContain('model = MODEL  # RewardTrainer: AutoModelForSequenceClassification.from_pretrained(MODEL, num_labels=1) after set_seed(seed)');
    expect(py).toContain('    center_rewards_coefficient=0.01,');
    expect(py).not.toContain('AutoModelForCausalLM');
    expect(py).not.toContain('REF_MODEL');
    expect(py).not.toContain('ref_model=');
  });

  it('train.py runs against stand-in packages and hands RewardTrainer the pairs', async () => {
    if (spawnSync('python3', ['--version']).status !== 0) {
      console.warn('python3 not found: train.py was checked as text only');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-trl-reward-'));
    const pairs: Example[] = [0, 1, 2].map((i) => ({ kind: 'pair', prompt: `Q${i}?`, chosen: ` good ${i}`, rejected: ` bad ${i}`, appendEos: true, line: i + 1, index: i }));
    const files = trlExportFiles({ config: { ...TRAIN_DEFAULTS, objective: { method: 'reward', centerRewardsCoefficient: 0.01 }, seed: 5 }, maxLength: 96, maxPromptLength: 32 }, pairs.slice(0, 2), pairs.slice(2));
    for (const [name, text] of files) await writeFile(join(dir, name), text);
    await mkdir(join(dir, 'model'));
    await writeFile(join(dir, 'model', 'tokenizer.json'), '{}');
    const mods: Record<string, string> = {
      'datasets/__init__.py': `
import json
class Dataset:
    def __init__(self, rows): self.rows = rows
    def map(self, fn): return Dataset([fn(dict(r)) for r in self.rows])
def load_dataset(kind, data_files, split):
    with open(data_files, encoding="utf-8") as f:
        return Dataset([json.loads(l) for l in f if l.strip()])
`,
      'transformers/__init__.py': `
class AutoTokenizer:
    pad_token = None
    eos_token = "<|endoftext|>"
    bos_token = "<|endoftext|>"
    @classmethod
    def from_pretrained(cls, path): return cls()
    def __call__(self, text, add_special_tokens=True): return {"input_ids": list(text.encode("utf-8"))}
    def decode(self, ids): return bytes(ids).decode("utf-8", errors="replace")
    def save_pretrained(self, path): pass
`,
      'trl/__init__.py': `
import dataclasses, json, os
RewardConfig = dataclasses.make_dataclass("RewardConfig", [(n, object, dataclasses.field(default=None)) for n in ${JSON.stringify([...TRAINING_ARGS, ...REWARD_FIELDS])}])
class RewardTrainer:
    def __init__(self, model, args, train_dataset, eval_dataset, processing_class):
        assert isinstance(model, str), "RewardTrainer is given the model's path"
        self.record = {"model": model, "args": dataclasses.asdict(args), "train": train_dataset.rows, "eval": eval_dataset.rows, "pad_token": processing_class.pad_token}
    def train(self):
        with open(os.environ["FAKE_TRL_RECORD"], "w", encoding="utf-8") as f: json.dump(self.record, f)
    def evaluate(self): return {}
    def save_model(self, path): pass
`,
    };
    const rec = (await runTrainPy(dir, await writeFakePackages(dir, mods))) as { model: string; args: Record<string, unknown>; train: unknown[]; eval: unknown[]; pad_token: string };
    expect(rec.model).toBe('model');
    expect(rec.args).toMatchObject({ center_rewards_coefficient: 0.01, max_length: 96, seed: 5 });
    expect(rec.train).toHaveLength(2);
    expect(rec.eval).toHaveLength(1);
    expect(rec.pad_token).toBe('<|endoftext|>');
  });
});
