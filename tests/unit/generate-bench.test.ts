// The bench's generation cases: `--generate-case PRESET:BxPROMPT+NEW` and the README table.
import { describe, it, expect } from 'vitest';
import { DEFAULT_GENERATE_CASES, generateCaseText, generationMarkdown, parseGenerateCase } from '../../src/bench/generate-bench';

describe('bench --generate-case', () => {
  it('parses preset, batch, prompt length and new tokens; round-trips the defaults', () => {
    expect(parseGenerateCase('builtin:16x16+64')).toEqual({ preset: 'builtin', B: 16, prompt: 16, newTokens: 64 });
    expect(parseGenerateCase('qwen2.5-0.5b:1x8+4')).toEqual({ preset: 'qwen2.5-0.5b', B: 1, prompt: 8, newTokens: 4 });
    for (const c of DEFAULT_GENERATE_CASES) expect(parseGenerateCase(generateCaseText(c))).toEqual(c);
  });

  it('rejects malformed cases, zero sizes and unknown presets with the reason', () => {
    expect(() => parseGenerateCase('builtin:16x16')).toThrow(/expected PRESET:BxPROMPT\+NEW/);
    expect(() => parseGenerateCase('builtin:0x16+4')).toThrow(/must be ≥ 1/);
    expect(() => parseGenerateCase('huge:1x1+1')).toThrow(/unknown preset "huge"/);
  });

  it('writes one table row per case', () => {
    const md = generationMarkdown([{ preset: 'builtin', family: 'gpt2', B: 1, prompt: 16, new_tokens: 64, prefill_ms: 9.7, ms: 154.6, ms_per_step: 2.3, tokens_per_s: 414, decode_tokens_per_s: 434.8, runner_bytes: 1 }]);
    expect(md.split('\n')).toHaveLength(3);
    expect(md).toContain('| builtin | 1 × 16 + 64 | 9.7 | 154.6 | 2.3 | 414 | 434.8 |');
  });
});
