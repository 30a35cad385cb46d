// The configuration in the URL's query string, so a colleague can reproduce a comparison:
//   ?runs=dpo:sigmoid:0.1,orpo:0.1&lr=0.0005&steps=60&bs=4&seed=42&data=arithmetic
// Run tokens (written and read by the method registry, src/train/objectives/registry.ts): the
// method, then its options in their URL order — dpo:LOSS_TYPE:β[:ε[:τ]], orpo:λ, simpo:β:γ[:α[:ε]],
// cpo:β:α[:ε], sft; trailing values at their defaults are left out, lists are joined by '/'.
// hub=URL (kept as it came) points the Hub downloads at another host than https://huggingface.co.
// LoRA (README.md, "LoRA"): lora=R:ALPHA[:TARGET/TARGET…] (targets absent: every linear projection),
// base=bf16|f16|f32 (the frozen base's storage; absent: the checkpoint's own dtype), ckptacts=1|0
// (activation checkpointing; absent: on for models of 100M parameters and more).
import { methodDescriptor, parseRunToken, runToken, type OptionValue } from '../train/objectives';
import type { TrainSettings } from '../worker/protocol';
import { CARD_METHODS, newCard, objectiveOf, type MethodCard } from './presets';
import { applySettings, DEFAULT_SETTINGS, type SettingsContext } from './settings';
import { decimalNumber } from '../train/config';
import { DEFAULT_ENDPOINT } from '../hub/snapshot';
import { BASE_DTYPES, type BaseDtype, type LoraConfig } from '../model/lora';

type NumKey = 'lr' | 'steps' | 'batchSize' | 'gradAccum' | 'warmupSteps' | 'seed' | 'evalFraction' | 'evalEvery' | 'maxGradNorm' | 'weightDecay' | 'checkpointEvery' | 'sampleEvery';

/** Query key -> setting; the first five are always written. */
const NUM_KEYS: Array<[string, NumKey]> = [
  ['lr', 'lr'],
  ['steps', 'steps'],
  ['bs', 'batchSize'],
  ['seed', 'seed'],
  ['eval', 'evalFraction'],
  ['evalEvery', 'evalEvery'],
  ['ga', 'gradAccum'],
  ['warmup', 'warmupSteps'],
  ['clip', 'maxGradNorm'],
  ['wd', 'weightDecay'],
  ['ckpt', 'checkpointEvery'],
  ['samples', 'sampleEvery'],
];
const ALWAYS = 5;
const LENGTH_KEYS: Array<[string, 'maxLength' | 'maxPromptLength']> = [
  ['maxlen', 'maxLength'],
  ['maxprompt', 'maxPromptLength'],
];
const OTHER_KEYS: Record<string, keyof TrainSettings> = { sched: 'schedule', opt: 'optimizer', moments: 'momentsDtype', acts: 'activationsDtype', lora: 'lora', base: 'baseDtype', ckptacts: 'checkpointActivations' };

/** lora=R:ALPHA[:T1/T2…] of a LoRA config. */
export function loraToken(l: LoraConfig): string {
  return [l.r, l.alpha, ...(l.targets?.length ? [l.targets.join('/')] : [])].join(':');
}

/** A LoRA config from its URL value, or a problem in words naming the key. */
export function parseLoraToken(v: string): LoraConfig | { problem: string } {
  const shown = `"${v.slice(0, 100)}"`;
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3) return { problem: `lora: ${shown} is not R:ALPHA or R:ALPHA:TARGETS (e.g. 8:16 or 8:16:q_proj/v_proj)` };
  const [r, alpha] = parts.slice(0, 2).map(decimalNumber);
  if (r === null) return { problem: `lora: the rank in ${shown} is not a number` };
  if (alpha === null) return { problem: `lora: lora_alpha in ${shown} is not a number` };
  const targets = parts[2]?.split('/').filter(Boolean);
  if (parts.length === 3 && !targets?.length) return { problem: `lora: ${shown} names no target modules after the second ':' (leave it out for every linear layer)` };
  return { r, alpha, ...(targets ? { targets } : {}) };
}

