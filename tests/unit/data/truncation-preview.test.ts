// The data preview as the model reads it (cut prompts and completions marked) and the report's
// words on how much of each answer survives truncation.
import { describe, it, expect } from 'vitest';
import { inspect, truncationSummary, type KeptStats } from '../../../src/worker/inspect';

const row = (prompt: string, chosen: string, rejected: string) => JSON.stringify({ prompt, chosen, rejected });

describe('truncation preview', () => {
  it('shows the kept end of a cut prompt and the kept start of a cut completion', async () => {
    const long = 'a'.repeat(50) + 'Z'.repeat(50);
    const text = [row('Q'.repeat(40) + 'END', long, 'short'), row('hi', 'ok', 'no')].join('\n');
    // max length 64, prompt ≤ 32: the prompt keeps its last 32 bytes, the chosen answer 32 − 1 bytes
    const r = await inspect(new Blob([text]), { name: 'x.jsonl', format: 'auto', nPositions: 128, maxLength: 64, maxPromptLength: 32 });
    const [cut, whole] = r.preview;
    expect(cut.prompt).toBe('Q'.repeat(29) + 'END');
    expect(cut.cut?.prompt).toEqual([32, 43]);
    expect(cut.chosen).toBe('a'.repeat(32));
    expect(cut.cut?.chosen).toEqual([32, 101]); // EOT counted in the total
    expect(cut.rejected).toBe('short');
    expect(cut.cut?.rejected).toBeUndefined();
    expect(whole.cut).toBeUndefined();
    expect(whole).toMatchObject({ prompt: 'hi', chosen: 'ok', rejected: 'no' });
    expect(r.kept).toMatchObject({ answers: 4, answersCut: 1, prompts: 2, promptsCut: 1, maxLength: 64, maxPromptLength: 32, nPositions: 128 });
  });

  it('never splits a character: a cut through a multi-byte character drops it', async () => {
    const r = await inspect(new Blob([row('p', 'é'.repeat(20), 'x')]), { name: 'x.jsonl', format: 'auto', nPositions: 128, maxLength: 8, maxPromptLength: 4 });
    expect(r.preview[0].chosen).toBe('é'.repeat(3)); // 7 bytes kept: 3 whole characters
  });
});

describe('truncationSummary', () => {
  const base: KeptStats = { answers: 10, answersCut: 10, answerKept: 640, answerTotal: 1700, prompts: 5, promptsCut: 0, promptKept: 100, promptTotal: 100, maxLength: 128, maxPromptLength: 64, nPositions: 128 };

  it('says how much of each answer the model sees and what helps', () => {
    const s = truncationSummary(base)!;
    expect(s.text).toBe('With max length 128 (prompt ≤ 64), the model sees on average 38 % of each answer (64 of 170 tokens); 10 of 10 answers are cut.');
    expect(s.tips[0]).toMatch(/^a model with a longer context: this one reads at most 128 tokens/);
    expect(s.tips).toContain('shorter answers: trim or leave out the long ones in the data file');
    expect(s.tips.join(' ')).not.toMatch(/Max prompt length/); // prompts take 20 of the 128 tokens
    // prompts that take over a quarter of the room: a lower max prompt length helps the answers
    expect(truncationSummary({ ...base, promptKept: 250 })!.tips).toContain('a lower Max prompt length, which leaves more room for the answers (prompts now take 50 of the 128 tokens)');
  });

  it('suggests a larger max length when the model allows one, and is null when nothing is cut', () => {
    const s = truncationSummary({ ...base, maxLength: 256, nPositions: 1024, promptKept: 10 })!;
    expect(s.tips[0]).toBe('a larger Max length: this model takes up to 1024 tokens (now 256)');
    expect(s.tips.join(' ')).not.toMatch(/Max prompt length/);
    expect(truncationSummary({ ...base, answersCut: 0, promptsCut: 0 })).toBeNull();
    expect(truncationSummary({ ...base, answersCut: 0, promptsCut: 2 })!.text).toMatch(/2 of 5 prompts lose their beginning/);
  });
});
