// The TRL export: train.py's trainer and config arguments per method (TRL names), the data files
// and the starting model written by `export-trl`, and train.py actually executed by python3
// against stand-in `trl` / `transformers` / `datasets` modules whose config classes accept only
// the field names TRL defines (so a misspelt argument fails), recording what the script passes.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { UsageError } from '../../src/cli/command';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import type { ObjectiveSpec } from '../../src/train/objectives';
import { trlExportFiles, trlScript, trlTrainerSpec, type TrlRun } from '../../src/export/trl-script';
import type { Example } from '../../src/data/types';
import { splitTrainEval } from '../../src/data/split';
import { TRAINING_ARGS, runTrainPy, writeFakePackages } from '../helpers/fake-trl';

const cfg = (objective: ObjectiveSpec, over: Partial<TrainConfig> = {}): TrainConfig => ({ ...TRAIN_DEFAULTS, objective, ...over });
const run = (objective: ObjectiveSpec, over: Partial<TrainConfig> = {}): TrlRun => ({ config: cfg(objective, over), maxLength: 128, maxPromptLength: 48 });
const args = (r: TrlRun) => Object.fromEntries(trlTrainerSpec(r).args);

// Each TRL config's own fields (TrainingArguments': TRAINING_ARGS) (huggingface/trl
// v1.9.0: trl/trainer/{dpo,kto}_config.py, trl/experimental/{orpo,cpo}/*_config.py).
const TRL_FIELDS: Record<string, string[]> = {
  DPO: ['beta', 'loss_type', 'loss_weights', 'label_smoothing', 'discopop_tau', 'max_length', 'truncation_mode', 'precompute_ref_log_probs'],
  ORPO: ['beta', 'max_length', 'max_completion_length'],
  CPO: ['beta', 'loss_type', 'simpo_gamma', 'cpo_alpha', 'alpha', 'label_smoothing', 'max_length', 'max_completion_length'],
  KTO: ['beta', 'loss_type', 'desirable_weight', 'undesirable_weight', 'max_length'],
};

