// Hub model ids (src/hub/id.ts), the file selection of a repository (src/hub/files.ts) and the
// URLs built from them (src/hub/snapshot.ts).
import { describe, expect, it } from 'vitest';
import { formatHubId, HubIdError, isHubId, parseHubId } from '../../src/hub/id';
import { selectFiles, shardsOf } from '../../src/hub/files';
import { HubError } from '../../src/hub/errors';
import { modelInfoUrl, normalizeEndpoint, resolveUrl } from '../../src/hub/snapshot';
import { parseContentRange } from '../../src/hub/download';
import { downloadProgressText, formatBytes } from '../../src/hub/progress';

describe('parseHubId', () => {
  it('reads ORG/NAME and an optional revision (main by default)', () => {
    expect(parseHubId('hf:HuggingFaceTB/SmolLM2-135M-Instruct')).toEqual({ repo: 'HuggingFaceTB/SmolLM2-135M-Instruct', org: 'HuggingFaceTB', name: 'SmolLM2-135M-Instruct', revision: 'main' });
    expect(parseHubId('hf:Qwen/Qwen2.5-0.5B-Instruct@v1.0').revision).toBe('v1.0');
    expect(parseHubId('hf:openai-community/gpt2@607a30d783dfa663caf39e06633721c8d4cfcd7e').revision).toBe('607a30d783dfa663caf39e06633721c8d4cfcd7e');
    expect(parseHubId('hf:org/name@refs/pr/1').revision).toBe('refs/pr/1');
    expect(parseHubId('hf:a_b/c.d_e').repo).toBe('a_b/c.d_e');
  });

  it('round-trips through formatHubId (main left out)', () => {
    for (const s of ['hf:org/name', 'hf:org/name@dev', 'hf:org/name@refs/pr/3']) expect(formatHubId(parseHubId(s))).toBe(s);
    expect(formatHubId(parseHubId('hf:org/name@main'))).toBe('hf:org/name');
  });

  it('isHubId looks at the prefix only', () => {
    expect(isHubId('hf:x')).toBe(true);
    expect(isHubId('models/tiny')).toBe(false);
    expect(isHubId('builtin')).toBe(false);
  });

  it.each([
    ['org/name', /not a Hub model id/],
    ['hf:', /no model named/],
    ['hf:gpt2', /expected hf:ORG\/NAME.*hf:openai-community\/gpt2/],
    ['hf:a/b/c', /expected hf:ORG\/NAME/],
    ['hf:/name', /expected hf:ORG\/NAME/],
    ['hf:org/', /expected hf:ORG\/NAME/],
    ['hf:org/name@', /empty revision/],
    ['hf:org/na me', /model name "na me" is not a Hub name/],
    ['hf:-org/name', /organisation "-org"/],
    ['hf:org/name.', /model name "name\."/],
    ['hf:org/a--b', /model name "a--b"/],
    ['hf:org/a..b', /model name "a\.\.b"/],
    [`hf:org/${'x'.repeat(97)}`, /is not a Hub name/],
    ['hf:org/name@../../etc', /is not a revision/],
    ['hf:org/name@a b', /is not a revision/],
    ['hf:org/name@refs//pr', /is not a revision/],
  ])('refuses %s with a clear message', (id, re) => {
    expect(() => parseHubId(id)).toThrow(HubIdError);
    expect(() => parseHubId(id)).toThrow(re);
  });
});

