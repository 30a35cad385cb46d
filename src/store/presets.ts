// Method cards (one run each) and the comparison presets. A card is a method plus its option
// values; everything about a method (options, defaults, ranges, labels, formula) comes from its
// descriptor in src/train/objectives/, so a card trains exactly what the CLI's flags train.
import { createObjective, defaultValues, isMethod, METHOD_DESCRIPTORS, methodDescriptor, normalizeOptions, runToken, specProblems, type Method, type MethodOption, type ObjectiveSpec, type OptionValue } from '../train/objectives';
import { REWARD_MODEL_REWARD } from '../train/objectives/online';
import type { InspectResult } from '../worker/inspect';
import type { RunSpec, RunStatus, TrainSettings } from '../worker/protocol';
import { trainConfigProblems } from '../train/config';
import { labelled } from './settings';

/**
 * Methods the page offers: every method of the registry. Preference pairs train the pair methods
 * and the reward model (a score head on the trunk, TRL RewardTrainer); KTO takes unpaired
 * examples, or pairs split into desirable and undesirable ones as TRL does; the online methods
 * (GRPO, RLOO) generate from the prompts of the loaded pairs (or of prompt-only rows) and are
 * rewarded by the built-in judge their card names.
 */
export const CARD_METHODS: readonly Method[] = METHOD_DESCRIPTORS.map((d) => d.name);

/** The method of a run id (cardKey: the URL token with ':' and '/' as '-'; method names have neither). */
export function methodOfRunId(id: string): Method | null {
  const m = id.split('-')[0];
  return isMethod(m) ? m : null;
}

/** A run's method: as recorded, else read from its id (runs saved before runs recorded it); null when neither names one. */
export function runMethod(run: { id: string; method?: Method }): Method | null {
  return run.method ?? methodOfRunId(run.id);
}

export interface MethodCard {
  id: string;
  method: Method;
  /** Option key → value; every option of the method is present (defaults filled in). */
  values: Record<string, OptionValue>;
}

export const methodLabel = (m: Method): string => methodDescriptor(m).label;

/** A card with the method's defaults, overridden by `values`. */
export function newCard(method: Method, values: Record<string, OptionValue> = {}, id?: string): MethodCard {
  const c = { id: '', method, values: { ...defaultValues(method), ...values } };
  return { ...c, id: id ?? cardKey(c) };
}

/**
 * The card with some values changed; an option declared `resetWith` another (DPO's loss weights
 * belong to its loss types) goes back to its default when that other one changes.
 */
export function withValues(c: MethodCard, patch: Record<string, OptionValue>): MethodCard {
  const values = { ...c.values, ...patch };
  for (const o of methodDescriptor(c.method).options) {
    if (!o.resetWith || !(o.resetWith in patch) || o.key in patch) continue;
    if (o.default === null) delete values[o.key];
    else values[o.key] = o.default;
  }
  return { ...c, values };
}

export function objectiveOf(c: MethodCard): ObjectiveSpec {
  const known = new Set(methodDescriptor(c.method).options.map((o) => o.key));
  return { method: c.method, ...Object.fromEntries(Object.entries(c.values).filter(([k]) => known.has(k))) };
}

export function formulaOf(c: MethodCard): string {
  return methodDescriptor(c.method).formula(c.values);
}

/** The options a card shows, given its values (e.g. ε only for DPO's robust and exo_pair). */
export function cardOptions(c: MethodCard): MethodOption[] {
  return methodDescriptor(c.method).options.filter((o) => o.show?.(c.values) ?? true);
}

/** What keeps the card from training, in words naming the option (empty when none). */
export function cardProblems(c: MethodCard): string[] {
  // "orpo: option beta must be > 0" → "λ must be > 0": the card's own label for the option
  const options = methodDescriptor(c.method).options;
  return specProblems(objectiveOf(c)).map((p) => {
    const o = options.find((x) => p.startsWith(`${c.method}: option ${x.key} `));
    if (!o) return p.replace(`${c.method}: `, '');
    const rest = p.slice(`${c.method}: option ${o.key} `.length).replace(new RegExp(`^${o.key} `), '');
    return `${o.label} ${rest}`;
  });
}

/**
 * A card's problems with the comparison's shared settings, in the form's words (PPO: batch size
 * ≥ 2); the engine refuses them too (trainConfigProblems with the run's objective).
 */
