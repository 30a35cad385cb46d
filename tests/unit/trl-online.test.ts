// The TRL export of the online methods (src/export/trl-online.ts): GRPOConfig / RLOOConfig /
// PPOConfig arguments under TRL 1.9.0's names with the run's values and TRL's batch counting, the
// judges and a reward model in reward_funcs, PPO's reward and value models; `export-trl` of online
// run folders (prompts, rewards.py, reward_model/); and every train.py parsed by python3 and run
// against stand-in trl / transformers / datasets modules that accept only TRL's field names and
// call the reward functions, whose scores must be the TypeScript judges'.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import type { ObjectiveSpec } from '../../src/train/objectives';
import { trlExportFiles, trlScript, trlTrainerSpec, type TrlPrompt, type TrlRun } from '../../src/export/trl-script';
import { arithmeticJudge, politenessJudge } from '../../src/judge';
import { splitTrainEval } from '../../src/data/split';
import { TRAINING_ARGS, runTrainPy, writeFakePackages } from '../helpers/fake-trl';

const cfg = (objective: ObjectiveSpec, over: Partial<TrainConfig> = {}): TrainConfig => ({ ...TRAIN_DEFAULTS, objective, ...over });
const run = (objective: ObjectiveSpec, over: Partial<TrainConfig> = {}, extra: Partial<TrlRun> = {}): TrlRun => ({ config: cfg(objective, over), maxLength: 64, maxPromptLength: 24, trainPrompts: 100, ...extra });
const args = (r: TrlRun) => Object.fromEntries(trlTrainerSpec(r).args);

// TRL v1.9.0 field names: each config's own (TrainingArguments': TRAINING_ARGS)
// (trl/trainer/grpo_config.py, rloo_config.py, trl/experimental/ppo/ppo_config.py)
const TRL_FIELDS: Record<string, string[]> = {
  GRPO: ['disable_dropout', 'num_generations', 'max_completion_length', 'generation_batch_size', 'steps_per_generation', 'temperature', 'top_p', 'top_k', 'beta', 'num_iterations', 'epsilon', 'epsilon_high', 'reward_weights', 'scale_rewards', 'loss_type', 'mask_truncated_completions'],
  RLOO: ['disable_dropout', 'num_generations', 'max_completion_length', 'generation_batch_size', 'steps_per_generation', 'temperature', 'top_p', 'top_k', 'beta', 'num_iterations', 'epsilon', 'epsilon_high', 'reward_weights', 'normalize_advantages', 'reward_clip_range', 'mask_truncated_completions'],
  PPO: ['num_mini_batches', 'total_episodes', 'local_rollout_forward_batch_size', 'num_sample_generations', 'response_length', 'stop_token', 'stop_token_id', 'temperature', 'missing_eos_penalty', 'sft_model_path', 'reward_model_path', 'num_ppo_epochs', 'whiten_rewards', 'kl_coef', 'kl_estimator', 'cliprange', 'vf_coef', 'cliprange_value', 'gamma', 'lam'],
};
const INT_FIELDS = ['num_generations', 'max_completion_length', 'top_k', 'response_length', 'num_ppo_epochs', 'num_mini_batches', 'per_device_train_batch_size', 'gradient_accumulation_steps', 'steps_per_generation', 'max_steps', 'total_episodes'];

const hasPython = spawnSync('python3', ['--version']).status === 0;