describe('selectFiles and shardsOf', () => {
  const f = (path: string, size: number | null = 10) => ({ path, size });
  it('takes config, the single weights file and the tokenizer files that exist', () => {
    const listing = [f('.gitattributes'), f('README.md'), f('config.json'), f('model.safetensors'), f('model.safetensors.index.json'), f('pytorch_model.bin'), f('tokenizer.json'), f('merges.txt'), f('vocab.json'), f('generation_config.json'), f('onnx/model.onnx')];
    const { files, index } = selectFiles(listing, 'hf:o/n');
    expect(index).toBeNull();
    expect(files.map((x) => x.path)).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt', 'generation_config.json']);
  });

  it('takes the index when the weights are sharded', () => {
    const { files, index } = selectFiles([f('config.json'), f('model.safetensors.index.json'), f('model-00001-of-00002.safetensors'), f('tokenizer_config.json'), f('special_tokens_map.json'), f('chat_template.jinja')], 'hf:o/n');
    expect(index?.path).toBe('model.safetensors.index.json');
    expect(files.map((x) => x.path)).toEqual(['config.json', 'model.safetensors.index.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja']);
  });

  it('refuses a repository without config.json or safetensors weights, naming what it has', () => {
    expect(() => selectFiles([f('model.safetensors')], 'hf:o/n')).toThrow(/hf:o\/n: the repository has no config.json \(files: model.safetensors\)/);
    const e = (() => {
      try {
        selectFiles([f('config.json'), f('pytorch_model.bin')], 'hf:o/n');
      } catch (err) {
        return err as HubError;
      }
    })();
    expect(e).toBeInstanceOf(HubError);
    expect(e?.kind).toBe('unsupported');
    expect(e?.message).toMatch(/safetensors weights only; it has pytorch_model.bin/);
  });

  it('lists the shards of an index once each, in order, and refuses names that leave the folder', () => {
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(shardsOf(enc({ weight_map: { a: 'm-2.safetensors', b: 'm-1.safetensors', c: 'm-2.safetensors' } }), 'x')).toEqual(['m-2.safetensors', 'm-1.safetensors']);
    expect(() => shardsOf(enc({ weight_map: { a: '../evil.safetensors' } }), 'x')).toThrow(/not a shard file name/);
    expect(() => shardsOf(enc({ weight_map: { a: 'sub/x.safetensors' } }), 'x')).toThrow(/not a shard file name/);
    expect(() => shardsOf(enc({ weight_map: { a: 'config.json' } }), 'x')).toThrow(/not a shard file name/);
    expect(() => shardsOf(enc({ nope: 1 }), 'x')).toThrow(/no "weight_map"/);
    expect(() => shardsOf(enc({ weight_map: {} }), 'x')).toThrow(/empty/);
    expect(() => shardsOf(new TextEncoder().encode('{'), 'x')).toThrow(/not JSON/);
  });
});

describe('URLs and small helpers', () => {
  it('builds the Hub URLs, encoding the revision as one segment', () => {
    expect(resolveUrl('https://huggingface.co/', 'o/n', 'main', 'config.json')).toBe('https://huggingface.co/o/n/resolve/main/config.json');
    expect(resolveUrl('http://127.0.0.1:9', 'o/n', 'refs/pr/1', 'model.safetensors')).toBe('http://127.0.0.1:9/o/n/resolve/refs%2Fpr%2F1/model.safetensors');
    expect(modelInfoUrl('https://hf-mirror.example/', 'o/n', 'main')).toBe('https://hf-mirror.example/api/models/o/n/revision/main?blobs=true');
  });

  it('normalizes the endpoint and refuses one that is not an http(s) URL', () => {
    expect(normalizeEndpoint(undefined)).toBe('https://huggingface.co');
    expect(normalizeEndpoint('http://127.0.0.1:8080//')).toBe('http://127.0.0.1:8080');
    expect(() => normalizeEndpoint('huggingface.co')).toThrow(/not a URL/);
    expect(() => normalizeEndpoint('ftp://x')).toThrow(/http\(s\)/);
  });

  it('parses Content-Range', () => {
    expect(parseContentRange('bytes 100-199/1000')).toEqual([100, 1000]);
    expect(parseContentRange('bytes 0-9/*')).toEqual([0, null]);
    expect(parseContentRange('items 0-9/10')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });

  it('formats sizes and progress', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.54 KB');
    expect(formatBytes(45_600_000)).toBe('45.6 MB');
    expect(formatBytes(538_000_000)).toBe('538 MB');
    expect(downloadProgressText({ file: 'model.safetensors', fileDone: 5, fileTotal: 10, done: 12_300_000, total: 45_600_000, fileIndex: 2, fileCount: 7, bytesPerSecond: 4_500_000 })).toBe('model.safetensors (2 of 7 files): 12.3 MB / 45.6 MB (26 %), 4.50 MB/s');
  });
});