describe('TRL script: trainer and arguments per method', () => {
  it('DPO: beta, loss types and weights, label smoothing, schedule, optimizer and the TrainingArguments', () => {
    const r = run({ method: 'dpo', beta: 0.25, lossType: ['sigmoid', 'sft'], lossWeights: [1, 0.5], labelSmoothing: 0.1 }, { lr: 3e-4, schedule: 'cosine', warmupSteps: 5, steps: 40, batchSize: 6, gradAccum: 2, maxGradNorm: 0, seed: 9, weightDecay: 0.01 });
    const s = trlTrainerSpec(r);
    expect(s.name).toBe('DPO');
    expect(s.modules).toEqual(['trl']);
    expect(args(r)).toMatchObject({
      beta: { float: 0.25 }, loss_type: ['sigmoid', 'sft'], loss_weights: [{ float: 1 }, { float: 0.5 }], label_smoothing: { float: 0.1 },
      max_length: 128, learning_rate: { float: 3e-4 }, lr_scheduler_type: 'cosine', warmup_steps: 5, max_steps: 40,
      per_device_train_batch_size: 6, gradient_accumulation_steps: 2, max_grad_norm: { float: 0 }, optim: 'adamw_torch',
      weight_decay: { float: 0.01 }, adam_beta1: { float: 0.9 }, adam_beta2: { float: 0.999 }, adam_epsilon: { float: 1e-8 }, seed: 9, logging_steps: 1,
    });
    const py = trlScript(r);
    expect(py).toContain('from trl import DPOConfig, DPOTrainer');
    expect(py).toContain('    beta=0.25,');
    expect(py).toContain('    loss_type=["sigmoid", "sft"],');
    expect(py).toContain('    loss_weights=[1.0, 0.5],');
    expect(py).toContain('    learning_rate=0.0003,');
    expect(py).toContain('    max_grad_norm=0.0,');
    expect(py).toContain('MAX_PROMPT_LENGTH = 48');
    expect(py).toContain('ref_model=');
  });

  it('ORPO, SimPO, CPO, SFT and KTO map to ORPOConfig, CPOConfig (simpo / sigmoid), DPO loss_type sft and KTOConfig', () => {
    expect(trlTrainerSpec(run({ method: 'orpo', beta: 0.2 }))).toMatchObject({ name: 'ORPO', modules: ['trl.experimental.orpo', 'trl'], usesRefModel: false });
    expect(args(run({ method: 'orpo', beta: 0.2 })).beta).toEqual({ float: 0.2 });
    expect(trlTrainerSpec(run({ method: 'orpo', nllIncludesPrompt: false })).notes.join()).toMatch(/always includes the prompt/);
    expect(args(run({ method: 'simpo', beta: 2, simpoGamma: 0.8 }))).toMatchObject({ loss_type: 'simpo', beta: { float: 2 }, simpo_gamma: { float: 0.8 }, cpo_alpha: { float: 0 } });
    expect(args(run({ method: 'cpo', cpoAlpha: 0.5 }))).toMatchObject({ loss_type: 'sigmoid', beta: { float: 0.1 }, cpo_alpha: { float: 0.5 } });
    expect(trlTrainerSpec(run({ method: 'cpo' })).modules).toEqual(['trl.experimental.cpo', 'trl']);
    expect(args(run({ method: 'sft' }))).toMatchObject({ loss_type: 'sft' });
    expect(args(run({ method: 'kto', beta: 0.3, desirableWeight: 1.33, lossType: 'apo_zero_unpaired' }))).toMatchObject({ beta: { float: 0.3 }, desirable_weight: { float: 1.33 }, undesirable_weight: { float: 1 }, loss_type: 'apo_zero_unpaired' });
    expect(trlScript(run({ method: 'kto' }))).toContain('    from trl import KTOConfig, KTOTrainer\nexcept ImportError:');
    expect(trlScript(run({ method: 'orpo' }))).toContain('except ImportError:');
    // exo_pair with ε 0 writes PrefPlay's effective ε; sgd; constant schedule with warmup
    expect(args(run({ method: 'dpo', lossType: 'exo_pair' })).label_smoothing).toEqual({ float: 1e-3 });
    expect(args(run({ method: 'dpo' }, { optimizer: 'sgd' })).optim).toBe('sgd');
    expect(trlScript(run({ method: 'dpo' }, { momentsDtype: 'bf16' }))).toMatch(/# Note: PrefPlay kept AdamW's moments in bf16 .*adamw_torch/);
    expect(trlScript(run({ method: 'dpo' }))).not.toMatch(/moments in bf16|activations in f16/);
    expect(trlScript(run({ method: 'dpo' }, { activationsDtype: 'f16' }))).toMatch(/# Note: PrefPlay stored each layer's qkv and MLP activations in f16/);
    expect(args(run({ method: 'dpo' }, { schedule: 'constant', warmupSteps: 3 })).lr_scheduler_type).toBe('constant_with_warmup');
    expect(args(run({ method: 'dpo' }, { schedule: 'constant' })).lr_scheduler_type).toBe('constant');
    // eval every N updates only when there is an eval set
    expect(args({ ...run({ method: 'dpo' }, { evalEvery: 10 }), hasEval: true })).toMatchObject({ eval_strategy: 'steps', eval_steps: 10 });
    expect(args(run({ method: 'dpo' }, { evalEvery: 10 })).eval_strategy).toBe('no');
  });

  it('AlphaPO is CPOConfig simpo with alpha; DPO\'s old name aot_pair is written as TRL main\'s aot_unpaired', () => {
    expect(args(run({ method: 'alphapo', beta: 2.5, alpha: 0.3 }))).toMatchObject({ loss_type: 'simpo', beta: { float: 2.5 }, alpha: { float: 0.3 }, simpo_gamma: { float: 0.5 }, cpo_alpha: { float: 0 } });
    expect(args(run({ method: 'dpo', lossType: 'aot_pair' })).loss_type).toBe('aot_unpaired');
  });

  it('KTO with batch size 1 exports batch 2 (TRL refuses 1 when it estimates the KL) and says so', () => {
    const kto = trlTrainerSpec(run({ method: 'kto' }, { batchSize: 1 }));
    expect(Object.fromEntries(kto.args).per_device_train_batch_size).toBe(2);
    expect(kto.notes.join()).toMatch(/batch size 1; TRL's KTOTrainer refuses a per-device batch below 2/);
    expect(Object.fromEntries(trlTrainerSpec(run({ method: 'kto', lossType: 'apo_zero_unpaired' }, { batchSize: 1 })).args).per_device_train_batch_size).toBe(1);
    expect(Object.fromEntries(trlTrainerSpec(run({ method: 'dpo' }, { batchSize: 1 })).args).per_device_train_batch_size).toBe(1);
  });

  it('ORPO and CPO scripts switch the BOS off while TRL tokenizes; DPO and KTO leave it', () => {
    for (const m of ['orpo', 'cpo', 'simpo'] as const) expect(trlScript(run({ method: m }))).toMatch(/tokenizer\.bos_token = None\ntrainer = \w+Trainer\([\s\S]*tokenizer\.bos_token = bos_token\ntrainer\.train\(\)/);
    for (const m of ['dpo', 'kto', 'sft'] as const) expect(trlScript(run({ method: m }))).not.toContain('bos_token = None');
  });

  it('every argument is a field TRL defines for that config', () => {
    const objectives: ObjectiveSpec[] = [{ method: 'dpo', lossType: 'discopop' }, { method: 'orpo' }, { method: 'simpo' }, { method: 'cpo' }, { method: 'alphapo' }, { method: 'sft' }, { method: 'kto' }];
    for (const o of objectives) {
      const s = trlTrainerSpec({ ...run(o, { evalEvery: 2 }), hasEval: true });
      const known = new Set([...TRAINING_ARGS, ...TRL_FIELDS[s.name]]);
      for (const [k] of s.args) expect(known.has(k), `${o.method}: ${k}`).toBe(true);
    }
  });

  it('rejects bad limits and unpaired examples for a paired method; KTO takes pairs', () => {
    expect(() => trlTrainerSpec({ ...run({ method: 'dpo' }), maxLength: 1 })).toThrow(/maxLength/);
    const pair: Example = { kind: 'pair', prompt: 'p', chosen: 'a', rejected: 'b', appendEos: true, line: 3, index: 2 };
    const unpairedEx: Example = { kind: 'unpaired', prompt: 'p', completion: 'a', label: true, appendEos: true, line: 4, index: 3 };
    expect(() => trlExportFiles(run({ method: 'dpo' }), [unpairedEx])).toThrow(/dpo needs paired examples, got an unpaired example \(line 4\)/);
    // KTO takes pairs too: TRL's KTOTrainer unpairs a paired data set
    expect(trlExportFiles(run({ method: 'kto' }), [pair]).get('data.jsonl')).toMatch(/"chosen"/);
    expect(() => trlExportFiles(run({ method: 'dpo' }), [])).toThrow(/no training examples/);
  });
});

// ---- stand-in Python packages: enough of trl / transformers / datasets to run train.py ----
const FAKE_PY: Record<string, string> = {
  'datasets/__init__.py': `
import json
class Dataset:
    def __init__(self, rows): self.rows = rows
    def map(self, fn): return Dataset([fn(dict(r)) for r in self.rows])
def load_dataset(kind, data_files, split):
    assert kind == "json" and split == "train"
    with open(data_files, encoding="utf-8") as f:
        return Dataset([json.loads(l) for l in f if l.strip()])
`,
  'transformers/__init__.py': `
import os
class AutoTokenizer:
    pad_token = None
    eos_token = "<|endoftext|>"
    bos_token = "<|endoftext|>"
    @classmethod
    def from_pretrained(cls, path):
        assert os.path.exists(os.path.join(path, "tokenizer.json")), path
        return cls()
    def __call__(self, text, add_special_tokens=True): return {"input_ids": list(text.encode("utf-8"))}
    def decode(self, ids): return bytes(ids).decode("utf-8", errors="replace")
    def save_pretrained(self, path): pass
class AutoModelForCausalLM:
    def __init__(self, path): self.path = path
    @classmethod
    def from_pretrained(cls, path):
        assert os.path.exists(os.path.join(path, "model.safetensors")), path
        return cls(path)
`,
  'trl/_fake.py': `
import dataclasses, json, os
TRAINING_ARGS = ${JSON.stringify(TRAINING_ARGS)}
def make_config(name, fields):
    names = TRAINING_ARGS + fields + (["max_prompt_length"] if os.environ.get("FAKE_TRL_PROMPT_LENGTH") else [])
    return dataclasses.make_dataclass(name, [(n, object, dataclasses.field(default=None)) for n in names])
def make_trainer(name):
    class Trainer:
        def __init__(self, model, args, train_dataset, eval_dataset, processing_class, ref_model=None):
            self.record = {"trainer": name, "model": model.path, "ref_model": ref_model.path if ref_model else None,
                           "args": dataclasses.asdict(args), "train": train_dataset.rows,
                           "eval": eval_dataset.rows if eval_dataset is not None else None,
                           "pad_token": processing_class.pad_token, "bos_token": processing_class.bos_token}
        def train(self):
            with open(os.environ["FAKE_TRL_RECORD"], "w", encoding="utf-8") as f: json.dump(self.record, f)
        def evaluate(self): return {}
        def save_model(self, path): pass
    Trainer.__name__ = name
    return Trainer
`,
  'trl/__init__.py': `
from ._fake import make_config, make_trainer
DPOConfig = make_config("DPOConfig", ${JSON.stringify(TRL_FIELDS.DPO)})
DPOTrainer = make_trainer("DPOTrainer")
KTOConfig = make_config("KTOConfig", ${JSON.stringify(TRL_FIELDS.KTO)})
KTOTrainer = make_trainer("KTOTrainer")
`,
  'trl/experimental/__init__.py': '',
  ...Object.fromEntries(['ORPO', 'CPO'].map((n) => [`trl/experimental/${n.toLowerCase()}/__init__.py`, `
from trl._fake import make_config, make_trainer
${n}Config = make_config("${n}Config", ${JSON.stringify(TRL_FIELDS[n])})
${n}Trainer = make_trainer("${n}Trainer")
`])),
};

const hasPython = spawnSync('python3', ['--version']).status === 0;

/** train.py in `dir` under the stand-ins; `withPromptLength`: as TRL before 0.29, whose configs had max_prompt_length. */
const runScript = (dir: string, fakeDir: string, withPromptLength: boolean) => runTrainPy(dir, fakeDir, withPromptLength ? { FAKE_TRL_PROMPT_LENGTH: '1' } : {}, `record-${withPromptLength}.json`);

describe('export-trl', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes train.py, the same train/eval split as JSONL, the starting model; train.py runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-trl-'));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['init', '--preset', 'tiny', '--seed', '4', '--out', join(dir, 'start')])).toBe(0);
      const long = 'x'.repeat(40);
      // pair 1's prompt is Korean (3 bytes a character): cutting 16 bytes from the left lands inside one
      const pairs = Array.from({ length: 10 }, (_, i) => ({ prompt: i === 0 ? `${long} question ${i}?` : i === 1 ? '서울은 어느 나라의 수도입니까??' : `Question ${i}?`, chosen: ` good ${i}`, rejected: ` bad ${i}` }));
      await writeFile(join(dir, 'pairs.jsonl'), pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
      const runDir = join(dir, 'run');
      await mkdir(runDir);
      const config = cfg({ method: 'orpo', beta: 0.2 }, { evalFraction: 0.3, seed: 11, steps: 7, lr: 1e-3 });
      await writeFile(join(runDir, 'run.json'), JSON.stringify({ model: join(dir, 'start'), ref_model: null, pairs: join(dir, 'pairs.jsonl'), config, max_length: 64, max_prompt_length: 16 }));
      const out = join(dir, 'trl');
      expect(await main(['export-trl', '--run', runDir, '--out', out])).toBe(0);
      expect((await readdir(out)).sort()).toEqual(['README.txt', 'data.jsonl', 'eval.jsonl', 'model', 'requirements.txt', 'train.py']);
      const lines = async (f: string) => (await readFile(join(out, f), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      const train = await lines('data.jsonl');
      const evalRows = await lines('eval.jsonl');
      expect(evalRows.length).toBe(3); // round(10 · 0.3)
      // the partition `train` made: splitTrainEval over the accepted pairs in file order
      expect(evalRows.map((r) => r.prompt)).toEqual(splitTrainEval(pairs, 0.3, 11).eval.map((p) => p.prompt));
      expect([...train, ...evalRows].map((r) => r.prompt).sort()).toEqual(pairs.map((p) => p.prompt).sort());
      expect(Object.keys(train[0]).sort()).toEqual(['chosen', 'prompt', 'rejected']);
      const start = await readCheckpointDir(join(dir, 'start'));
      const copy = await readCheckpointDir(join(out, 'model'));
      expect(copy.config).toEqual(start.config);
      expect(Array.from(copy.params.get('wte.weight')!)).toEqual(Array.from(start.params.get('wte.weight')!));
      expect(await readFile(join(out, 'README.txt'), 'utf8')).toMatch(/pip install -r requirements.txt/);
      expect(await readFile(join(out, 'requirements.txt'), 'utf8')).toMatch(/^trl==1\.9\.0\ntransformers>=/);
      const py = await readFile(join(out, 'train.py'), 'utf8');
      expect(py).toContain('ORPOConfig');
      expect(py).toContain('    max_length=64,');
      expect(py).toContain('MAX_PROMPT_LENGTH = 16');

      if (!hasPython) {
        console.warn('python3 not found: train.py was checked as text only');
        return;
      }
      const fakeDir = await writeFakePackages(dir, FAKE_PY);
      // TRL ≥ 0.29 (no max_prompt_length): the script cuts prompts to 16 tokens from the left
      const rec = await runScript(out, fakeDir, false);
      expect(rec.trainer).toBe('ORPOTrainer');
      expect(rec.ref_model).toBeNull();
      expect(rec.pad_token).toBe('<|endoftext|>');
      const a = rec.args as Record<string, unknown>;
      expect(a).toMatchObject({ beta: 0.2, max_length: 64, learning_rate: 1e-3, max_steps: 7, seed: 11, per_device_train_batch_size: TRAIN_DEFAULTS.batchSize, lr_scheduler_type: 'linear', optim: 'adamw_torch' });
      expect('max_prompt_length' in a).toBe(false);
      const trainRows = rec.train as Array<{ prompt: string }>;
      const evalRec = rec.eval as Array<{ prompt: string }>;
      expect(trainRows.length + evalRec.length).toBe(10);
      for (const row of [...trainRows, ...evalRec]) expect(new TextEncoder().encode(row.prompt).length).toBeLessThanOrEqual(16);
      expect([...trainRows, ...evalRec].some((row) => row.prompt === 'xxxx question 0?')).toBe(true);
      // a cut inside a UTF-8 character drops the character's leftover bytes (no U+FFFD)
      expect([...trainRows, ...evalRec].some((row) => row.prompt === '도입니까??')).toBe(true);
      for (const row of [...trainRows, ...evalRec]) expect(row.prompt).not.toContain('\ufffd');
      // ORPO prepends the tokenizer's BOS in TRL: the script switches it off while the trainer tokenizes
      expect(rec.bos_token).toBeNull();
      // older TRL (the config has max_prompt_length): passed through, prompts left to TRL
      const old = await runScript(out, fakeDir, true);
      expect((old.args as Record<string, unknown>).max_prompt_length).toBe(16);
      expect([...(old.train as Array<{ prompt: string }>), ...(old.eval as Array<{ prompt: string }>)].map((r) => r.prompt)).toContain(`${long} question 0?`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('every method\'s train.py names its trainer and, under python3, runs against TRL\'s field names', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-trl-py-'));
    try {
      const fakeDir = await writeFakePackages(dir, FAKE_PY);
      expect(await main(['init', '--preset', 'tiny', '--seed', '1', '--out', join(dir, 'model')])).toBe(0);
      const pair: Example = { kind: 'pair', prompt: 'p', chosen: 'a', rejected: 'b', appendEos: true, line: 1, index: 0 };
      const unpaired: Example = { kind: 'unpaired', prompt: 'p', completion: 'a', label: true, appendEos: true, line: 1, index: 0 };
      const cases: Array<[ObjectiveSpec, string]> = [
        [{ method: 'dpo', lossType: ['sigmoid', 'discopop'], lossWeights: [1, 2] }, 'DPOTrainer'],
        [{ method: 'simpo', beta: 2 }, 'CPOTrainer'],
        [{ method: 'cpo' }, 'CPOTrainer'],
        [{ method: 'alphapo', alpha: 0.5, cpoAlpha: 0.1 }, 'CPOTrainer'],
        [{ method: 'dpo', lossType: 'aot_pair' }, 'DPOTrainer'],
        [{ method: 'sft' }, 'DPOTrainer'],
        [{ method: 'kto', desirableWeight: 1.2 }, 'KTOTrainer'],
      ];
      for (const [objective, trainer] of cases) {
        const files = trlExportFiles({ config: cfg(objective, { evalEvery: 3 }), maxLength: 32, maxPromptLength: 8 }, [objective.method === 'kto' ? unpaired : pair], [objective.method === 'kto' ? unpaired : pair]);
        expect(files.get('train.py'), objective.method).toContain(`trainer = ${trainer}(`);
        if (!hasPython) continue;
        for (const [name, text] of files) await writeFile(join(dir, name), text);
        const rec = await runScript(dir, fakeDir, false);
        expect(rec.trainer, objective.method).toBe(trainer);
        expect(rec.bos_token, objective.method).toBe(trainer === 'CPOTrainer' ? null : '<|endoftext|>');
        expect((rec.args as Record<string, unknown>).eval_steps).toBe(3);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('lengths come from run.json, else from --max-length / --max-prompt-length (bounded by n_positions)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-trl-len-'));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['init', '--preset', 'tiny', '--seed', '2', '--out', join(dir, 'm')])).toBe(0);
      await writeFile(join(dir, 'p.jsonl'), '{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "d", "chosen": "e", "rejected": "f"}\n');
      await writeFile(join(dir, 'run.json'), JSON.stringify({ model: join(dir, 'm'), pairs: join(dir, 'p.jsonl'), config: cfg({ method: 'cpo' }) }));
      expect(await main(['export-trl', '--run', dir, '--out', join(dir, 'o')])).toBe(0);
      expect(String(warn.mock.calls.at(-1)![0])).toMatch(/does not record --max-length: using 64 and max prompt length 32/);
      expect(await main(['export-trl', '--run', dir, '--out', join(dir, 'o2'), '--max-length', '40', '--max-prompt-length', '10'])).toBe(0);
      const py = await readFile(join(dir, 'o2', 'train.py'), 'utf8');
      expect(py).toContain('    max_length=40,');
      expect(py).toContain('MAX_PROMPT_LENGTH = 10');
      await expect(main(['export-trl', '--run', dir, '--out', join(dir, 'o3'), '--max-length', '999'])).rejects.toThrow(/exceeds the model's n_positions \(64\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('bad run folders are usage errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-trl-bad-'));
    try {
      await expect(main(['export-trl', '--run', dir, '--out', join(dir, 'o')])).rejects.toThrow(/no run\.json/);
      await writeFile(join(dir, 'run.json'), JSON.stringify({ model: 'x', pairs: 'y', config: { objective: { method: 'dpo', beta: -1 } } }));
      await expect(main(['export-trl', '--run', dir, '--out', join(dir, 'o')])).rejects.toThrow(UsageError);
      await writeFile(join(dir, 'run.json'), JSON.stringify({ model: 'x', config: {} }));
      await expect(main(['export-trl', '--run', dir, '--out', join(dir, 'o')])).rejects.toThrow(/field "pairs" must be a string/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
