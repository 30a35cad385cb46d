// Parsing `PRESET:BxT[:reduced][:nopeer|:notfjs|:nojaxjs]` training-step cases and `MxNxK`
// matmul shapes, shared by the CLI (`bench --case`) and the bench page (`bench.html?cases=`).
// PRESET is any model preset, GPT-2's (tiny, builtin, gpt2) or the Llama family's (llama-tiny,
// qwen-tiny, smollm2-135m, qwen2.5-0.5b); the peers (TF.js, jax-js) implement GPT-2 only, so a
// Llama-family case runs ours only, as with `:nopeer`. `:notfjs` / `:nojaxjs` leave out one peer.
import { isLlamaConfig, modelPresetConfig } from '../model/family';
import type { StepCase } from './run';

/** `preset:BxT`, optionally `:reduced`, `:nopeer` (no peer), `:notfjs`, `:nojaxjs`, e.g. `builtin:8x128`, `gpt2:1x128:notfjs`. Throws an Error naming the bad part. */
export function parseStepCase(text: string): StepCase {
  const m = /^([\w.-]+):(\d+)x(\d+)((?::(?:reduced|nopeer|notfjs|nojaxjs))*)$/.exec(text);
  if (!m) throw new Error(`case "${text}": expected PRESET:BxT[:reduced][:nopeer|:notfjs|:nojaxjs], e.g. builtin:8x128`);
  const [, preset, B, T, flags] = m;
  let llama: boolean;
  try {
    llama = isLlamaConfig(modelPresetConfig(preset));
  } catch (e) {
    throw new Error(`case "${text}": ${(e as Error).message}`, { cause: e });
  }
  if (+B < 1 || +T < 2) throw new Error(`case "${text}": B must be ≥ 1 and T ≥ 2`);
  const reduced = flags.includes(':reduced');
  const none = llama || flags.includes(':nopeer');
  const peer = !none && !flags.includes(':notfjs');
  const jaxjs = !none && !flags.includes(':nojaxjs');
  // `jaxjs` is written only where it differs from `peer` (StepCase: it defaults to `peer`)
  return { preset, B: +B, T: +T, reduced, peer, ...(jaxjs !== peer ? { jaxjs } : {}), ...(reduced ? { reps: 1 } : {}) };
}

/** `MxNxK`, e.g. `512x512x512`. */
export function parseMatmulShape(text: string): [number, number, number] {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(text);
  if (!m || [m[1], m[2], m[3]].some((x) => +x < 1)) throw new Error(`matmul shape "${text}": expected MxNxK with positive integers, e.g. 512x512x512`);
  return [+m[1], +m[2], +m[3]];
}

/** A case as `parseStepCase` reads it back (CLI help, the page's form). */
export function stepCaseText(c: StepCase): string {
  const jax = c.jaxjs ?? c.peer;
  const flags = c.peer && jax ? '' : !c.peer && !jax ? ':nopeer' : c.peer ? ':nojaxjs' : ':notfjs';
  return `${c.preset}:${c.B}x${c.T}${c.reduced ? ':reduced' : ''}${flags}`;
}
