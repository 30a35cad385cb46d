// What the worker's Session tests train on: a tiny random model with the byte tokenizer, and a
// JSONL file of arithmetic preference pairs.
import type { GPTConfig } from '../../src/model/config';
import type { LoadedCheckpoint } from '../../src/model/checkpoint';
import { ByteTokenizer } from '../../src/tokenizer/byte';
import { Rng } from '../../src/util/rng';
import { randomParams } from './random-model';

/** A model of `config` with random weights drawn from Rng(`seed`) (scales a few steps visibly move), byte tokenizer, no tokenizer files. */
export function randomByteModel(config: GPTConfig, seed: number): LoadedCheckpoint {
  return { config, params: randomParams(config, new Rng(seed), { scale: 0.2, biasScale: 0.2, lnSpread: 0.1 }), tokenizer: new ByteTokenizer(), tokenizerFiles: {} } as LoadedCheckpoint;
}

/** `n` pairs {prompt: "a+b=", chosen: the sum, rejected: the sum + 1 and "?"}, a and b in 1..9 drawn from Rng(`seed`), one JSON a line. */
export function arithmeticPairsFile(n: number, seed: number): Blob {
  const rng = new Rng(seed);
  return new Blob([
    Array.from({ length: n }, () => {
      const a = 1 + rng.int(9), b = 1 + rng.int(9);
      return JSON.stringify({ prompt: `${a}+${b}=`, chosen: String(a + b), rejected: `${a + b + 1}?` });
    }).join('\n') + '\n',
  ]);
}
