// The page's Hub settings and picker, pure parts: hub= in the URL (an http(s) URL, validated,
// kept when the page rewrites its query), the typed model id, and the curated models' numbers
// computed from the engine's size tables.
import { describe, expect, it } from 'vitest';
import { decodeConfig, encodeConfig, parseHubEndpoint } from '../../../src/store/url';
import { DEFAULT_SETTINGS } from '../../../src/store/settings';
import { METHOD_PRESETS } from '../../../src/store/presets';
import { CURATED_MODELS, curatedParams, hubHost, readHubInput, shortCount } from '../../../src/ui/model/hub-models';
import { memoryEstimate } from '../../../src/store/memory';
import { modelParamCount } from '../../../src/model/family';
import { llamaPresetConfig } from '../../../src/model/llama-config';

describe('hub= in the URL', () => {
  it('takes an http(s) URL and refuses anything else in words', () => {
    expect(parseHubEndpoint('http://127.0.0.1:8080')).toEqual({ endpoint: 'http://127.0.0.1:8080' });
    expect(parseHubEndpoint('https://hf-mirror.example/hub/')).toEqual({ endpoint: 'https://hf-mirror.example/hub' });
    expect(parseHubEndpoint('javascript:alert(1)')).toEqual({ problem: expect.stringMatching(/^hub: .* is not an http\(s\) URL$/) });
    expect(parseHubEndpoint('ftp://x.example')).toEqual({ problem: expect.stringMatching(/not an http\(s\) URL/) });
    expect(parseHubEndpoint('127.0.0.1:8080')).toEqual({ problem: expect.stringMatching(/not (a URL|an http\(s\) URL)/) });
    expect(parseHubEndpoint('not a url')).toEqual({ problem: expect.stringMatching(/is not a URL/) });
    expect(parseHubEndpoint('https://user:pw@x.example')).toEqual({ problem: expect.stringMatching(/user name or password/) });
    expect(parseHubEndpoint('https://x.example/?a=1')).toEqual({ problem: expect.stringMatching(/query or fragment/) });
  });

  it('is read from the query and written back when not the default', () => {
    expect(decodeConfig('?hub=http://127.0.0.1:8080').hub).toBe('http://127.0.0.1:8080');
    expect(decodeConfig('?hub=https://huggingface.co/').hub).toBeUndefined();
    const bad = decodeConfig('?hub=file:///etc/passwd');
    expect(bad.hub).toBeUndefined();
    expect(bad.problems).toEqual([expect.stringMatching(/^hub: "file:\/\/\/etc\/passwd" is not an http\(s\) URL/)]);
    const cards = METHOD_PRESETS['dpo-vs-orpo'].cards();
    const q = encodeConfig(cards, DEFAULT_SETTINGS, null, 'http://127.0.0.1:8080');
    expect(q).toMatch(/&hub=http:\/\/127\.0\.0\.1:8080$/);
    expect(decodeConfig(q).hub).toBe('http://127.0.0.1:8080');
    expect(encodeConfig(cards, DEFAULT_SETTINGS, null, 'https://huggingface.co')).not.toMatch(/hub=/);
    expect(encodeConfig(cards, DEFAULT_SETTINGS, null)).not.toMatch(/hub=/);
  });
});

describe('the model id field', () => {
  it('reads ORG/NAME, @REVISION, hf: and model page URLs', () => {
    expect(readHubInput('  HuggingFaceTB/SmolLM2-135M-Instruct ')).toEqual({ id: 'HuggingFaceTB/SmolLM2-135M-Instruct' });
    expect(readHubInput('hf:openai-community/gpt2@main')).toEqual({ id: 'openai-community/gpt2' });
    expect(readHubInput('Qwen/Qwen2.5-0.5B-Instruct@v1.0')).toEqual({ id: 'Qwen/Qwen2.5-0.5B-Instruct@v1.0' });
    expect(readHubInput('https://huggingface.co/distilbert/distilgpt2')).toEqual({ id: 'distilbert/distilgpt2' });
    expect(readHubInput('https://huggingface.co/distilbert/distilgpt2/tree/refs%2Fpr%2F1')).toEqual({ id: 'distilbert/distilgpt2@refs/pr/1' });
    expect(readHubInput('http://127.0.0.1:9/a/b', 'http://127.0.0.1:9')).toEqual({ id: 'a/b' });
  });

  it('says what is wrong', () => {
    expect(readHubInput('')).toEqual({ problem: expect.stringMatching(/^Type a model id/) });
    expect(readHubInput('gpt2')).toEqual({ problem: expect.stringMatching(/hf:openai-community\/gpt2/) });
    expect(readHubInput('a/b@')).toEqual({ problem: expect.stringMatching(/empty revision/) });
    expect(readHubInput('https://evil.example/a/b')).toEqual({ problem: expect.stringMatching(/not a model page of huggingface\.co/) });
  });

  it('names the host', () => {
    expect(hubHost('https://huggingface.co')).toBe('huggingface.co');
    expect(hubHost('http://127.0.0.1:8080')).toBe('127.0.0.1:8080');
  });
});

describe('the curated models', () => {
  it('have their published parameter counts, from the size tables', () => {
    const params = Object.fromEntries(CURATED_MODELS.map((m) => [m.id, curatedParams(m)]));
    expect(params).toEqual({
      'HuggingFaceTB/SmolLM2-135M-Instruct': 134_515_008,
      'HuggingFaceTB/SmolLM2-360M-Instruct': 361_821_120,
      'Qwen/Qwen2.5-0.5B-Instruct': 494_032_768,
      'openai-community/gpt2': 124_439_808,
      'distilbert/distilgpt2': 81_912_576,
    });
    expect(CURATED_MODELS.map((m) => shortCount(curatedParams(m)))).toEqual(['135M', '362M', '494M', '124M', '82M']);
    // bf16 downloads are two bytes a parameter; GPT-2's f32 files add their attention-mask buffers
    for (const m of CURATED_MODELS) {
      const perParam = m.downloadBytes / curatedParams(m);
      expect(perParam, m.id).toBeGreaterThan(m.dtype === 'bf16' ? 1.99 : 4);
      expect(perParam, m.id).toBeLessThan(m.dtype === 'bf16' ? 2.01 : 4.5);
    }
  });

  it('need the memory the engine estimates', () => {
    const smol = CURATED_MODELS[0];
    expect(smol.config).toEqual(llamaPresetConfig('smollm2-135m'));
    const m = memoryEstimate(smol.config, 8, 512, 'adamw');
    expect(m.state).toBeGreaterThanOrEqual(16 * modelParamCount(smol.config)); // weights, gradients, two f32 moments
    expect(m.perRun).toBe(m.state + m.activations);
  });
});
