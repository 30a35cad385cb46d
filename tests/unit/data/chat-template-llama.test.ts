// Conversational pairs through a Llama/Qwen-style chat template (TRL's way): the prompt rendered
// with the generation prompt, each completion the rest of the whole conversation (the assistant
// turn and its end-of-turn token), the template's BOS encoded once and never added again, and the
// same ids whichever entry point reads the folder (page loader and CLI loader share them).
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processText } from '../../../src/data/pipeline';
import type { TokenizedPair } from '../../../src/data/types';
import { loadTokenizerFromFiles } from '../../../src/tokenizer/load';
import { readLlamaCheckpointDir } from '../../../src/model/llama-checkpoint-node';
import { chatTokenizerFiles, SPECIALS, writeChatModel } from '../../helpers/chat-model';

const row = {
  prompt: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: '2+3=?' },
  ],
  chosen: [{ role: 'assistant', content: '5' }],
  rejected: [{ role: 'assistant', content: '6' }],
};
const bytes = (s: string) => [...new TextEncoder().encode(s)];

describe('chat template of a Llama-family tokenizer', () => {
  it('renders the prompt with the generation prompt and the completion as the assistant turn with <|im_end|>', async () => {
    const tok = await loadTokenizerFromFiles(chatTokenizerFiles(64));
    const { report, examples, tokenized } = await processText(JSON.stringify(row), { tokenizer: tok, tokenize: true });
    expect(report.template).toBe('chat-template');
    expect(examples[0]).toMatchObject({
      prompt: '<s><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+3=?<|im_end|>\n<|im_start|>assistant\n',
      chosen: '5<|im_end|>\n',
      rejected: '6<|im_end|>\n',
      appendEos: false,
    });
    const t = tokenized[0] as TokenizedPair;
    const { bos, imStart, imEnd } = SPECIALS;
    // exactly one BOS, the template's, first; the specials are single tokens, the rest bytes
    expect(t.promptIds.filter((i) => i === bos)).toEqual([bos]);
    expect(t.promptIds).toEqual([bos, imStart, ...bytes('system\nBe brief.'), imEnd, ...bytes('\n'), imStart, ...bytes('user\n2+3=?'), imEnd, ...bytes('\n'), imStart, ...bytes('assistant\n')]);
    // the end-of-turn token is part of each completion (tokenizer eos = <|im_end|>, not appended again)
    expect(t.chosenIds).toEqual([...bytes('5'), imEnd, ...bytes('\n')]);
    expect(t.rejectedIds).toEqual([...bytes('6'), imEnd, ...bytes('\n')]);
    expect(tok.eosTokenId).toBe(imEnd);
    expect(tok.bosTokenId).toBe(bos);
  });

  it('a sharded Qwen2 folder loads with that tokenizer and template', async () => {
    const { dir } = writeChatModel(join(mkdtempSync(join(tmpdir(), 'chat-model-')), 'qwen'), 'qwen-tiny', 3, 20_000);
    const ckpt = await readLlamaCheckpointDir(dir);
    expect(ckpt.config.family).toBe('qwen2');
    expect(ckpt.tokenizer.chatTemplate).toMatch(/im_start/);
    const { tokenized } = await processText(JSON.stringify(row), { tokenizer: ckpt.tokenizer, tokenize: true });
    expect((tokenized[0] as TokenizedPair).promptIds[0]).toBe(SPECIALS.bos);
  });
});