describe('TRL export of GRPO, RLOO and PPO: trainers and arguments', () => {
  it('GRPO: GRPOConfig with the run\'s values; per_device_train_batch_size counts completions; the judge in reward_funcs', () => {
    const r = run({ method: 'grpo', reward: 'judge:arithmetic', numGenerations: 4, maxNewTokens: 8, temperature: 0.9, topK: 5, epsilon: 0.25, lossType: 'bnpo', scaleRewards: 'batch' }, { batchSize: 6, gradAccum: 3, steps: 30, lr: 1e-4, schedule: 'constant', seed: 7 });
    const s = trlTrainerSpec(r);
    expect(s).toMatchObject({ name: 'GRPO', modules: ['trl'], rewardFuncs: ['arithmetic'] });
    const a = args(r);
    expect(a).toMatchObject({
      beta: { float: 0.04 }, num_generations: 4, max_completion_length: 8, temperature: { float: 0.9 }, top_k: 5, top_p: { float: 1 }, epsilon: { float: 0.25 }, loss_type: 'bnpo', scale_rewards: 'batch',
      per_device_train_batch_size: 8, // 6 prompts × 4 completions / 3 micro-batches
      per_device_eval_batch_size: 24, gradient_accumulation_steps: 3, steps_per_generation: 3, num_iterations: 1, max_steps: 30,
      learning_rate: { float: 1e-4 }, lr_scheduler_type: 'constant', seed: 7, disable_dropout: true, logging_steps: 1,
    });
    expect('max_length' in a).toBe(false);
    expect('reward_funcs' in a).toBe(false);
    const py = trlScript(r);
    expect(py).toContain('from trl import GRPOConfig, GRPOTrainer');
    expect(py).toContain('from rewards import arithmetic\n');
    expect(py).toContain('    reward_funcs=[arithmetic],');
    expect(py).toContain('    num_generations=4,\n');
    expect(py).toContain('    top_k=5,\n');
    expect(py).toContain('    beta=0.04,\n');
    expect(py).toContain('MAX_PROMPT_LENGTH = 24');
    expect(py).not.toContain('REWARD_MODEL');
    // defaults: dapo, group scaling, TRL's G 8; the batch is min(--batch-size, training prompts)
    expect(args(run({ method: 'grpo' }, { batchSize: 4 }, { trainPrompts: 3 }))).toMatchObject({ loss_type: 'dapo', scale_rewards: 'group', num_generations: 8, per_device_train_batch_size: 24, max_completion_length: 32 });
    expect(trlTrainerSpec(run({ method: 'grpo', beta: 0 })).notes.join(' ')).toMatch(/beta=0 TRL neither loads the reference nor logs kl/);
  });

  it('RLOO: RLOOConfig; several rewards with weights, a reward model as the REWARD_MODEL path', () => {
    const r = run({ method: 'rloo', reward: ['judge:politeness', 'judge:arithmetic', 'reward-model'], rewardWeights: [1, 2, 0.5], numGenerations: 2, normalizeAdvantages: true }, { batchSize: 4 }, { rewardModel: 'reward_model', rewardModelName: 'rm' });
    const s = trlTrainerSpec(r);
    expect(s).toMatchObject({ name: 'RLOO', modules: ['trl'], rewardFuncs: ['politeness', 'arithmetic', 'REWARD_MODEL'] });
    expect(args(r)).toMatchObject({ reward_weights: [{ float: 1 }, { float: 2 }, { float: 0.5 }], beta: { float: 0.04 }, num_generations: 2, normalize_advantages: true, per_device_train_batch_size: 8, gradient_accumulation_steps: 1 });
    expect(s.notes.join(' ')).toMatch(/TRL logs it as rewards\/reward_model\/mean, PrefPlay logged rewards\/rm\/mean/);
    const py = trlScript(r);
    expect(py).toContain('from rewards import politeness, arithmetic\n');
    expect(py).toContain('REWARD_MODEL = "reward_model"');
    expect(py).toContain('    reward_funcs=[politeness, arithmetic, REWARD_MODEL],');
    expect(() => trlTrainerSpec(run({ method: 'rloo', reward: 'reward-model' }))).toThrow(/needs its reward model folder/);
    // a reward model alone: no rewards.py import
    expect(trlScript(run({ method: 'grpo', reward: 'reward-model' }, {}, { rewardModel: 'reward_model' }))).not.toContain('from rewards import');
  });

  it('PPO: PPOConfig from trl.experimental.ppo; total_episodes and the rollout batch; reward and value models from the reward folder', () => {
    const r = run({ method: 'ppo', maxNewTokens: 12, temperature: 0.8, klCoef: 0.1, cliprange: 0.3, vfCoef: 0.2, cliprangeValue: 0.25, numPpoEpochs: 2, numMiniBatches: 2 }, { batchSize: 8, gradAccum: 1, steps: 25 }, { rewardModel: 'reward_model' });
    const s = trlTrainerSpec(r);
    expect(s).toMatchObject({ name: 'PPO', modules: ['trl.experimental.ppo', 'trl'] });
    const a = args(r);
    expect(a).toMatchObject({
      stop_token: 'eos', response_length: 12, temperature: { float: 0.8 }, kl_coef: { float: 0.1 }, kl_estimator: 'k1', cliprange: { float: 0.3 }, vf_coef: { float: 0.2 }, cliprange_value: { float: 0.25 },
      gamma: { float: 1 }, lam: { float: 0.95 }, num_ppo_epochs: 2, num_mini_batches: 2, total_episodes: 200, per_device_train_batch_size: 8, gradient_accumulation_steps: 1,
      num_sample_generations: 0, reward_model_path: 'reward_model', sft_model_path: 'model', eval_strategy: 'no',
    });
    for (const k of ['max_steps', 'max_length', 'missing_eos_penalty']) expect(k in a, k).toBe(false);
    expect(args({ ...r, config: cfg({ method: 'ppo', missingEosPenalty: 1 }, { batchSize: 8 }) }).missing_eos_penalty).toEqual({ float: 1 });
    expect(args({ ...r, config: cfg({ method: 'ppo' }, { batchSize: 8, gradAccum: 4 }) })).toMatchObject({ per_device_train_batch_size: 2, gradient_accumulation_steps: 4, total_episodes: 800 });
    expect(s.notes.join(' ')).not.toMatch(/fewer/);
    expect(trlTrainerSpec({ ...r, config: cfg({ method: 'ppo', numMiniBatches: 2 }, { batchSize: 8, gradAccum: 2 }) }).notes.join(' ')).toMatch(/TRL's loop steps the optimizer every gradient_accumulation_steps micro-batches across mini-batches, so fewer/);
    expect(() => trlTrainerSpec({ ...r, config: cfg({ method: 'ppo', numMiniBatches: 3 }, { batchSize: 8 }) })).toThrow(/does not split into 3 mini-batches/);
    expect(() => trlTrainerSpec({ ...r, rewardModel: null })).toThrow(/PPO run needs its reward model folder/);
    const py = trlScript(r);
    expect(py).toContain('    from trl.experimental.ppo import PPOConfig, PPOTrainer\nexcept ImportError:');
    expect(py).toContain('reward_model = AutoModelForSequenceClassification.from_pretrained(REWARD_MODEL, num_labels=1)');
    expect(py).toContain('value_model = AutoModelForSequenceClassification.from_pretrained(REWARD_MODEL, num_labels=1)');
    expect(py).toContain('AutoTokenizer.from_pretrained(MODEL, padding_side="left")');
    expect(py).toContain('    stop_token="eos",');
  });

  it('LoRA: GRPO, RLOO and PPO pass the run\'s LoraConfig (peft_config); the reference is MODEL with the adapters disabled', () => {
    for (const method of ['grpo', 'rloo'] as const) {
      const r = run({ method, reward: 'judge:arithmetic' }, { lora: { r: 8, alpha: 16 } }, { modelType: 'gpt2' });
      const py = trlScript(r);
      expect(py).toContain('from peft import LoraConfig\n');
      expect(py).toMatch(/peft_config = LoraConfig\(\n {4}r=8,\n {4}lora_alpha=16\.0,\n {4}target_modules=\["c_attn", "c_proj", "c_fc"\],\n {4}lora_dropout=0\.0,\n {4}bias="none",\n {4}task_type="CAUSAL_LM",\n {4}fan_in_fan_out=True,\n\)/);
      expect(py).toContain('    processing_class=tokenizer,\n    peft_config=peft_config,\n)');
      expect(py).toContain('adapters disabled as the reference');
      expect(trlExportFiles(r, [{ kind: 'prompt', prompt: 'Q: 2+2?' }], []).get('requirements.txt')).toContain('peft>=');
    }
    const ppo = trlScript(run({ method: 'ppo' }, { lora: { r: 4, alpha: 8 } }, { rewardModel: 'reward_model', modelType: 'llama' }));
    expect(ppo).toContain('from peft import LoraConfig\n');
    expect(ppo).toContain('    eval_dataset=eval_dataset,\n    peft_config=peft_config,\n)');
    // TRL's PPOTrainer takes no ref_model with peft: it disables the adapters for the reference
    expect(ppo).toContain('ref_policy = AutoModelForCausalLM.from_pretrained(REF_MODEL) if REF_MODEL else None');
    expect(ppo).not.toContain('fan_in_fan_out=True');
    // without LoRA: none of it
    expect(trlScript(run({ method: 'grpo' }))).not.toMatch(/peft|LoraConfig/);
    expect(trlScript(run({ method: 'ppo' }, {}, { rewardModel: 'reward_model' }))).not.toMatch(/peft|LoraConfig/);
  });

  it('LoRA continuing an imported adapter: every trainer gets the run\'s LoraConfig (peft_config, lora_dropout 0), then adapter/\'s tensors go into the trainer\'s PEFT model before train(); a reward model is refused', () => {
    const pair = { kind: 'pair', prompt: 'p', chosen: 'a', rejected: 'b', appendEos: true, line: 1, index: 0 } as const;
    const cases: Array<[TrlRun, string]> = [
      [run({ method: 'dpo' }, { lora: { r: 4, alpha: 16 } }, { adapter: 'adapter' }), 'trainer.model'],
      [run({ method: 'kto' }, { lora: { r: 4, alpha: 16 } }, { adapter: 'adapter' }), 'trainer.model'],
      [run({ method: 'grpo', reward: 'judge:arithmetic' }, { lora: { r: 4, alpha: 16 } }, { adapter: 'adapter' }), 'trainer.model'],
      [run({ method: 'rloo', reward: 'judge:arithmetic' }, { lora: { r: 4, alpha: 16 } }, { adapter: 'adapter' }), 'trainer.model'],
      [run({ method: 'ppo' }, { lora: { r: 4, alpha: 16 } }, { adapter: 'adapter', rewardModel: 'reward_model' }), 'trainer.policy_model'],
    ];
    for (const [r, v] of cases) {
      const py = trlScript(r);
      const method = r.config.objective.method;
      expect(py, method).toContain('from peft import LoraConfig, set_peft_model_state_dict\nfrom safetensors.torch import load_file\n');
      // the fresh path: TRL given peft_config uses MODEL with the adapters disabled as the reference
      // (a PeftModel without peft_config would get a frozen "ref" copy of the imported adapter instead)
      expect(py, method).not.toMatch(/PeftModel\.from_pretrained|is_trainable/);
      expect(py, method).toMatch(/peft_config = LoraConfig\(\n {4}r=4,\n {4}lora_alpha=16\.0,\n {4}target_modules=\["c_attn", "c_proj", "c_fc"\],\n {4}lora_dropout=0\.0,\n/);
      expect(py, method).toMatch(/\n {4}peft_config=peft_config,\n\)\n/);
      // the adapter's tensors after the trainer is made (its PEFT model exists), before train()
      const load = `loaded = set_peft_model_state_dict(${v}, load_file("adapter/adapter_model.safetensors"))\n`;
      expect(py, method).toContain(load);
      expect(py.indexOf(load), method).toBeGreaterThan(py.indexOf('trainer = '));
      expect(py.indexOf(load), method).toBeLessThan(py.indexOf('trainer.train()'));
      expect(py, method).toContain('if loaded.unexpected_keys or missing:\n    raise RuntimeError(');
      expect(py, method).not.toContain('with a PEFT');
      const files = trlExportFiles(r, method === 'dpo' || method === 'kto' ? [pair] : [{ kind: 'prompt', prompt: 'Q: 2+2?' }], []);
      expect(files.get('requirements.txt'), method).toContain('peft>=');
      expect(files.get('README.txt'), method).toContain('adapter/          the imported PEFT adapter the LoRA run continued (train.py loads it into its LoRA adapters)');
    }
    // a fresh LoRA run loads nothing
    expect(trlScript(run({ method: 'dpo' }, { lora: { r: 4, alpha: 16 } }))).not.toMatch(/set_peft_model_state_dict|load_file/);
    // without LoRA the adapter plays no part (full fine-tuning's model/ has it merged in)
    expect(trlScript(run({ method: 'dpo' }, {}, { adapter: 'adapter' }))).not.toMatch(/peft|Peft|LoraConfig/);
    expect(() => trlExportFiles(run({ method: 'reward' }, { lora: { r: 4, alpha: 16 } }, { adapter: 'adapter' }), [pair], [])).toThrow(/a LoRA reward model that continued an imported adapter has no TRL counterpart here/);
  });

  it('every argument is a field of TRL\'s config, integers where TRL\'s fields are int', () => {
    const cases: TrlRun[] = [
      run({ method: 'grpo', topK: 3 }, { evalEvery: 2, gradAccum: 2 }, { hasEval: true }),
      run({ method: 'rloo', reward: ['judge:arithmetic', 'reward-model'], rewardWeights: [1, 1] }, { evalEvery: 2 }, { hasEval: true, rewardModel: 'reward_model' }),
      run({ method: 'ppo', missingEosPenalty: 0.5, whitenRewards: true, klEstimator: 'k3' }, { evalEvery: 2 }, { hasEval: true, rewardModel: 'reward_model' }),
    ];
    for (const r of cases) {
      const s = trlTrainerSpec(r);
      const known = new Set([...TRAINING_ARGS, ...TRL_FIELDS[s.name]]);
      for (const [k, v] of s.args) {
        expect(known.has(k), `${s.name}: ${k}`).toBe(true);
        if (INT_FIELDS.includes(k)) expect(typeof v, `${s.name}: ${k}`).toBe('number');
      }
    }
  });

  it('writes prompts as {"prompt"} rows (an example\'s prompt text), rewards.py only with a judge; refuses prompt rows for offline methods', () => {
    const prompts: TrlPrompt[] = [{ kind: 'prompt', prompt: 'Q: 2+2?\nA: ' }, { kind: 'prompt', prompt: 'Q: 3*3?\nA: ' }];
    const files = trlExportFiles(run({ method: 'grpo' }, {}, { trainPrompts: undefined }), prompts, [{ kind: 'pair', prompt: 'Q: 1+1?', chosen: '2', rejected: '3', appendEos: true, line: 5, index: 4 }]);
    expect(files.get('data.jsonl')).toBe('{"prompt":"Q: 2+2?\\nA: "}\n{"prompt":"Q: 3*3?\\nA: "}\n');
    expect(files.get('eval.jsonl')).toBe('{"prompt":"Q: 1+1?"}\n');
    expect(files.get('rewards.py')).toMatch(/^def arithmetic\(prompts, completions, \*\*kwargs\):/m);
    expect(files.get('README.txt')).toMatch(/rewards\.py/);
    // the batch defaults to min(--batch-size, training prompts) from the rows given
    expect(files.get('train.py')).toContain(`    per_device_train_batch_size=${2 * 8},`);
    expect([...trlExportFiles(run({ method: 'ppo' }, { batchSize: 2 }, { rewardModel: 'reward_model' }), prompts).keys()]).not.toContain('rewards.py');
    expect(() => trlExportFiles(run({ method: 'dpo' }), [{ kind: 'prompt', prompt: 'x', line: 3 }])).toThrow(/dpo needs paired examples, got a prompt-only row \(line 3\)/);
  });
});

// ---- stand-in Python packages: enough of trl / transformers / datasets to run an online train.py ----
const FAKE_PY: Record<string, string> = {
  'datasets/__init__.py': `
import json
class Dataset:
    def __init__(self, rows): self.rows = rows
    def map(self, fn, remove_columns=None):
        out = []
        for r in self.rows:
            r = dict(r)
            new = fn(dict(r))
            for c in remove_columns or []: r.pop(c)
            r.update(new)
            out.append(r)
        return Dataset(out)
def load_dataset(kind, data_files, split):
    assert kind == "json" and split == "train"
    with open(data_files, encoding="utf-8") as f:
        return Dataset([json.loads(l) for l in f if l.strip()])
`,
  'transformers/__init__.py': `
import json, os
class AutoTokenizer:
    pad_token = None
    eos_token = "<|endoftext|>"
    bos_token = "<|endoftext|>"
    bos_token_id = 256
    padding_side = "right"
    @classmethod
    def from_pretrained(cls, path, padding_side=None):
        assert os.path.exists(os.path.join(path, "tokenizer.json")), path
        t = cls()
        if padding_side: t.padding_side = padding_side
        return t
    def __call__(self, text, add_special_tokens=True): return {"input_ids": list(text.encode("utf-8"))}
    def decode(self, ids): return bytes(ids).decode("utf-8", errors="replace")
    def save_pretrained(self, path): pass
class AutoModelForCausalLM:
    def __init__(self, path): self.path = path
    @classmethod
    def from_pretrained(cls, path):
        assert os.path.exists(os.path.join(path, "model.safetensors")), path
        return cls(path)
class AutoModelForSequenceClassification:
    def __init__(self, path): self.path = path
    @classmethod
    def from_pretrained(cls, path, num_labels):
        with open(os.path.join(path, "config.json")) as f: c = json.load(f)
        assert num_labels == 1 and c["num_labels"] == 1 and c["architectures"][0].endswith("ForSequenceClassification"), c
        return cls(path)
`,
  'trl/_fake.py': `
import dataclasses, json, os
TRAINING_ARGS = ${JSON.stringify(TRAINING_ARGS)}
def make_config(name, fields):
    return dataclasses.make_dataclass(name, [(n, object, dataclasses.field(default=None)) for n in TRAINING_ARGS + fields])
def save(record):
    with open(os.environ["FAKE_TRL_RECORD"], "w", encoding="utf-8") as f: json.dump(record, f)
def make_online_trainer(name):
    class Trainer:
        def __init__(self, model, reward_funcs, args, train_dataset, eval_dataset, processing_class):
            prompts = [r["prompt"] for r in train_dataset.rows]
            completions = json.loads(os.environ["FAKE_TRL_COMPLETIONS"])
            self.ref_model = None
            self.record = {"trainer": name, "model": model.path, "args": dataclasses.asdict(args),
                           "reward_funcs": [f if isinstance(f, str) else f.__name__ for f in reward_funcs],
                           "scores": [f(prompts=[p] * len(completions), completions=completions, trainer_state=None) if callable(f) else None for f in reward_funcs for p in prompts],
                           "train": train_dataset.rows, "eval": eval_dataset.rows if eval_dataset is not None else None}
        def train(self): save(self.record)
        def save_model(self, path): pass
    Trainer.__name__ = name
    return Trainer
`,
  'trl/__init__.py': `
from ._fake import make_config, make_online_trainer
GRPOConfig = make_config("GRPOConfig", ${JSON.stringify(TRL_FIELDS.GRPO)})
GRPOTrainer = make_online_trainer("GRPOTrainer")
RLOOConfig = make_config("RLOOConfig", ${JSON.stringify(TRL_FIELDS.RLOO)})
RLOOTrainer = make_online_trainer("RLOOTrainer")
`,
  'trl/experimental/__init__.py': '',
  'trl/experimental/ppo/__init__.py': `
import dataclasses
from trl._fake import make_config, save
PPOConfig = make_config("PPOConfig", ${JSON.stringify(TRL_FIELDS.PPO)})
class PPOTrainer:
    def __init__(self, args, processing_class, model, ref_model, reward_model, train_dataset, value_model, eval_dataset):
        assert model is not ref_model
        self.record = {"trainer": "PPOTrainer", "args": dataclasses.asdict(args), "model": model.path, "ref_model": ref_model.path,
                       "reward_model": reward_model.path, "value_model": value_model.path, "padding_side": processing_class.padding_side,
                       "pad_token": processing_class.pad_token, "train": train_dataset.rows, "eval": eval_dataset.rows}
    def train(self): save(self.record)
    def save_model(self, path): pass
`,
};

/** train.py in `dir` parsed, then run under the stand-ins, its policy generating `completions`. */
function runScript(dir: string, fake: string, completions: readonly string[] = []): Promise<Record<string, unknown>> {
  const syntax = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1], encoding="utf-8").read())', join(dir, 'train.py')], { encoding: 'utf8' });
  expect(syntax.status, syntax.stderr).toBe(0);
  return runTrainPy(dir, fake, { FAKE_TRL_COMPLETIONS: JSON.stringify(completions) });
}