export function cardSettingsProblems(c: MethodCard, s: TrainSettings): string[] {
  const shared = new Set(trainConfigProblems(s).map((p) => p.message));
  return trainConfigProblems({ ...s, objective: objectiveOf(c) })
    .filter((p) => p.field !== 'objective' && !shared.has(p.message))
    .map(labelled);
}

/**
 * The runs of a comparison resumed after a reload (runs.ts revive): a run that had ended (done,
 * stopped by the user, failed) says so (RunSpec.ended) and the engine keeps it so; the others
 * train on from their checkpoints.
 */
export function resumedSpecs(specs: readonly RunSpec[], runs: readonly { id: string; status: RunStatus }[]): RunSpec[] {
  return specs.map((spec) => {
    const status = runs.find((r) => r.id === spec.id)?.status;
    return status === 'done' || status === 'stopped' || status === 'failed' ? { ...spec, ended: status } : spec;
  });
}

/** A readable id, unique within a comparison: dpo-sigmoid-0.1, orpo-0.25, … (the URL token). */
export function cardKey(c: Omit<MethodCard, 'id'>): string {
  return runToken(objectiveOf({ ...c, id: '' })).replace(/[:/]/g, '-'); // ids name files and keys: no '/'
}

/**
 * A card saved by an older version of the page ({ lossType, beta, labelSmoothing, gamma, alpha }
 * beside the method), or a current one; null when it names no method the page knows.
 */
export function cardFromSaved(raw: unknown): MethodCard | null {
  const r = raw as Record<string, unknown> | null;
  if (!r || !isMethod(r.method)) return null;
  const method = r.method;
  const keys = new Set(methodDescriptor(method).options.map((o) => o.key));
  const old: Record<string, unknown> = { ...r, simpoGamma: r.gamma, cpoAlpha: r.alpha };
  const src = (r.values && typeof r.values === 'object' ? r.values : old) as Record<string, unknown>;
  const values = Object.fromEntries(Object.entries(src).filter(([k, v]) => keys.has(k) && v !== undefined)) as Record<string, OptionValue>;
  let canonical: Record<string, OptionValue> = values;
  try {
    canonical = normalizeOptions(method, values); // aliases to their current names (aot_pair → aot_unpaired)
  } catch {
    // an out-of-range saved value stays, and the card says what is wrong with it
  }
  return newCard(method, canonical, typeof r.id === 'string' && r.id ? r.id : undefined);
}

function valueText(o: MethodOption, v: OptionValue | undefined): string {
  const text = Array.isArray(v) ? v.join('+') : String(v);
  return o.kind === 'choice' ? text : `${o.label}=${text}`;
}

/**
 * Labels that tell the runs apart: "DPO" and "ORPO" when that is enough; else, within each
 * method, the options whose values differ, in option order, until every label is unique.
 */
export function runLabels(cards: readonly MethodCard[]): string[] {
  return cards.map((c) => {
    const same = cards.filter((o) => o.method === c.method);
    const d = methodDescriptor(c.method);
    let label = d.label;
    if (same.length < 2) return label;
    let group = same;
    for (const o of d.options) {
      const key = (x: MethodCard) => JSON.stringify(x.values[o.key]);
      if (new Set(group.map(key)).size < 2) continue;
      label += ` ${valueText(o, c.values[o.key])}`;
      group = group.filter((x) => key(x) === key(c));
      if (group.length < 2) break;
    }
    return label;
  });
}

/**
 * What a card's run scores its completions with, when that is a reward model (PPO; GRPO and RLOO
 * with the `reward-model` reward): on the page, the comparison's Reward model run, which trains
 * first; PPO also starts from the comparison's SFT run when there is one (seed 002's stages).
 */
export function rewardModelStage(c: MethodCard): { reward: true; fromSft: boolean } | null {
  let o;
  try {
    o = createObjective(objectiveOf(c));
  } catch {
    return null;
  }
  if (o.kind === 'ppo') return { reward: true, fromSft: true };
  if (o.kind === 'online' && o.rewards.names.includes(REWARD_MODEL_REWARD)) return { reward: true, fromSft: false };
  return null;
}

