import { useState } from 'react';
import { useApp } from '../../store';
import { DEFAULT_BUDGET_BYTES, fitAdvice, mergedPatch } from '../../store/fit';
import { formatBytes } from '../data/DataPanel';
import { methodLabel, objectiveOf } from '../../store/presets';
import { effectiveLora, effectiveSettings } from '../../store/adapter';
import { DEFAULT_LORA } from '../../store/settings';

const BUDGET_KEY = 'prefplay.gpuBudgetGB';
const GB = 1024 ** 3;

function savedBudget(): number {
  const v = Number(globalThis.localStorage?.getItem(BUDGET_KEY));
  return Number.isFinite(v) && v > 0 ? v * GB : DEFAULT_BUDGET_BYTES;
}

// Shown under Start only when the comparison would not fit the GPU memory budget: what it needs,
// the budget (browsers do not report GPU memory, so the user can say), and one click on the
// settings that fit (src/store/fit.ts). Start still works: the budget is a guess.
export function FitNotice() {
  const info = useApp((s) => s.model.info);
  const form = useApp((s) => s.settings);
  // an imported adapter's r, lora_alpha and targets when LoRA is on: what the runs use
  const imported = useApp((s) => s.adapter.info);
  const settings = effectiveSettings(form, imported);
  const cards = useApp((s) => s.cards);
  const runs = cards.length;
  const update = useApp((s) => s.updateSettings);
  const [budget, setBudget] = useState(savedBudget);
  if (!info || runs === 0) return null;
  // each card's own estimate: an online run (GRPO, RLOO, PPO) holds more than a pair-method run
  // turning LoRA on continues the imported adapter: its r, lora_alpha and targets, not DEFAULT_LORA's
  const advice = fitAdvice(info.config, info.nPositions, settings, cards.map(objectiveOf), budget, imported ? effectiveLora(DEFAULT_LORA, imported) : null);
  if (advice.fits) return null;
  const setGb = (gb: number) => {
    if (!(gb > 0)) return;
    setBudget(gb * GB);
    globalThis.localStorage?.setItem(BUDGET_KEY, String(gb));
  };
  const last = advice.steps.at(-1);
  return (
    <div className="notice warn fit-notice" role="alert" aria-label="GPU memory">
      <p>
        This comparison needs ≈ <strong>{formatBytes(advice.total)}</strong> of GPU memory ({advice.perRuns.every((b) => b === advice.perRun) ? `${runs} run${runs === 1 ? '' : 's'} × ${formatBytes(advice.perRun)}` : cards.map((c, i) => `${methodLabel(c.method)} ${formatBytes(advice.perRuns[i])}`).join(' + ')}), more than the{' '}
        <label>
          budget of{' '}
          <input type="number" className="num" aria-label="GPU memory budget (GB)" min={0.25} step={0.25} value={Number((budget / GB).toPrecision(3))} onChange={(e) => setGb(Number(e.target.value))} /> GB
        </label>
        {budget === DEFAULT_BUDGET_BYTES ? ' (assumed: browsers do not tell a page how much GPU memory there is; set yours)' : ''}. It may stop with an out-of-memory pause.
      </p>
      {advice.steps.length > 0 && (
        <p>
          {advice.reachable ? 'These settings fit:' : 'These settings help, but not enough: run fewer methods at once or pick a smaller model.'}{' '}
          {advice.steps.map((st, i) => (
            <span key={st.label}>
              {i > 0 ? ' + ' : ''}
              <span className="fit-step">
                {st.label} → {formatBytes(st.total)}
              </span>
            </span>
          ))}{' '}
          {last && (
            <button type="button" onClick={() => update(mergedPatch(advice.steps))}>
              Use {advice.steps.length === 1 ? 'it' : 'them'}
            </button>
          )}
        </p>
      )}
    </div>
  );
}