describe('online train.py is valid Python', () => {
  it('ast.parse accepts every variant (methods, reward models, a reference model, with and without eval)', async () => {
    expect(hasPython, 'python3 is needed to parse the exported train.py (scripts/setup-test-env.sh installs it)').toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-trl-ast-'));
    try {
      const variants: TrlRun[] = [
        run({ method: 'grpo' }),
        run({ method: 'grpo', reward: ['judge:arithmetic', 'judge:politeness', 'reward-model'], rewardWeights: [1, 1, 2] }, { gradAccum: 2 }, { rewardModel: 'reward_model', refModel: 'ref_model', hasEval: true }),
        run({ method: 'rloo', reward: 'reward-model' }, {}, { rewardModel: 'reward_model' }),
        run({ method: 'rloo', normalizeAdvantages: true }, { evalEvery: 3 }, { hasEval: true }),
        run({ method: 'ppo' }, {}, { rewardModel: 'reward_model' }),
        run({ method: 'ppo', numMiniBatches: 2, missingEosPenalty: 1 }, { gradAccum: 2 }, { rewardModel: 'reward_model', refModel: 'ref_model', hasEval: true }),
        run({ method: 'grpo', reward: 'judge:arithmetic' }, { lora: { r: 8, alpha: 16 } }),
        run({ method: 'ppo' }, { lora: { r: 4, alpha: 8, targets: ['c_attn'] } }, { rewardModel: 'reward_model' }),
        // continuing an imported adapter: its tensors loaded after the trainer is made
        run({ method: 'grpo', reward: 'judge:arithmetic' }, { lora: { r: 8, alpha: 16 } }, { adapter: 'adapter' }),
        run({ method: 'ppo' }, { lora: { r: 4, alpha: 8 } }, { rewardModel: 'reward_model', adapter: 'adapter' }),
        run({ method: 'dpo' }, { lora: { r: 4, alpha: 8 } }, { adapter: 'adapter' }),
      ];
      for (const [i, r] of variants.entries()) {
        const path = join(dir, `train-${i}.py`);
        await writeFile(path, trlScript(r));
        const p = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1], encoding="utf-8").read())', path], { encoding: 'utf8' });
        expect(p.status, `${r.config.objective.method} #${i}: ${p.stderr}`).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('export-trl of online runs; train.py under python3', () => {
  afterEach(() => vi.restoreAllMocks());

  it('GRPO from a prompts file and PPO from pairs with a reward model: files, split, and train.py runs', async () => {
    expect(hasPython, 'python3 is needed to run the exported train.py (scripts/setup-test-env.sh installs it)').toBe(true);
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-trl-online-'));
    try {
      expect(await main(['init', '--preset', 'tiny', '--seed', '3', '--out', join(dir, 'start')])).toBe(0);
      expect(await main(['init', '--preset', 'tiny', '--seed', '4', '--reward-head', '--out', join(dir, 'rm')])).toBe(0);
      const fake = await writeFakePackages(dir, FAKE_PY);
      // GRPO on prompt-only rows, one a message list (rendered as the model reads it)
      const prompts = [...Array.from({ length: 7 }, (_, i) => ({ prompt: `Q: What is ${i}+${i + 2}?\nA: ` })), { prompt: [{ role: 'user', content: 'What is 6*7?' }] }, { prompt: `${'x'.repeat(40)} 9+9=` }];
      await writeFile(join(dir, 'prompts.jsonl'), prompts.map((p) => JSON.stringify(p)).join('\n') + '\n');
      const grpoDir = join(dir, 'grpo');
      await mkdir(grpoDir);
      const grpoCfg = cfg({ method: 'grpo', reward: ['judge:arithmetic', 'judge:politeness'], rewardWeights: [1, 0.5], numGenerations: 4, maxNewTokens: 6 }, { evalFraction: 0.25, seed: 5, batchSize: 2, gradAccum: 2, steps: 3, evalEvery: 1 });
      await writeFile(join(grpoDir, 'run.json'), JSON.stringify({ model: join(dir, 'start'), ref_model: null, pairs: join(dir, 'prompts.jsonl'), config: grpoCfg, max_length: 64, max_prompt_length: 16 }));
      const out = join(dir, 'trl-grpo');
      expect(await main(['export-trl', '--run', grpoDir, '--out', out])).toBe(0);
      expect((await readdir(out)).sort()).toEqual(['README.txt', 'data.jsonl', 'eval.jsonl', 'model', 'requirements.txt', 'rewards.py', 'train.py']);
      const rows = async (d: string, f: string) => (await readFile(join(d, f), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { prompt: string });
      const train = await rows(out, 'data.jsonl');
      const evalRows = await rows(out, 'eval.jsonl');
      expect(evalRows.length).toBe(2); // round(9 · 0.25)
      // the partition `train` made: splitTrainEval over the prompts in file order
      const part = splitTrainEval(prompts.map((_, i) => i), 0.25, 5);
      const rowOf = (i: number) => [...train, ...evalRows][part.train.includes(i) ? part.train.indexOf(i) : train.length + part.eval.indexOf(i)];
      prompts.forEach((p, i) => typeof p.prompt === 'string' && expect(rowOf(i).prompt).toBe(p.prompt));
      // the message list arrives as the text the model read (the chat template applied), not as messages
      expect([...train, ...evalRows].every((r) => typeof r.prompt === 'string')).toBe(true);
      expect([...train, ...evalRows].some((r) => r.prompt.includes('What is 6*7?') && r.prompt !== 'What is 6*7?')).toBe(true);
      const completions = ['2', '5 please', 'No, 8', '-1', 'Of course: 42', '12', ''];
      const rec = await runScript(out, fake, completions);
      expect(rec.trainer).toBe('GRPOTrainer');
      expect(rec.reward_funcs).toEqual(['arithmetic', 'politeness']);
      expect(rec.args).toMatchObject({ num_generations: 4, max_completion_length: 6, beta: 0.04, reward_weights: [1, 0.5], per_device_train_batch_size: 4, gradient_accumulation_steps: 2, steps_per_generation: 2, max_steps: 3, seed: 5, eval_strategy: 'steps', eval_steps: 1 });
      // prompts cut to 16 tokens from the left, as PrefPlay; the judges' scores are the TypeScript judges'
      const trainRec = rec.train as Array<{ prompt: string }>;
      for (const r of trainRec) expect(new TextEncoder().encode(r.prompt).length).toBeLessThanOrEqual(16);
      const expected = [
        ...trainRec.map((r) => completions.map((c) => arithmeticJudge.judge(r.prompt, c).score)),
        ...trainRec.map((r) => completions.map((c) => politenessJudge.judge(r.prompt, c).score)),
      ];
      expect(rec.scores).toEqual(expected);
      expect(expected.flat().some((x) => x === 1)).toBe(true);

      // PPO on a pairs file with the reward folder
      await writeFile(join(dir, 'pairs.jsonl'), Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `Question ${i}? ${'y'.repeat(i * 4)}`, chosen: ` good ${i}`, rejected: ` bad ${i}` })).join('\n') + '\n');
      const ppoDir = join(dir, 'ppo');
      await mkdir(ppoDir);
      const ppoCfg = cfg({ method: 'ppo', maxNewTokens: 5, numPpoEpochs: 2 }, { batchSize: 4, gradAccum: 2, steps: 2, seed: 9 });
      await writeFile(join(ppoDir, 'run.json'), JSON.stringify({ model: join(dir, 'start'), ref_model: null, reward_model: join(dir, 'rm'), pairs: join(dir, 'pairs.jsonl'), config: ppoCfg, max_length: 64, max_prompt_length: 12 }));
      const ppoOut = join(dir, 'trl-ppo');
      expect(await main(['export-trl', '--run', ppoDir, '--out', ppoOut])).toBe(0);
      expect((await readdir(ppoOut)).sort()).toEqual(['README.txt', 'data.jsonl', 'model', 'requirements.txt', 'reward_model', 'train.py']);
      expect(JSON.parse(await readFile(join(ppoOut, 'reward_model', 'config.json'), 'utf8'))).toMatchObject({ num_labels: 1, architectures: ['GPT2ForSequenceClassification'] });
      expect((await rows(ppoOut, 'data.jsonl')).map((r) => r.prompt)).toEqual(Array.from({ length: 6 }, (_, i) => `Question ${i}? ${'y'.repeat(i * 4)}`));
      const ppo = await runScript(ppoOut, fake);
      expect(ppo).toMatchObject({ trainer: 'PPOTrainer', model: 'model', ref_model: 'model', reward_model: 'reward_model', value_model: 'reward_model', padding_side: 'left', pad_token: '<|endoftext|>' });
      expect(ppo.args).toMatchObject({ total_episodes: 8, per_device_train_batch_size: 2, gradient_accumulation_steps: 2, num_ppo_epochs: 2, response_length: 5, stop_token: 'eos', kl_coef: 0.05, seed: 9 });
      // input_ids as PrefPlay reads the prompts: no special tokens, the last 12 bytes
      expect((ppo.train as Array<{ input_ids: number[] }>).map((r) => r.input_ids)).toEqual(Array.from({ length: 6 }, (_, i) => [...new TextEncoder().encode(`Question ${i}? ${'y'.repeat(i * 4)}`)].slice(-12)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
