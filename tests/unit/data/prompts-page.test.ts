// Prompt-only files on the page: the data panel's inspect() recognises them as the CLI's train
// does (first row {"prompt": …} alone), names every bad row's line and reason, previews the
// prompts and histograms their lengths; the session's loader gives the CLI's prompt ids; and the
// cards that cannot train on prompts say why.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processPromptSource } from '../../../src/data/prompts';
import { inspect } from '../../../src/worker/inspect';
import { dataWorkerApi } from '../../../src/data/worker-api';
import { loadSessionData } from '../../../src/worker/pairs';
import { loadPromptsFile } from '../../../src/cli/prompts-load';
import { ByteTokenizer } from '../../../src/tokenizer/byte';

import { acceptedText, cardDataProblem, dataKind, newCard } from '../../../src/store/presets';

const opts = { name: 'p.jsonl', format: 'auto' as const, nPositions: 128, maxLength: 64, maxPromptLength: 32 };
const PROMPTS = [
  '{"prompt": "Q: What is 2+3?\\nA: "}',
  '{"prompt": [{"role": "user", "content": "What is 6+1?"}], "id": 2}',
  '{"prompt": "x", "chosen": "a", "rejected": "b"}',
  '{"promt": "typo"}',
  '{"prompt": 7}',
  '{"prompt": "Q: What is 1+1?\\nA: "',
  '{"prompt": "' + 'L'.repeat(40) + 'END"}',
].join('\n');

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('prompt-only files in the data panel', () => {
  it('reads a prompts file as prompts: counts, each bad row by line and reason, preview, histogram', async () => {
    const r = await inspect(new Blob([PROMPTS]), opts);
    expect(r.kind).toBe('prompts');
    if (r.kind !== 'prompts') return;
    expect(r.report).toMatchObject({ firstRow: 'prompt', rows: 7, accepted: 3, rejectedCount: 4, truncated: 1, maxPromptLength: 32, summary: '3 of 7 rows accepted, 4 rejected' });
    expect(r.report.rejected.map((x) => [x.line, x.code, x.field])).toEqual([
      [3, 'mixed-format', 'chosen'],
      [4, 'missing-field', 'prompt'],
      [5, 'wrong-type', 'prompt'],
      [6, 'syntax', undefined],
    ]);
    expect(r.report.rejected[0].reason).toMatch(/"chosen" \(another format's field\).*prompt-only rows/);
    expect(r.report.rejected[1].reason).toMatch(/prompt is missing/);
    expect(r.report.rejected[2].reason).toBe('prompt must be a string or a list of {role, content} messages, got number');
    expect(r.report.rejected[3].reason).toMatch(/^invalid JSON/);
    // preview: prompts as the model reads them, chosen/rejected empty; the long one keeps its end
    expect(r.preview.map((p) => [p.line, p.prompt, p.chosen, p.rejected])).toEqual([
      [1, 'Q: What is 2+3?\nA: ', '', ''],
      [2, 'User: What is 6+1?\nAssistant: ', '', ''],
      [7, 'L'.repeat(29) + 'END', '', ''],
    ]);
    expect(r.preview[2].cut).toEqual({ prompt: [32, 43] });
    expect(r.preview[0].cut).toBeUndefined();
    // histogram of prompt tokens before truncation, the max prompt length marked
    expect(r.histogram.maxLength).toBe(32);
    expect(r.histogram.counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(Math.max(...r.histogram.edges)).toBeGreaterThanOrEqual(43);
    expect(r.kept).toMatchObject({ answers: 0, prompts: 3, promptsCut: 1, promptKept: 19 + 30 + 32, promptTotal: 19 + 30 + 43 });
    expect(dataKind(r)).toBe('prompts');
    expect(acceptedText(r)).toBe('3 prompts');
  });

  it('reads CSV and YAML prompt files too', async () => {
    const csv = await inspect(new Blob(['prompt,id\n"Q: 1+1?",1\n"Q: 2+2?",2\n']), { ...opts, name: 'p.csv' });
    expect(csv.kind).toBe('prompts');
    expect(csv.report.accepted).toBe(2);
    expect(csv.preview.map((p) => p.prompt)).toEqual(['Q: 1+1?', 'Q: 2+2?']);
    const yaml = await inspect(new Blob(['- prompt: "Q: 3+3?"\n- prompt: "Q: 4+4?"\n']), { ...opts, name: 'p.yaml' });
    expect(yaml.kind).toBe('prompts');
    expect(yaml.report.accepted).toBe(2);
  });

  it('reads pairs and KTO files as before, and says examples (not pairs) for KTO', async () => {
    const pairs = await inspect(new Blob(['{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": "q"}\n']), opts);
    expect(pairs.kind).toBe('examples');
    expect(pairs.report.accepted).toBe(1);
    expect(dataKind(pairs)).toBe('pairs');
    expect(acceptedText(pairs)).toBe('1 pair');
    const kto = await inspect(new Blob(['{"prompt": "p", "completion": "a", "label": true}\n{"prompt": "p", "completion": "b", "label": false}\n']), opts);
    expect(kto.kind).toBe('examples');
    expect(dataKind(kto)).toBe('unpaired');
    expect(acceptedText(kto)).toBe('2 examples');
  });

  it('a chosen row format reads the file as that format, not as prompts', async () => {
    const r = await inspect(new Blob([PROMPTS]), { ...opts, format: 'standard' });
    expect(r.kind).toBe('examples');
    expect(r.report.accepted).toBe(1); // the one pair row
  });

  it('stops reading a file that is not a prompts file at its first row', async () => {
    let pulled = 0;
    const chunks = ['{"prompt": "p", "chosen": "a", "rejected": "b"}\n', '{"prompt": "q", "chosen": "a", "rejected": "b"}\n', '{"prompt": "r", "chosen": "a", "rejected": "b"}\n'];
    const source: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        for (const c of chunks) {
          pulled++;
          yield new TextEncoder().encode(c);
        }
      },
    };
    const report = await processPromptSource(source, { name: 'x.jsonl', maxPromptLength: 8 });
    expect(report.firstRow).toBe('other');
    expect(pulled).toBe(1);
  });
});

describe('the session reads prompts as the CLI does', () => {
  it('loadSessionData gives the prompt ids, lines and indices of the CLI train loader', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prompts-page-'));
    dirs.push(dir);
    const path = join(dir, 'p.jsonl');
    await writeFile(path, PROMPTS);
    const tok = new ByteTokenizer();
    const page = await loadSessionData(new Blob([PROMPTS]), 'p.jsonl', 'auto', tok, 128, 64, 32);
    const cli = await loadPromptsFile(path, tok, 128, 64, 32);
    expect(cli.source).toBe('prompts');
    expect(page.prompts).not.toBeNull();
    expect(page.pairs).toEqual([]);
    expect(page.prompts!.map((p) => ({ ...p, promptIds: [...p.promptIds] }))).toEqual(cli.prompts.map((p) => ({ ...p, promptIds: [...p.promptIds] })));
    expect(page.prompts!.map((p) => p.line)).toEqual([1, 2, 7]);
  });

  it('a pairs file still gives pairs; a prompts file without a usable prompt is an error naming it', async () => {
    const tok = new ByteTokenizer();
    const pairs = await loadSessionData(new Blob(['{"prompt": "p", "chosen": "a", "rejected": "b"}\n']), 'x.jsonl', 'auto', tok, 128, 64, 32);
    expect(pairs.prompts).toBeNull();
    expect(pairs.pairs).toHaveLength(1);
    await expect(loadSessionData(new Blob(['{"prompt": 1}\n{"prompt": null}\n']), 'bad.jsonl', 'auto', tok, 128, 64, 32)).rejects.toThrow(/bad\.jsonl: no usable prompts \(0 of 2 rows accepted, 2 rejected/);
  });
});

describe('TRL JSON Lines of a prompts file', () => {
  it('writes TRL prompt-only rows, rendered as the model reads them, bad rows left out', async () => {
    const { report, jsonl } = await dataWorkerApi.exportTrl(new Blob([PROMPTS]), { name: 'p.jsonl' });
    expect(report.accepted).toBe(3);
    expect((await jsonl.text()).trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ prompt: 'Q: What is 2+3?\nA: ' }, { prompt: 'User: What is 6+1?\nAssistant: ' }, { prompt: 'L'.repeat(40) + 'END' }]);
    // a pairs file is exported as pairs, as before
    const pairs = await dataWorkerApi.exportTrl(new Blob(['{"prompt": "p", "chosen": "a", "rejected": "b"}\n']), { name: 'x.jsonl' });
    expect(JSON.parse((await pairs.jsonl.text()).trim())).toEqual({ prompt: 'p', chosen: 'a', rejected: 'b' });
  });
});

