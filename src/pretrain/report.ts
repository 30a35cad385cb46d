// TRAINING.md of the built-in model, rendered from its training-log.json record.
import type { PretrainLog } from './run';
import type { PretrainHp } from './pretrain';
import type { GPTConfig } from '../model/config';

export interface PretrainRecord extends PretrainLog {
  command: string;
  started: string;
  adapter: string;
  via: string;
  config: GPTConfig;
  hyperparameters: PretrainHp;
  seeds: { init: number; corpus: number; heldout: number };
}

const f4 = (x: number) => x.toFixed(4);
const code = (s: string) => '`' + JSON.stringify(s).slice(1, -1).replace(/`/g, '\\`') + '`';

export function trainingMarkdown(r: PretrainRecord): string {
  const c = r.config;
  const hp = r.hyperparameters;
  const first = r.heldout[0];
  const last = r.heldout[r.heldout.length - 1];
  const every = Math.max(1, Math.floor(r.curve.length / 14));
  const curve = r.curve.filter((p, i) => i % every === 0 || i === r.curve.length - 1);
  const lines = [
    '# Built-in model: pretraining log',
    '',
    `A byte-level GPT-2 (${r.parameters.toLocaleString('en-US')} parameters: n_embd ${c.nEmbd}, n_layer ${c.nLayer}, n_head ${c.nHead}, n_positions ${c.nPositions}, vocab ${c.vocabSize} = 256 bytes + <|endoftext|>),`,
    'pretrained from a random init by PrefPlay\'s own WGSL engine on the generated English/Korean/French corpus of',
    '`src/pretrain/corpus.ts` (written for this project; same licence). Every number below comes from `training-log.json`.',
    '',
    '## Reproduce',
    '',
    '```',
    r.command,
    '```',
    '',
    `Adapter: ${r.adapter} (${r.via}). Started ${r.started}.`,
    '',
    '## Run',
    '',
    '| | |',
    '|---|---|',
    `| steps | ${r.steps} |`,
    `| batch | ${hp.batchSize} rows × ${hp.seqLen} tokens |`,
    `| tokens seen | ${r.tokens.toLocaleString('en-US')} |`,
    `| wall time | ${r.wallSeconds.toFixed(0)} s |`,
    `| optimizer | AdamW lr ${hp.lr}, β (${hp.beta1}, ${hp.beta2}), weight decay ${hp.weightDecay} (not on biases/LayerNorm), warmup ${hp.warmupSteps} then cosine, clip ${hp.maxGradNorm} |`,
    `| seeds | init ${r.seeds.init}, corpus ${r.seeds.corpus}, held-out corpus ${r.seeds.heldout} |`,
    `| held-out loss | ${f4(first.loss)} → **${f4(last.loss)}** nats/byte (uniform over 257 tokens: ${f4(Math.log(c.vocabSize))}) |`,
    '',
    '## Loss curve (train batch loss, nats per byte)',
    '',
    '| step | loss | grad norm | lr | seconds |',
    '|---:|---:|---:|---:|---:|',
    ...curve.map((p) => `| ${p.step} | ${f4(p.loss)} | ${p.grad_norm.toFixed(3)} | ${p.lr.toExponential(2)} | ${p.seconds.toFixed(0)} |`),
    '',
    '## Held-out loss',
    '',
    '| step | loss |',
    '|---:|---:|',
    ...r.heldout.map((p) => `| ${p.step} | ${f4(p.loss)} |`),
    '',
    '## Greedy samples',
    '',
    '| prompt | before (random init) | after |',
    '|---|---|---|',
    ...r.samplesBefore.map((s, i) => `| ${code(s.prompt)} | ${code(s.completion)} | ${code(r.samplesAfter[i]?.completion ?? '')} |`),
    '',
  ];
  return lines.join('\n');
}