/** The query key of a setting: batchSize -> bs. */
export function urlKey(name: keyof TrainSettings): string {
  return [...NUM_KEYS, ...LENGTH_KEYS, ...Object.entries(OTHER_KEYS)].find(([, n]) => n === name)?.[0] ?? name;
}

/**
 * The URL's settings over `base` (the saved or default settings): what the validator refuses keeps
 * base's value and is said in words, naming the query key; `ctx` adds the model and the data.
 */
export function applyUrlSettings(base: TrainSettings, patch: Partial<TrainSettings>, ctx: SettingsContext = {}): { settings: TrainSettings; problems: string[] } {
  const { settings, refused } = applySettings(base, patch, ctx);
  return { settings, problems: refused.map((r) => `${urlKey(r.key)}: ${r.message}`) };
}

export interface UrlConfig {
  cards?: MethodCard[];
  settings?: Partial<TrainSettings>;
  dataset?: string;
  /** Query values that could not be read, in words. */
  problems: string[];
  /** The query carries runs= (a whole configuration, as the page writes it), even if unreadable. */
  hasRuns?: boolean;
  /** hub=: the host Hub models download from, when not https://huggingface.co. */
  hub?: string;
}

/**
 * hub=: an http(s) URL without credentials, query or fragment (a mirror may sit under a path),
 * returned without its trailing slash; anything else is a problem in words.
 */
export function parseHubEndpoint(v: string): { endpoint: string } | { problem: string } {
  const shown = `"${v.slice(0, 100)}"`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return { problem: `hub: ${shown} is not a URL (expected e.g. https://huggingface.co)` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { problem: `hub: ${shown} is not an http(s) URL` };
  if (u.username || u.password) return { problem: `hub: a URL with a user name or password is refused (gated models take an access token in the Model tab)` };
  if (u.search || u.hash) return { problem: `hub: ${shown} carries a query or fragment; give the Hub's base URL only` };
  return { endpoint: (u.origin + u.pathname).replace(/\/+$/, '') };
}

/** A card from its URL token (the method registry reads and checks the values). */
export function parseCardToken(t: string): MethodCard {
  const { method, ...values } = parseRunToken(t);
  const d = methodDescriptor(method);
  if (!CARD_METHODS.includes(method)) throw new Error(`"${t}": ${d.head === 'score' ? `${method} trains a score head (a reward model), not the LM head` : `${method} trains on ${d.data}, not on preference pairs or labelled examples`}; the page does not train it (use the CLI)`);
  return newCard(method, values as Record<string, OptionValue>);
}

/** `:`, `,` and `/` stay readable (all are allowed in a query). */
const enc = (v: string) => encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%2F/gi, '/');

/** `hub`: the Hub endpoint, written only when it is not the default. */
export function encodeConfig(cards: readonly MethodCard[], s: TrainSettings, dataset: string | null, hub: string | null = null): string {
  const parts = [`runs=${enc(cards.map((c) => runToken(objectiveOf(c))).join(','))}`];
  NUM_KEYS.forEach(([key, name], i) => {
    const v = s[name] ?? DEFAULT_SETTINGS[name]; // (settings saved before a key existed lack it)
    if (i < ALWAYS || v !== DEFAULT_SETTINGS[name]) parts.push(`${key}=${enc(String(v))}`);
  });
  if (s.schedule !== DEFAULT_SETTINGS.schedule) parts.push(`sched=${s.schedule}`);
  if (s.optimizer !== DEFAULT_SETTINGS.optimizer) parts.push(`opt=${s.optimizer}`);
  if ((s.momentsDtype ?? 'f32') !== DEFAULT_SETTINGS.momentsDtype) parts.push(`moments=${s.momentsDtype}`);
  if ((s.activationsDtype ?? 'f32') !== DEFAULT_SETTINGS.activationsDtype) parts.push(`acts=${s.activationsDtype}`);
  if (s.lora) parts.push(`lora=${enc(loraToken(s.lora))}`);
  if (s.baseDtype !== undefined) parts.push(`base=${s.baseDtype}`);
  if (s.checkpointActivations !== undefined) parts.push(`ckptacts=${s.checkpointActivations ? 1 : 0}`);
  if (s.maxLength !== null) parts.push(`maxlen=${s.maxLength}`);
  if (s.maxPromptLength !== null) parts.push(`maxprompt=${s.maxPromptLength}`);
  if (dataset) parts.push(`data=${enc(dataset)}`);
  if (hub && hub !== DEFAULT_ENDPOINT) parts.push(`hub=${enc(hub)}`);
  return '?' + parts.join('&');
}

