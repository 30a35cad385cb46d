// Every method and every option of the registry is accepted, with the same defaults, by each
// surface that offers it: the CLI's flags, the page's card factory, the URL's run tokens and the
// TRL export. A method added to the registry is covered here without editing this file.
import { describe, expect, it } from 'vitest';
import { objectiveFromFlags, methodFlagOptions } from '../../../src/cli/method-flags';
import { cardOptions, CARD_METHODS, newCard, objectiveOf } from '../../../src/store/presets';
import { decodeConfig, encodeConfig } from '../../../src/store/url';
import { DEFAULT_SETTINGS } from '../../../src/store/settings';
import { trlTrainerSpec } from '../../../src/export/trl-script';
import { PYTHON_JUDGES } from '../../../src/judge/python';
import { TRAIN_DEFAULTS } from '../../../src/train/config';
import { createObjective, defaultValues, METHOD_DESCRIPTORS, parseRunToken, runToken, type MethodOption, type ObjectiveSpec, type OptionValue } from '../../../src/train/objectives';

/** A valid value other than the default. */
function other(o: MethodOption): OptionValue {
  switch (o.kind) {
    case 'number': {
      // whole-number options (step 1) get the next whole number; others 1.5× the default, within max
      if (o.step === 1) return o.default + 1;
      const x = o.default === 0 ? 0.1 : o.default * 1.5;
      return o.max !== undefined && x > o.max ? o.default / 2 : x;
    }
    case 'choice':
      return o.choices.find((c) => c !== o.default)!;
    case 'numbers':
      return [2];
    case 'boolean':
      return !o.default;
  }
}

/** What a user types after the flag. */
function flagText(o: MethodOption, v: OptionValue): string | boolean {
  if (o.kind === 'boolean') return v !== o.default;
  return Array.isArray(v) ? v.join(',') : String(v);
}

const trlArgs = (objective: ObjectiveSpec) => {
  const s = trlTrainerSpec({ config: { ...TRAIN_DEFAULTS, objective }, maxLength: 64, maxPromptLength: 32, rewardModel: 'reward_model' });
  // online methods: reward_funcs is the trainer's argument (Python names: a judge's function, REWARD_MODEL), not a config field
  return new Map<string, unknown>([...s.args, ...(s.rewardFuncs ? ([['reward_funcs', s.rewardFuncs]] as const) : [])]);
};

describe.each(METHOD_DESCRIPTORS.map((d) => [d.name, d] as const))('%s', (name, d) => {
  const defaults: ObjectiveSpec = { method: name, ...defaultValues(name) };

  it('has the same defaults in the CLI, a new card, the URL and the objective', () => {
    expect(objectiveFromFlags({ method: name })).toEqual(defaults);
    expect(parseRunToken(runToken({ method: name }))).toEqual(defaults);
    expect(() => createObjective(defaults)).not.toThrow();
    if (CARD_METHODS.includes(name)) {
      const card = newCard(name);
      expect(objectiveOf(card)).toEqual(defaults);
      const back = decodeConfig(encodeConfig([card], DEFAULT_SETTINGS, null));
      expect(back.problems).toEqual([]);
      expect(back.cards).toEqual([card]);
    } else {
      // the page offers every method that trains the LM head on pairs (a reward model's score head: CLI only)
      expect(d.data !== 'pairs' || d.head === 'score').toBe(true);
    }
    const args = trlArgs(defaults);
    for (const o of d.options) {
      if (o.trl === null || o.default === null || (o.trlWhen && !o.trlWhen(defaults))) continue;
      expect(args.has(o.trl), `${name}.${o.key} → ${o.trl}`).toBe(true);
    }
  });

  it.each(d.options.map((o) => [o.key, o] as const))('option %s: a non-default value survives every surface', (key, o) => {
    let v = other(o);
    const extra: Record<string, OptionValue> = {};
    if (key === 'lossWeights') extra.lossType = 'sigmoid';
    if (key === 'discopopTau') extra.lossType = 'discopop';
    if (key === 'labelSmoothing' && name === 'dpo') extra.lossType = 'robust';
    if (key === 'lossType' && o.kind === 'choice' && o.multiple) v = ['sigmoid', 'sft'];
    const spec: ObjectiveSpec = { ...defaults, ...extra, [key]: v };
    expect(() => createObjective(spec)).not.toThrow();

    const flags: Record<string, unknown> = { method: name };
    for (const [k, x] of Object.entries(extra)) flags[d.options.find((p) => p.key === k)!.cli] = flagText(d.options.find((p) => p.key === k)!, x);
    flags[o.cli] = flagText(o, v);
    expect(methodFlagOptions()[o.cli]).toBeDefined();
    expect(objectiveFromFlags(flags)).toEqual(spec);

    if (o.url !== undefined) expect(parseRunToken(runToken(spec))).toEqual(spec);
    if (CARD_METHODS.includes(name)) {
      const card = newCard(name, { ...extra, [key]: v });
      expect(objectiveOf(card)).toEqual(spec);
      if (o.url !== undefined) expect(decodeConfig(encodeConfig([card], DEFAULT_SETTINGS, null)).cards).toEqual([card]);
      if (o.show?.(card.values) !== false && o.kind !== 'numbers') expect(cardOptions(card).map((p) => p.key)).toContain(key);
    }
    if (o.trl !== null && (!o.trlWhen || o.trlWhen(spec))) {
      const written = trlArgs(spec).get(o.trl);
      // whole-number options (step 1) are Python ints; reward sources become reward functions
      const expected =
        o.trl === 'reward_funcs'
          ? (Array.isArray(v) ? v : [v]).map((n) => PYTHON_JUDGES[n as string] ?? 'REWARD_MODEL')
          : typeof v === 'number'
            ? o.kind === 'number' && o.step === 1
              ? v
              : { float: v }
            : Array.isArray(v)
              ? v.length === 1 && o.kind === 'choice'
                ? v[0]
                : v.map((x) => (typeof x === 'number' ? { float: x } : x))
              : v;
      expect(written, `${name}.${key} → ${o.trl}`).toEqual(expected);
    }
  });

  it('refuses a flag of another method, naming it', () => {
    const foreign = METHOD_DESCRIPTORS.flatMap((x) => x.options).find((o) => !d.options.some((p) => p.cli === o.cli));
    if (foreign) expect(() => objectiveFromFlags({ method: name, [foreign.cli]: foreign.kind === 'boolean' ? true : '1' })).toThrow(new RegExp(`--${foreign.cli} applies to --method`));
  });
});
