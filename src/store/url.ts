// The configuration in the URL's query string, so a colleague can reproduce a comparison:
//   ?runs=dpo:sigmoid:0.1,orpo:0.1&lr=0.0005&steps=60&bs=4&seed=42&data=arithmetic
// Run tokens (written and read by the method registry, src/train/objectives/registry.ts): the
// method, then its options in their URL order — dpo:LOSS_TYPE:β[:ε[:τ]], orpo:λ, simpo:β:γ[:α[:ε]],
// cpo:β:α[:ε], sft; trailing values at their defaults are left out, lists are joined by '/'.
import { methodDescriptor, parseRunToken, runToken, type OptionValue } from '../train/objectives';
import type { TrainSettings } from '../worker/protocol';
import { CARD_METHODS, newCard, objectiveOf, type MethodCard } from './presets';
import { applySettings, DEFAULT_SETTINGS, type SettingsContext } from './settings';
import { decimalNumber } from '../train/config';

type NumKey = 'lr' | 'steps' | 'batchSize' | 'gradAccum' | 'warmupSteps' | 'seed' | 'evalFraction' | 'evalEvery' | 'maxGradNorm' | 'weightDecay' | 'checkpointEvery';

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
];
const ALWAYS = 5;
const LENGTH_KEYS: Array<[string, 'maxLength' | 'maxPromptLength']> = [
  ['maxlen', 'maxLength'],
  ['maxprompt', 'maxPromptLength'],
];
const OTHER_KEYS: Record<string, keyof TrainSettings> = { sched: 'schedule', opt: 'optimizer', moments: 'momentsDtype', acts: 'activationsDtype' };

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
}

/** A card from its URL token (the method registry reads and checks the values). */
export function parseCardToken(t: string): MethodCard {
  const { method, ...values } = parseRunToken(t);
  if (!CARD_METHODS.includes(method)) throw new Error(`"${t}": ${method} trains on ${methodDescriptor(method).data}, not on preference pairs; the page trains pairs (use the CLI)`);
  return newCard(method, values as Record<string, OptionValue>);
}

/** `:`, `,` and `/` stay readable (all are allowed in a query). */
const enc = (v: string) => encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%2F/gi, '/');

export function encodeConfig(cards: readonly MethodCard[], s: TrainSettings, dataset: string | null): string {
  const parts = [`runs=${enc(cards.map((c) => runToken(objectiveOf(c))).join(','))}`];
  NUM_KEYS.forEach(([key, name], i) => {
    if (i < ALWAYS || s[name] !== DEFAULT_SETTINGS[name]) parts.push(`${key}=${enc(String(s[name]))}`);
  });
  if (s.schedule !== DEFAULT_SETTINGS.schedule) parts.push(`sched=${s.schedule}`);
  if (s.optimizer !== DEFAULT_SETTINGS.optimizer) parts.push(`opt=${s.optimizer}`);
  if ((s.momentsDtype ?? 'f32') !== DEFAULT_SETTINGS.momentsDtype) parts.push(`moments=${s.momentsDtype}`);
  if ((s.activationsDtype ?? 'f32') !== DEFAULT_SETTINGS.activationsDtype) parts.push(`acts=${s.activationsDtype}`);
  if (s.maxLength !== null) parts.push(`maxlen=${s.maxLength}`);
  if (s.maxPromptLength !== null) parts.push(`maxprompt=${s.maxPromptLength}`);
  if (dataset) parts.push(`data=${enc(dataset)}`);
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
  // the validator's verdict, against the defaults (sync.ts checks again against the saved settings)
  const { refused } = applySettings(DEFAULT_SETTINGS, settings);
  for (const r of refused) {
    out.problems.push(`${urlKey(r.key)}: ${r.message}`);
    delete settings[r.key];
  }
  if (Object.keys(settings).length) out.settings = settings;
  const data = q.get('data');
  if (data) out.dataset = data;
  return out;
}