export function decodeConfig(search: string): UrlConfig {
  const q = new URLSearchParams(search);
  const out: UrlConfig = { problems: [] };
  const runs = q.get('runs');
  if (runs !== null) out.hasRuns = true;
  if (runs) {
    try {
      const cards = runs.split(',').filter(Boolean).map(parseCardToken);
      const seen = new Set<string>();
      out.cards = cards.filter((c) => !seen.has(c.id) && seen.add(c.id));
    } catch (e) {
      out.problems.push(`runs: ${(e as Error).message}`);
    }
  }
  const settings: Partial<TrainSettings> = {};
  for (const [key, name] of [...NUM_KEYS, ...LENGTH_KEYS]) {
    const v = q.get(key);
    if (v === null) continue;
    const n = decimalNumber(v);
    if (n === null) out.problems.push(`${key}: "${v}" is not a number`);
    else settings[name] = n;
  }
  const sched = q.get('sched');
  if (sched) {
    if (sched === 'linear' || sched === 'cosine' || sched === 'constant') settings.schedule = sched;
    else out.problems.push(`sched: "${sched}" is not linear, cosine or constant`);
  }
  const opt = q.get('opt');
  if (opt) {
    if (opt === 'adamw' || opt === 'sgd') settings.optimizer = opt;
    else out.problems.push(`opt: "${opt}" is not adamw or sgd`);
  }
  const moments = q.get('moments');
  if (moments) {
    if (moments === 'f32' || moments === 'bf16') settings.momentsDtype = moments;
    else out.problems.push(`moments: "${moments}" is not f32 or bf16`);
  }
  const acts = q.get('acts');
  if (acts) {
    if (acts === 'f32' || acts === 'f16') settings.activationsDtype = acts;
    else out.problems.push(`acts: "${acts}" is not f32 or f16`);
  }
  const lora = q.get('lora');
  if (lora) {
    const l = parseLoraToken(lora);
    if ('problem' in l) out.problems.push(l.problem);
    else settings.lora = l;
  }
  const base = q.get('base');
  if (base) {
    if ((BASE_DTYPES as readonly string[]).includes(base)) settings.baseDtype = base as BaseDtype;
    else out.problems.push(`base: "${base}" is not ${BASE_DTYPES.join(', ')} (the frozen base weights' storage of a LoRA run)`);
  }
  const ckptacts = q.get('ckptacts');
  if (ckptacts) {
    if (ckptacts === '1' || ckptacts === '0') settings.checkpointActivations = ckptacts === '1';
    else out.problems.push(`ckptacts: "${ckptacts}" is not 1 (activation checkpointing on) or 0 (off)`);
  }
  // the validator's verdict, against the defaults (sync.ts checks again against the saved settings)
  const { refused } = applySettings(DEFAULT_SETTINGS, settings);
  for (const r of refused) {
    out.problems.push(`${urlKey(r.key)}: ${r.message}`);
    delete settings[r.key];
  }
  if (Object.keys(settings).length) out.settings = settings;
  const data = q.get('data');
  if (data) out.dataset = data;
  const hub = q.get('hub');
  if (hub) {
    const r = parseHubEndpoint(hub);
    if ('problem' in r) out.problems.push(r.problem);
    else if (r.endpoint !== DEFAULT_ENDPOINT) out.hub = r.endpoint;
  }
  return out;
}
