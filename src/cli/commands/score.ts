// `score`: a reward model's score of every accepted pair's chosen and rejected sequence, computed by
// the WGSL engine's score head (README.md; issue 16; docs/rlhf.md "Reward model on the GPU").
import { createWriteStream } from 'node:fs';
import type { Command } from '../command';
import { intOption, requireString, UsageError } from '../command';
import { LORA_ADAPTER_OPTION, loadModelWithAdapter } from '../lora-flags';
import { loadPairsFile } from '../pairs-load';
import { nodeGpu } from '../../engine/node';
import { createModel, sequenceConfig } from '../../model/family';
import { isRewardModel } from '../../model/reward';
import { RunnerPool } from '../../train/runners';
import { pairRewards } from '../../train/reward-trainer';
import { checkPairs, promptFor } from '../../train/pairs';
import { ProgressClock, progressText } from '../../train/progress';

export const score: Command = {
  name: 'score',
  summary: "Write, for every accepted pair, the token ids fed to a reward model and its score of the chosen and the rejected sequence, computed on the GPU.",
  options: {
    model: { type: 'string', valueName: 'DIR|hf:ORG/NAME', description: 'Reward model folder (GPT2ForSequenceClassification or LlamaForSequenceClassification/Qwen2…/Mistral…, num_labels 1: from `init --reward-head` or `train --method reward`), or a Hugging Face Hub model hf:ORG/NAME[@REVISION]' },
    'lora-adapter': { ...LORA_ADAPTER_OPTION, description: `${LORA_ADAPTER_OPTION.description}; a reward model's (SEQ_CLS) adapter, whose score head replaces the model's, so --model may be the causal LM it was trained from` },
    pairs: { type: 'string', valueName: 'FILE', description: 'Preference pairs (.jsonl, .json, .csv, .tsv, .yaml)' },
    out: { type: 'string', valueName: 'FILE.jsonl', description: 'Output, one JSON object per accepted pair' },
    'max-length': { type: 'string', valueName: 'N', description: 'Max prompt + completion tokens (default: min(1024, n_positions))' },
    'max-prompt-length': { type: 'string', valueName: 'N', description: 'Max prompt tokens, cut from the left (default: min(512, max-length/2))' },
    'batch-size': { type: 'string', valueName: 'N', description: 'Pairs per forward pass', default: '8' },
    quiet: { type: 'boolean', description: 'No progress lines on stderr' },
  },
  details: [
    'Each line: index, prompt_ids, chosen_ids, rejected_ids, chosen_reward, rejected_reward.',
    'prompt_ids followed by chosen_ids (or rejected_ids) is exactly the sequence the model reads (end-of-text included);',
    'an empty prompt becomes [bos]. The reward is the score head at the last token that is not pad_token_id, as',
    "transformers' *ForSequenceClassification reads it (with pad = end-of-text, the token before a final end-of-text).",
  ],
  async run(opts) {
    const model = requireString(opts, 'model');
    const pairsPath = requireString(opts, 'pairs');
    const out = requireString(opts, 'out');
    const ckpt = await loadModelWithAdapter(opts, 'score');
    if (!isRewardModel(ckpt.config)) throw new UsageError(`--model ${model}: not a reward model (config.json's architectures names no *ForSequenceClassification with num_labels 1): make one with \`train --method reward\` or \`init --reward-head\``);
    const maxLength = opts['max-length'] === undefined ? undefined : intOption(opts, 'max-length', 0, 2);
    const maxPrompt = opts['max-prompt-length'] === undefined ? undefined : intOption(opts, 'max-prompt-length', 0, 1);
    const batchSize = intOption(opts, 'batch-size', 8, 1);
    const seq = sequenceConfig(ckpt.config);
    const { pairs } = await loadPairsFile(pairsPath, ckpt.tokenizer, seq.nPositions, maxLength, maxPrompt);
    checkPairs(pairs, seq);
    const gpu = await nodeGpu('score');
    const gm = createModel(gpu, ckpt);
    gm.upload(ckpt.params);
    const runners = new RunnerPool(gm);
    // a progress line at most every second (the pass is logps' kind: one forward per batch of pairs)
    const clock = new ProgressClock(1000, (p) => console.error(`scores: ${progressText(p)}`), ['logps']);
    const r = await pairRewards(gm, runners, pairs, batchSize, opts.quiet ? undefined : { progress: (p) => clock.report({ phase: 'logps', unit: 'pairs', ...p }) });
    const file = createWriteStream(out);
    pairs.forEach((p, i) => {
      const line = { index: p.index, prompt_ids: promptFor(p, seq.bosTokenId), chosen_ids: p.chosenIds, rejected_ids: p.rejectedIds, chosen_reward: r.chosen[i], rejected_reward: r.rejected[i] };
      file.write(JSON.stringify(line) + '\n');
    });
    await new Promise<void>((res, rej) => file.end((e?: Error | null) => (e ? rej(e) : res())));
    runners.destroy();
    gm.destroy();
    console.error(`wrote ${pairs.length} pairs to ${out}`);
  },
};