describe('cards on prompt-only data', () => {
  it('pair and unpaired methods are refused with what they need; GRPO and RLOO with a judge are not', () => {
    for (const m of ['dpo', 'orpo', 'sft', 'reward'] as const) expect(cardDataProblem(newCard(m), 'prompts')).toMatch(/^needs preference pairs \(prompt, chosen, rejected\), and this file holds prompts only/);
    expect(cardDataProblem(newCard('kto'), 'prompts')).toMatch(/^needs unpaired examples \(prompt, completion, label\) or preference pairs/);
    expect(cardDataProblem(newCard('ppo'), 'prompts')).toMatch(/^needs its SFT and Reward model stages, which train on preference pairs/);
    expect(cardDataProblem(newCard('grpo', { reward: ['reward-model'] }), 'prompts')).toMatch(/Reward model, which trains on preference pairs.*judge reward/);
    expect(cardDataProblem(newCard('grpo'), 'prompts')).toBeNull();
    expect(cardDataProblem(newCard('rloo'), 'prompts')).toBeNull();
  });

  it('pairs train every card; unpaired data refuses the pair methods only', () => {
    for (const m of ['dpo', 'kto', 'grpo', 'ppo', 'reward'] as const) expect(cardDataProblem(newCard(m), 'pairs')).toBeNull();
    expect(cardDataProblem(newCard('dpo'), 'unpaired')).toMatch(/trains on preference pairs, and this file holds unpaired \(KTO\) examples/);
    expect(cardDataProblem(newCard('kto'), 'unpaired')).toBeNull();
    expect(cardDataProblem(newCard('grpo'), 'unpaired')).toBeNull();
  });
});
