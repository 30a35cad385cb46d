// `judge`: sample completions of N prompts of a preference set and score them with the set's
// rule-based judge (src/judge); prints the judged win rate as JSON. Generation runs the model
// exported to ONNX under onnxruntime-web (the same path as `generate`).
import { createReadStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command';
import { intOption, numberOption, requireString, UsageError } from '../command';
import { LORA_ADAPTER_OPTION, loadModelWithAdapter } from '../lora-flags';
import { processSource } from '../../data/pipeline';
import { DataError, type PreferencePair } from '../../data/types';
import { judgeFor, judgeSamples, winRate } from '../../judge';
import { exportModelOnnx, generationConfig } from '../../onnx/export';
import { createNodeOnnxLm } from '../../onnx/session-node';
import { generate as generateText } from '../../onnx/generate';
import { Rng } from '../../util/rng';

/** A built-in set name (public/data/NAME.jsonl) or a file path. */
export function resolveSetPath(set: string): string {
  if (existsSync(set)) return set;
  if (/^[\w-]+$/.test(set)) {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 6; i++, dir = resolve(dir, '..')) {
      const path = join(dir, 'public', 'data', `${set}.jsonl`);
      if (existsSync(path)) return path;
    }
  }
  throw new UsageError(`--set ${set}: neither a built-in set (public/data/${set}.jsonl) nor a file`);
}

async function readPairs(path: string): Promise<PreferencePair[]> {
  const pairs: PreferencePair[] = [];
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    await processSource(stream, { name: path }, { onExample: (ex) => ex.kind === 'pair' && pairs.push(ex) });
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${path}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    stream.destroy();
  }
  if (!pairs.length) throw new UsageError(`${path}: no preference pairs`);
  return pairs;
}

export const judge: Command = {
  name: 'judge',
  summary: "Generate completions for N prompts of a preference set and print the judged win rate (JSON) from the set's rule-based judge.",
  options: {
    model: { type: 'string', valueName: 'DIR|builtin', description: 'Model folder (GPT-2, Llama, Qwen2 or Mistral), or builtin', default: 'builtin' },
    'lora-adapter': LORA_ADAPTER_OPTION,
    set: { type: 'string', valueName: 'NAME|FILE', description: 'Built-in set (arithmetic, arithmetic-test, politeness, politeness-test, seed-examples) or a pairs file' },
    samples: { type: 'string', valueName: 'N', description: 'Prompts to sample (drawn without replacement, seeded); 0 = all', default: '50' },
    seed: { type: 'string', valueName: 'S', description: 'Seed of the prompt draw and of sampling', default: '0' },
    temperature: { type: 'string', valueName: 'T', description: 'Sampling temperature; 0 is greedy', default: '1' },
    'max-new-tokens': { type: 'string', valueName: 'N', description: 'Tokens to generate at most per prompt', default: '64' },
    out: { type: 'string', valueName: 'FILE', description: 'Also write every judged sample as JSONL' },
  },
  details: [
    'Judges: arithmetic* → the first integer of the completion equals the expression; politeness* → a polite marker and no curt one;',
    "  anything else → closer to the pair's chosen answer than to its rejected one (character bigrams).",
    'Example: npm run cli -- judge --model builtin --set arithmetic-test --samples 100 --seed 1',
  ],
  async run(opts) {
    const setArg = requireString(opts, 'set');
    const n = intOption(opts, 'samples', 50, 0);
    const seed = intOption(opts, 'seed', 0, 0);
    const temperature = numberOption(opts, 'temperature', 1);
    if (temperature < 0) throw new UsageError(`--temperature must be ≥ 0, got ${temperature}`);
    const maxNewTokens = intOption(opts, 'max-new-tokens', 64, 1);
    const path = resolveSetPath(setArg);
    const pairs = await readPairs(path);
    const order = new Rng(seed).shuffle(pairs.map((_, i) => i));
    const chosen = (n === 0 ? order : order.slice(0, n)).map((i) => pairs[i]);
    const j = judgeFor(setArg);
    const ckpt = await loadModelWithAdapter(opts, 'lm');
    const gen = generationConfig(ckpt.config);
    const lm = await createNodeOnnxLm(exportModelOnnx(ckpt.config, ckpt.params), gen);
    const items: Array<{ prompt: string; completion: string; pair: { chosen: string; rejected: string } }> = [];
    try {
      for (const [k, p] of chosen.entries()) {
        const g = await generateText(lm, ckpt.tokenizer, p.prompt, { maxNewTokens, temperature, topK: 0, seed: (seed * 1_000_003 + k) >>> 0, stopIds: gen.stopIds });
        items.push({ prompt: p.prompt, completion: g.text, pair: { chosen: p.chosen, rejected: p.rejected } });
      }
    } finally {
      await lm.release();
    }
    const judged = judgeSamples(j, items);
    const wr = winRate(judged);
    if (typeof opts.out === 'string') await writeFile(opts.out, judged.map((s) => JSON.stringify(s)).join('\n') + '\n');
    console.log(JSON.stringify({ model: String(opts.model), ...(opts['lora-adapter'] !== undefined ? { lora_adapter: String(opts['lora-adapter']) } : {}), set: setArg, file: path, judge: j.name, temperature, seed, win_rate: wr.winRate, wins: wr.wins, n: wr.n, examples: judged.slice(0, 5) }, null, 2));
  },
};
