// Options and setup shared by `validate` and `export-pairs`: the pairs file as a byte stream,
// the model's tokenizer, and truncation defaults bounded by the model's n_positions.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { intOption, optionalIntOption, requireString, UsageError, type OptionSpec } from '../command';
import { cliLengths } from '../pairs-load';
import { hubModelDir } from '../hub-model';
import { isHubId } from '../../hub/id';
import { configFromHF, MODEL_PRESETS } from '../../model/config';
import { ByteTokenizer } from '../../tokenizer/byte';
import { loadTokenizerFromFiles } from '../../tokenizer/load';
import { readTokenizerDir } from '../../tokenizer/node-files';
import type { Tokenizer } from '../../tokenizer/types';
import { DataError, DEFAULT_MAX_LENGTH, DEFAULT_MAX_PROMPT_LENGTH, DEFAULT_MAX_REPORTED, SHAPES, SYNTAXES, type Shape, type Syntax } from '../../data/types';
import { processSource, type ProcessHooks } from '../../data/pipeline';

export const pairsOptions: Record<string, OptionSpec> = {
  pairs: { type: 'string', valueName: 'FILE', description: 'Preference data: .jsonl, .json, .csv, .tsv or .yaml' },
  format: { type: 'string', valueName: 'NAME', default: 'auto', description: `Row format: auto, ${SHAPES.join(', ')}` },
  syntax: { type: 'string', valueName: 'NAME', default: 'auto', description: `File syntax: auto (by extension, then content), ${SYNTAXES.join(', ')}` },
  model: { type: 'string', valueName: 'DIR|builtin|hf:ORG/NAME', default: 'builtin', description: 'Tokenizer (and n_positions) of this model: builtin, a folder with tokenizer.json or vocab.json + merges.txt, or a Hugging Face Hub model' },
  'max-length': { type: 'string', valueName: 'N', description: `Max prompt + completion tokens (default: ${DEFAULT_MAX_LENGTH}, at most the model's n_positions)` },
  'max-prompt-length': { type: 'string', valueName: 'N', description: `Max prompt tokens, cut from the left (default: ${DEFAULT_MAX_PROMPT_LENGTH}, at most half of max-length)` },
  'max-completion-length': { type: 'string', valueName: 'N', description: 'Max completion tokens (default: no limit beyond max-length)' },
};

export interface PairsSetup {
  path: string;
  format: Shape | 'auto';
  syntax: Syntax | 'auto';
  tokenizer: Tokenizer;
  maxLength: number;
  maxPromptLength: number;
  maxCompletionLength: number | null;
}

async function modelTokenizer(arg: string): Promise<{ tokenizer: Tokenizer; nPositions: number }> {
  if (arg === 'builtin') return { tokenizer: new ByteTokenizer(), nPositions: MODEL_PRESETS.builtin.nPositions };
  // hf:ORG/NAME[@REV]: the cached (or downloaded) snapshot folder
  const model = isHubId(arg) ? await hubModelDir(arg) : arg;
  try {
    const tokenizer = await loadTokenizerFromFiles(await readTokenizerDir(model));
    let nPositions = Infinity;
    const cfg = await readFile(join(model, 'config.json'), 'utf8').catch(() => null);
    if (cfg !== null) {
      try {
        nPositions = configFromHF(JSON.parse(cfg) as Record<string, unknown>).nPositions;
      } catch (e) {
        const msg = (e as Error).message;
        throw new Error(msg.startsWith('config.json') ? msg : `config.json: ${msg}`, { cause: e });
      }
    }
    return { tokenizer, nPositions };
  } catch (e) {
    throw new UsageError(`--model ${arg}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}

export async function pairsSetup(opts: Record<string, unknown>): Promise<PairsSetup> {
  const path = requireString(opts, 'pairs');
  const st = await stat(path).catch(() => null);
  if (!st) throw new UsageError(`--pairs ${path}: no such file`);
  if (!st.isFile()) throw new UsageError(`--pairs ${path}: not a file`);
  const format = String(opts.format ?? 'auto');
  if (format !== 'auto' && !SHAPES.includes(format as Shape)) {
    const hint = SYNTAXES.includes(format as Syntax) ? ` (for the file syntax use --syntax ${format})` : '';
    throw new UsageError(`--format must be auto or one of ${SHAPES.join(', ')}, got "${format}"${hint}`);
  }
  const syntax = String(opts.syntax ?? 'auto');
  if (syntax !== 'auto' && !SYNTAXES.includes(syntax as Syntax)) throw new UsageError(`--syntax must be auto or one of ${SYNTAXES.join(', ')}, got "${syntax}"`);
  const { tokenizer, nPositions } = await modelTokenizer(String(opts.model ?? 'builtin'));
  const { maxLength, maxPromptLength } = cliLengths(nPositions, optionalIntOption(opts, 'max-length', 2), optionalIntOption(opts, 'max-prompt-length', 1));
  const mcl = opts['max-completion-length'] === undefined ? null : intOption(opts, 'max-completion-length', 0, 1);
  return { path, format: format as Shape | 'auto', syntax: syntax as Syntax | 'auto', tokenizer, maxLength, maxPromptLength, maxCompletionLength: mcl };
}

/** Streams the file through the pipeline (1 MiB chunks); bad-file errors become one-line UsageErrors. */
export async function runPairs(s: PairsSetup, hooks: ProcessHooks, maxReported = DEFAULT_MAX_REPORTED) {
  const stream = createReadStream(s.path, { highWaterMark: 1 << 20 });
  try {
    return await processSource(
      stream,
      { name: s.path, format: s.format, syntax: s.syntax, tokenizer: s.tokenizer, maxLength: s.maxLength, maxPromptLength: s.maxPromptLength, maxCompletionLength: s.maxCompletionLength, maxReported },
      hooks,
    );
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${s.path}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    stream.destroy();
  }
}
