// The CLI end to end on real WebGPU: `init` + `logps` on pairs generated here (never seen by
// the project) against the independent float64 GPT-2; `train` writes TRL-named metrics and a
// model folder that loads again; bad arguments give one line and a non-zero exit.
import { describe, it, expect, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { readCheckpointDir, writeCheckpointDir } from '../../src/model/checkpoint-node';
import { saveCheckpoint } from '../../src/model/checkpoint';
import { gpt2ForwardRef } from '../../src/reference/gpt2';
import { expectClose, freshSeed } from '../helpers/close';
import { Rng } from '../../src/util/rng';

const dir = mkdtempSync(join(tmpdir(), 'prefplay-cli-'));

function words(rng: Rng, n: number): string {
  const vocab = ['le', 'chat', '서울', '수도', 'Paris', 'is', 'the', '🙂', 'très', 'bien', 'answer', '42', 'no'];
  return Array.from({ length: n }, () => vocab[rng.int(vocab.length)]).join(' ');
}

describe('CLI on WebGPU', () => {
  it('init + logps match the float64 GPT-2 within 1e-4 relative, ids as fed to the model', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const model = join(dir, 'tiny');
    expect(await main(['init', '--preset', 'tiny', '--seed', String(seed % 1000), '--out', model])).toBe(0);
    const rows = Array.from({ length: 5 }, () => ({ prompt: words(rng, 1 + rng.int(3)), chosen: ' ' + words(rng, 1 + rng.int(3)), rejected: ' ' + words(rng, 1 + rng.int(3)) + '!' }));
    const pairsFile = join(dir, 'unseen.jsonl');
    writeFileSync(pairsFile, rows.map((r) => JSON.stringify(r)).join('\n'));
    const out = join(dir, 'logps.jsonl');
    expect(await main(['logps', '--model', model, '--pairs', pairsFile, '--out', out, '--max-length', '64', '--max-prompt-length', '32', '--batch-size', '3'])).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    const ckpt = await readCheckpointDir(model);
    const enc = (s: string) => Array.from(new TextEncoder().encode(s));
    const seqs: number[][] = [];
    lines.forEach((l, i) => {
      expect(l.index).toBe(i);
      expect(l.prompt_ids).toEqual(enc(rows[i].prompt));
      expect(l.chosen_ids).toEqual([...enc(rows[i].chosen), 256]);
      expect(l.rejected_ids).toEqual([...enc(rows[i].rejected), 256]);
      expect(l.chosen_length).toBe(l.chosen_ids.length);
      seqs.push([...l.prompt_ids, ...l.chosen_ids], [...l.prompt_ids, ...l.rejected_ids]);
    });
    const ref = gpt2ForwardRef(ckpt.params, ckpt.config, seqs);
    const want = seqs.map((s, k) => ref.logp[k].slice(lines[k >> 1].prompt_ids.length - 1).reduce((a, b) => a + b, 0));
    const got = lines.flatMap((l) => [l.chosen_logps, l.rejected_logps]);
    expectClose(got, want, { rtol: 1e-4, atol: 0, what: `logps seed=${seed}` });
  });

  it('train writes metrics.jsonl with TRL names and a model folder that loads', async () => {
    const model = join(dir, 'tiny-train');
    expect(await main(['init', '--preset', 'tiny', '--seed', '5', '--out', model])).toBe(0);
    const pairsFile = join(dir, 'arith.jsonl');
    const rng = new Rng(9);
    const rows = Array.from({ length: 10 }, () => {
      const a = 1 + rng.int(9), b = 1 + rng.int(9);
      return { prompt: `${a}+${b}=`, chosen: String(a + b), rejected: String(a + b + 1) };
    });
    writeFileSync(pairsFile, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'run');
    expect(await main(['train', '--model', model, '--pairs', pairsFile, '--method', 'orpo', '--steps', '2', '--batch-size', '2', '--eval-fraction', '0.2', '--out', out, '--quiet'])).toBe(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 2]);
    for (const k of ['loss', 'nll_loss', 'log_odds_ratio', 'log_odds_chosen', 'rewards/chosen', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logits/chosen', 'log_odds/chosen', 'log_odds/rejected', 'grad_norm', 'learning_rate', 'tokens_per_second', 'epoch']) {
      expect(Number.isFinite(metrics[0][k]), k).toBe(true);
    }
    expect(Object.keys(metrics[2]).filter((k) => !['step', 'epoch'].includes(k)).every((k) => k.startsWith('eval_'))).toBe(true);
    const trained = await readCheckpointDir(join(out, 'model'));
    const start = await readCheckpointDir(model);
    expect(trained.config).toEqual(start.config);
    expect(trained.params.get('wte.weight')).not.toEqual(start.params.get('wte.weight'));
  });

  it('train --method kto runs on unpaired examples (bf16 moments); a pairs-only method refuses them', async () => {
    const model = join(dir, 'tiny-kto');
    expect(await main(['init', '--preset', 'tiny', '--seed', '6', '--out', model])).toBe(0);
    const file = join(dir, 'kto.jsonl');
    const rows = Array.from({ length: 6 }, (_, i) => ({ prompt: `${i}+1=`, completion: String(i % 2 ? i + 1 : i + 2), label: i % 2 === 1 }));
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const out = join(dir, 'run-kto');
    expect(await main(['train', '--model', model, '--pairs', file, '--method', 'kto', '--steps', '2', '--batch-size', '3', '--moments-dtype', 'bf16', '--out', out, '--quiet'])).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.momentsDtype).toBe('bf16');
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(2);
    expect(Number.isFinite(metrics[1].kl) && Number.isFinite(metrics[1].loss)).toBe(true);
    await expect(main(['train', '--model', model, '--pairs', file, '--method', 'dpo', '--out', out])).rejects.toThrow(/use --method kto/);
  });

  it('train and logps show progress of their passes on stderr (not with --quiet); the NaN stop names file lines', async () => {
    const model = join(dir, 'tiny-progress');
    expect(await main(['init', '--preset', 'tiny', '--seed', '8', '--out', model])).toBe(0);
    // line 2 is rejected (invalid JSON), so the pairs sit on lines 1, 3, 4, 5
    const file = join(dir, 'progress.jsonl');
    const good = (i: number) => JSON.stringify({ prompt: `${i}+2=`, chosen: String(i + 2), rejected: String(i + 3) });
    writeFileSync(file, [good(1), '{"prompt": "broken", ', good(2), good(3), good(4)].join('\n') + '\n');
    const stderr = async (args: string[]) => {
      const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const code = await main(args).catch((e: Error) => e);
        return { code, lines: spy.mock.calls.map((c) => c.map(String).join(' ')) };
      } finally {
        spy.mockRestore();
      }
    };
    const trained = await stderr(['train', '--model', model, '--pairs', file, '--method', 'dpo', '--steps', '1', '--batch-size', '4', '--out', join(dir, 'run-progress')]);
    expect(trained.code).toBe(0);
    expect(trained.lines).toContainEqual(expect.stringMatching(/^reference log-probs: 4 \/ 4 pairs \(100 %\), \d+ s$/));
    const quiet = await stderr(['train', '--model', model, '--pairs', file, '--method', 'dpo', '--steps', '1', '--batch-size', '4', '--out', join(dir, 'run-quiet'), '--quiet']);
    expect(quiet.lines.filter((l) => /log-probs/.test(l))).toEqual([]);
    const scored = await stderr(['logps', '--model', model, '--pairs', file, '--out', join(dir, 'progress-logps.jsonl')]);
    expect(scored.lines).toContainEqual(expect.stringMatching(/^log-probs: 4 \/ 4 pairs \(100 %\), \d+ s$/));

    // LayerNorm gains near f32's largest value: the logits overflow at the first update
    const ckpt = await readCheckpointDir(model);
    const blown = join(dir, 'tiny-blown');
    await writeCheckpointDir(blown, saveCheckpoint(ckpt.config, new Map([...ckpt.params, ['ln_f.weight', new Float32Array(ckpt.config.nEmbd).fill(3e38)]]), 'byte'));
    const failed = await stderr(['train', '--model', blown, '--pairs', file, '--method', 'dpo', '--steps', '2', '--batch-size', '4', '--out', join(dir, 'run-nan'), '--quiet']);
    expect(failed.code).toBeInstanceOf(Error);
    const message = (failed.code as Error).message;
    expect(message).toMatch(/^non-finite .* at step 1 \(file lines 1, 3, 4, 5\): lower the learning rate or check these rows — metrics so far are in /);
    expect(message).not.toMatch(/pairs \d/);
  });

  it('rejects bad arguments with a non-zero exit', async () => {
    await expect(main(['train', '--model', join(dir, 'nope'), '--pairs', 'x.jsonl', '--out', dir])).rejects.toThrow(/no such folder/);
    await expect(main(['train', '--model', 'builtin', '--pairs', 'x', '--out', dir, '--method', 'magic'])).rejects.toThrow(/--method must be one of/);
    await expect(main(['train', '--model', 'builtin', '--pairs', 'x', '--out', dir, '--optimizer', 'adam'])).rejects.toThrow(/--optimizer must be one of adamw, sgd/);
    await expect(main(['train', '--model', 'builtin', '--pairs', 'x', '--out', dir, '--moments-dtype', 'fp16'])).rejects.toThrow(/--moments-dtype must be one of f32, bf16/);
    await expect(main(['train', '--model', 'builtin', '--pairs', 'x', '--out', dir, '--optimizer', 'sgd', '--moments-dtype', 'bf16'])).rejects.toThrow(/--moments-dtype applies to adamw only/);
    await expect(main(['logps', '--model', 'builtin', '--pairs', 'x'])).rejects.toThrow(/missing required option --out/);
  });
});
