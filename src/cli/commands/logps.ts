// `logps`: per-pair completion log-prob sums computed by the WGSL engine (README.md).
import { createWriteStream } from 'node:fs';
import type { Command } from '../command';
import { intOption, requireString } from '../command';
import { LORA_ADAPTER_OPTION, loadModelWithAdapter } from '../lora-flags';
import { loadPairsFile } from '../pairs-load';
import { nodeGpu } from '../../engine/node';
import { createModel, sequenceConfig } from '../../model/family';
import { RunnerPool } from '../../train/runners';
import { pairPass } from '../../train/pair-pass';
import { checkPairs, promptFor } from '../../train/pairs';
import { phaseName, ProgressClock, progressText } from '../../train/progress';

export const logps: Command = {
  name: 'logps',
  summary: 'Write, for every accepted pair, the token ids fed to the model and the sums of the completion tokens\' log-probs computed on the GPU.',
  options: {
    model: { type: 'string', valueName: 'DIR|builtin|hf:ORG/NAME', description: 'Model folder (config.json, model.safetensors or shards, tokenizer; GPT-2, Llama, Qwen2 or Mistral), builtin, or a Hugging Face Hub model hf:ORG/NAME[@REVISION] (downloaded into $HF_HOME/hub; HF_TOKEN for gated models)' },
    'lora-adapter': LORA_ADAPTER_OPTION,
    pairs: { type: 'string', valueName: 'FILE', description: 'Preference pairs (.jsonl, .json, .csv, .tsv, .yaml)' },
    out: { type: 'string', valueName: 'FILE.jsonl', description: 'Output, one JSON object per accepted pair' },
    'max-length': { type: 'string', valueName: 'N', description: 'Max prompt + completion tokens (default: min(1024, n_positions))' },
    'max-prompt-length': { type: 'string', valueName: 'N', description: 'Max prompt tokens, cut from the left (default: min(512, max-length/2))' },
    'batch-size': { type: 'string', valueName: 'N', description: 'Pairs per forward pass', default: '8' },
    'per-token': { type: 'boolean', description: 'Also write chosen_token_logps and rejected_token_logps: the log-prob of each completion token' },
    ches: { type: 'boolean', description: 'Also write ches and ches_normalized: CHES of each pair from the final hidden states (Razin et al. 2024; higher: training on it tends to lower the chosen log-prob)' },
    quiet: { type: 'boolean', description: 'No progress lines on stderr' },
  },
  details: [
    'Each line: index, prompt_ids, chosen_ids, rejected_ids, chosen_logps, rejected_logps, chosen_length, rejected_length.',
    'prompt_ids followed by chosen_ids (or rejected_ids) is exactly the sequence the model reads (end-of-text included);',
    'an empty prompt becomes [bos]. *_logps is the sum over the completion tokens.',
    'With --per-token, *_token_logps lists the log-prob of each completion token (they sum to *_logps); with --ches,',
    'ches = <sum h(y_w), sum h(y_l)> - |sum h(y_w)|^2 over the final hidden states predicting each completion token.',
  ],
  async run(opts) {
    requireString(opts, 'model');
    const pairsPath = requireString(opts, 'pairs');
    const out = requireString(opts, 'out');
    const ckpt = await loadModelWithAdapter(opts, 'lm');
    const maxLength = opts['max-length'] === undefined ? undefined : intOption(opts, 'max-length', 0, 2);
    const maxPrompt = opts['max-prompt-length'] === undefined ? undefined : intOption(opts, 'max-prompt-length', 0, 1);
    const batchSize = intOption(opts, 'batch-size', 8, 1);
    const seq = sequenceConfig(ckpt.config);
    const { pairs } = await loadPairsFile(pairsPath, ckpt.tokenizer, seq.nPositions, maxLength, maxPrompt);
    checkPairs(pairs, seq);
    const gpu = await nodeGpu('logps');
    const gm = createModel(gpu, ckpt);
    gm.upload(ckpt.params);
    const runners = new RunnerPool(gm);
    // a progress line at most every second
    const clock = new ProgressClock(1000, (p) => console.error(`${phaseName(p.phase)}: ${progressText(p)}`), ['logps']);
    const r = await pairPass(gm, runners, pairs, batchSize, { tokens: opts['per-token'] === true, ches: opts.ches === true }, opts.quiet ? undefined : { progress: (p) => clock.report({ phase: 'logps', unit: 'pairs', ...p }) });
    const file = createWriteStream(out);
    pairs.forEach((p, i) => {
      const line = {
        index: p.index,
        prompt_ids: promptFor(p, seq.bosTokenId),
        chosen_ids: p.chosenIds,
        rejected_ids: p.rejectedIds,
        chosen_logps: r.chosen[i],
        rejected_logps: r.rejected[i],
        chosen_length: r.chosenLen[i],
        rejected_length: r.rejectedLen[i],
        ...(r.chosenTokens && r.rejectedTokens ? { chosen_token_logps: Array.from(r.chosenTokens[i]), rejected_token_logps: Array.from(r.rejectedTokens[i]) } : {}),
        ...(r.ches ? { ches: r.ches[i].ches, ches_normalized: r.ches[i].normalized } : {}),
      };
      file.write(JSON.stringify(line) + '\n');
    });
    await new Promise<void>((res, rej) => file.end((e?: Error | null) => (e ? rej(e) : res())));
    runners.destroy();
    gm.destroy();
    console.error(`wrote ${pairs.length} pairs to ${out}`);
  },
};
