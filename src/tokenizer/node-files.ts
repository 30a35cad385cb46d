// Node only (CLI, tests): a model folder's tokenizer files, read for loadTokenizerFromFiles.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenizerFiles } from './load';

async function maybe(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** tokenizer.json, vocab.json, merges.txt, tokenizer_config.json, chat_template.jinja (those present). */
export async function readTokenizerDir(dir: string): Promise<TokenizerFiles> {
  const [tokenizerJson, vocabJson, mergesTxt, tokenizerConfigJson, chatTemplate] = await Promise.all(
    ['tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'chat_template.jinja'].map((f) => maybe(join(dir, f))),
  );
  if (!tokenizerJson && !(vocabJson && mergesTxt)) throw new Error(`${dir}: no tokenizer.json (or vocab.json + merges.txt)`);
  const files: TokenizerFiles = {};
  if (tokenizerJson) files.tokenizerJson = tokenizerJson;
  if (vocabJson) files.vocabJson = vocabJson;
  if (mergesTxt) files.mergesTxt = mergesTxt;
  if (tokenizerConfigJson) files.tokenizerConfigJson = tokenizerConfigJson;
  if (chatTemplate) files.chatTemplate = chatTemplate;
  return files;
}
