// Method cards (one run each), their one-line formulas and the comparison presets. A card is a
// typed plain object; objectiveOf() turns it into the engine's ObjectiveSpec exactly as the
// CLI's flags do, so a page run and `npm run cli -- train` with the same values agree.
import { DPO_LOSS_TYPES, type DpoLossType, type ObjectiveSpec } from '../train/objectives';

export const CARD_METHODS = ['dpo', 'orpo', 'simpo', 'cpo', 'sft'] as const;
export type CardMethod = (typeof CARD_METHODS)[number];

export interface MethodCard {
  id: string;
  method: CardMethod;
  /** DPO only. */
  lossType: DpoLossType;
  /** β (DPO, SimPO, CPO) or λ (ORPO: TRL's `beta`). */
  beta: number;
  /** ε of DPO robust / exo_pair, CPO/SimPO label smoothing. */
  labelSmoothing: number;
  /** SimPO target margin γ. */
  gamma: number;
  /** NLL weight α of CPO (and SimPO). */
  alpha: number;
}

export const METHOD_LABEL: Record<CardMethod, string> = { dpo: 'DPO', orpo: 'ORPO', simpo: 'SimPO', cpo: 'CPO', sft: 'SFT' };

const DPO_FORMULA: Record<DpoLossType, string> = {
  sigmoid: '−log σ(βΔ),  Δ = (S_w − S_ref,w) − (S_l − S_ref,l)',
  robust: '[−(1−ε) log σ(βΔ) + ε log σ(−βΔ)] / (1 − 2ε)',
  hinge: 'max(0, 1 − βΔ)',
  ipo: '(r_w/|y_w| − r_l/|y_l| − 1/(2β))²',
  sigmoid_norm: '−log σ(β(r_w/|y_w| − r_l/|y_l|))',
  exo_pair: 'σ(βΔ)[log σ(βΔ) − log(1−ε)] + σ(−βΔ)[log σ(−βΔ) − log ε]',
  nca_pair: '−log σ(βr_w) − ½ log σ(−βr_w) − ½ log σ(−βr_l)',
  sppo_hard: '(r_w − 1/(2β))² + (r_l + 1/(2β))²',
  apo_zero: '1 − σ(βr_w) + σ(βr_l)',
  apo_down: 'σ(βr_w) + 1 − σ(βΔ)',
  discopop: '(1−m)(−log σ(βΔ)) + m·e^(−βΔ),  m = σ(βΔ/τ)',
  sft: '−Σ S_w / Σ |y_w|  (NLL of the chosen answers)',
};

export function formulaOf(c: MethodCard): string {
  switch (c.method) {
    case 'dpo':
      return DPO_FORMULA[c.lossType];
    case 'orpo':
      return 'NLL + λ·(−log σ(ℓ)),  ℓ = log odds(A_w) − log odds(A_l),  odds(A) = e^A / (1 − e^A)';
    case 'simpo':
      return '−log σ(β(A_w − A_l) − γ)  (+ α·NLL)';
    case 'cpo':
      return '−log σ(β(S_w − S_l)) + α·NLL';
    case 'sft':
      return '−mean over chosen tokens of log π(y_t | x, y_<t)';
  }
}

export function objectiveOf(c: MethodCard): ObjectiveSpec {
  switch (c.method) {
    case 'dpo':
      return { method: 'dpo', beta: c.beta, labelSmoothing: c.labelSmoothing, lossType: c.lossType };
    case 'orpo':
      return { method: 'orpo', beta: c.beta, nllIncludesPrompt: true };
    case 'simpo':
      return { method: 'simpo', beta: c.beta, labelSmoothing: c.labelSmoothing, simpoGamma: c.gamma, cpoAlpha: c.alpha };
    case 'cpo':
      return { method: 'cpo', beta: c.beta, labelSmoothing: c.labelSmoothing, cpoAlpha: c.alpha };
    case 'sft':
      return { method: 'sft' };
  }
}

/** Which hyperparameters a card shows. */
export function cardFields(m: CardMethod): Array<'lossType' | 'beta' | 'labelSmoothing' | 'gamma' | 'alpha'> {
  return { dpo: ['lossType', 'beta', 'labelSmoothing'], orpo: ['beta'], simpo: ['beta', 'gamma', 'alpha'], cpo: ['beta', 'alpha'], sft: [] }[m] as never;
}

export function betaName(m: CardMethod): string {
  return m === 'orpo' ? 'λ' : 'β';
}

export function newCard(method: CardMethod, patch: Partial<MethodCard> = {}): MethodCard {
  const base: MethodCard = { id: '', method, lossType: 'sigmoid', beta: method === 'simpo' ? 2 : 0.1, labelSmoothing: 0, gamma: 0.5, alpha: method === 'cpo' ? 1 : 0 };
  const c = { ...base, ...patch };
  return { ...c, id: patch.id ?? cardKey(c) };
}

/** A readable id, unique within a comparison: dpo-sigmoid-0.1, orpo-0.25, … */
export function cardKey(c: MethodCard): string {
  if (c.method === 'sft') return 'sft';
  if (c.method === 'dpo') return `dpo-${c.lossType}-${c.beta}`;
  return `${c.method}-${c.beta}`;
}

/** Labels that tell the runs apart: "DPO" and "ORPO" when that is enough, else with the values that differ. */
export function runLabels(cards: readonly MethodCard[]): string[] {
  return cards.map((c) => {
    const same = cards.filter((o) => o.method === c.method);
    let label = METHOD_LABEL[c.method];
    if (c.method === 'dpo' && same.some((o) => o.lossType !== c.lossType)) label += ` ${c.lossType}`;
    if (same.length > 1 && (c.method !== 'dpo' || same.filter((o) => o.lossType === c.lossType).length > 1)) label += ` ${betaName(c.method)}=${c.beta}`;
    return label;
  });
}

export const PRESETS = {
  'dpo-vs-orpo': { label: 'DPO vs ORPO', cards: () => [newCard('dpo'), newCard('orpo')] },
  'dpo-loss-types': { label: 'DPO loss types', cards: () => (['sigmoid', 'ipo', 'hinge', 'robust'] as const).map((t) => newCard('dpo', { lossType: t, labelSmoothing: t === 'robust' ? 0.1 : 0 })) },
  'orpo-lambda': { label: 'ORPO λ sweep', cards: () => [0.05, 0.1, 0.5, 1].map((beta) => newCard('orpo', { beta })) },
} as const;

export type PresetId = keyof typeof PRESETS;
export const DEFAULT_PRESET: PresetId = 'dpo-vs-orpo';

export { DPO_LOSS_TYPES };

/** One colour per run, in card order (colour-blind-safe Tableau 10 order). */
export const RUN_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2', '#edc948', '#9c755f'];