/** Problems of the comparison as a whole, in words naming the run (a later RLHF stage without its reward model). */
export function comparisonProblems(cards: readonly MethodCard[]): string[] {
  const labels = runLabels(cards);
  const hasReward = cards.some((c) => methodDescriptor(c.method).head === 'score');
  return cards.flatMap((c, i) => (rewardModelStage(c) && !hasReward ? [`${labels[i]} scores its completions with a reward model: add a Reward model card (it trains first, on the same pairs, and ${labels[i]} waits for it).`] : []));
}

/** What the loaded data file holds: preference pairs, unpaired (KTO) examples, or prompts only ({"prompt": …}). */
export type DataKind = 'pairs' | 'unpaired' | 'prompts';

/**
 * Why a card cannot train on the loaded data, as a phrase after the run's label ("needs preference
 * pairs …"); null when it can. Pair methods need pairs; KTO takes unpaired examples or pairs; the
 * online methods take prompts of any file, but a run that scores with the comparison's Reward
 * model (PPO; GRPO/RLOO with the reward-model reward) needs that model trained on pairs, and PPO
 * also its SFT stage.
 */
export function cardDataProblem(c: MethodCard, data: DataKind | null): string | null {
  if (!data || data === 'pairs') return null;
  const needs = methodDescriptor(c.method).data;
  if (data === 'unpaired') return needs === 'pairs' ? 'trains on preference pairs, and this file holds unpaired (KTO) examples: remove it or use a KTO card' : null;
  const only = 'this file holds prompts only ({"prompt": …})';
  if (needs === 'pairs') return `needs preference pairs (prompt, chosen, rejected), and ${only}: load a file of pairs, or train on the prompts with a GRPO or RLOO card`;
  if (needs === 'unpaired') return `needs unpaired examples (prompt, completion, label) or preference pairs, and ${only}: load such a file, or train on the prompts with a GRPO or RLOO card`;
  const stage = rewardModelStage(c);
  if (stage?.fromSft) return `needs its SFT and Reward model stages, which train on preference pairs, and ${only}: load a file of pairs for PPO, or use GRPO or RLOO with a judge reward`;
  if (stage) return `scores with the comparison’s Reward model, which trains on preference pairs, and ${only}: use a judge reward instead`;
  return null;
}

/** What the inspected file holds (null until it is read): the cards' data checks (cardDataProblem). */
export function dataKind(result: InspectResult | null): DataKind | null {
  if (!result) return null;
  return result.kind === 'prompts' ? 'prompts' : result.report.format === 'kto' ? 'unpaired' : 'pairs';
}

/** The accepted rows in words: "12 pairs", "8 examples" (KTO), "20 prompts". */
export function acceptedText(result: InspectResult): string {
  const n = result.report.accepted;
  const unit = { pairs: 'pair', unpaired: 'example', prompts: 'prompt' }[dataKind(result)!];
  return `${n.toLocaleString('en')} ${unit}${n === 1 ? '' : 's'}`;
}

/** Comparisons one click away. */
export const METHOD_PRESETS = {
  'dpo-vs-orpo': { label: 'DPO vs ORPO', cards: () => [newCard('dpo'), newCard('orpo')] },
  'dpo-loss-types': { label: 'DPO loss types', cards: () => ['sigmoid', 'ipo', 'hinge', 'robust'].map((t) => newCard('dpo', { lossType: t, labelSmoothing: t === 'robust' ? 0.1 : 0 })) },
  'orpo-lambda': { label: 'ORPO λ sweep', cards: () => [0.05, 0.1, 0.5, 1].map((beta) => newCard('orpo', { beta })) },
  // seed 002's RLHF (SFT on the chosen answers → reward model on the pairs → PPO against it; PPO
  // waits for the first two) beside DPO and ORPO from the same starting weights
  'rlhf-dpo-orpo': { label: 'RLHF vs DPO vs ORPO', cards: () => [newCard('sft'), newCard('reward'), newCard('ppo'), newCard('dpo'), newCard('orpo')] },
} as const;

export type MethodPresetId = keyof typeof METHOD_PRESETS;
export const DEFAULT_METHOD_PRESET: MethodPresetId = 'dpo-vs-orpo';

/** One colour per run, in card order (colour-blind-safe Tableau 10 order). */
export const RUN_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2', '#edc948', '#9c755f'];
