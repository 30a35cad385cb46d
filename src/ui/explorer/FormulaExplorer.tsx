import { useState } from 'react';
import { exploreFormulas, type ExplorerInput } from '../../train/objectives';

const SEED_000: ExplorerInput = { pChosen: 0.8, pRejected: 0.2, beta: 0.1, lambda: 0.1 };

const n = (x: number, d = 4) => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(d));

function Slider({ label, value, min, max, step, onChange }: { label: string; value: number; min: number; max: number; step: number; onChange(v: number): void }) {
  return (
    <label className="slider">
      <span>{label}</span>
      <input type="range" aria-label={label} min={min} max={max} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} />
      <output>{value}</output>
    </label>
  );
}

// The formula explorer (works without WebGPU): one pair's odds, ratios, DPO and ORPO losses and
// their gradients, live from the sliders, with seed post 000's worked example.
export function FormulaExplorer() {
  const [x, setX] = useState<ExplorerInput>(SEED_000);
  const r = exploreFormulas(x);
  const seed = exploreFormulas(SEED_000);
  const set = (k: keyof ExplorerInput) => (v: number) => setX((o) => ({ ...o, [k]: v }));
  const rows: Array<[string, string, number]> = [
    ['odds(chosen)', 'P_w / (1 − P_w)', r.oddsChosen],
    ['odds(rejected)', 'P_l / (1 − P_l)', r.oddsRejected],
    ['probability ratio', 'P_w / P_l', r.probabilityRatio],
    ['odds ratio', 'odds_w / odds_l', r.oddsRatio],
    ['log-odds ratio ℓ', 'ln(odds_w / odds_l)', r.logOddsRatio],
    ['DPO loss', '−log σ(βΔ), reference P_ref,w = P_ref,l', r.dpo.loss],
    ['DPO ∂L/∂log P_w', '−β σ(−βΔ)', r.dpo.dLogpChosen],
    ['DPO ∂L/∂log P_l', '+β σ(−βΔ)', r.dpo.dLogpRejected],
    ['ORPO L_OR', '−log σ(ℓ)', r.orpo.orLoss],
    ['ORPO loss', '−log P_w + λ·L_OR', r.orpo.loss],
    ['ORPO ∂L/∂log P_w', '−1 − λ σ(−ℓ) / (1 − P_w)', r.orpo.dLogpChosen],
    ['ORPO ∂L/∂log P_l', 'λ σ(−ℓ) / (1 − P_l)', r.orpo.dLogpRejected],
  ];
  return (
    <section aria-labelledby="explorer-h" className="region region-2">
      <h2 id="explorer-h">Formula explorer</h2>
      <div className="sliders">
        <Slider label="P(chosen)" value={x.pChosen} min={0.01} max={0.99} step={0.01} onChange={set('pChosen')} />
        <Slider label="P(rejected)" value={x.pRejected} min={0.01} max={0.99} step={0.01} onChange={set('pRejected')} />
        <Slider label="β" value={x.beta} min={0.01} max={2} step={0.01} onChange={set('beta')} />
        <Slider label="λ" value={x.lambda} min={0} max={2} step={0.01} onChange={set('lambda')} />
        <button type="button" onClick={() => setX(SEED_000)}>
          Seed 000’s example
        </button>
      </div>
      <table className="data-table explorer">
        <caption>One pair under the sliders’ values</caption>
        <tbody>
          {rows.map(([name, formula, v]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>
                <code>{formula}</code>
              </td>
              <td className="value">{n(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <aside className="note-box" aria-label="Seed 000 worked example">
        <p>
          Seed post 000’s example: P(chosen) = 0.8, P(rejected) = 0.2. It calls 0.8 / 0.2 = {n(seed.probabilityRatio, 1)} an “odds ratio”; that is a <strong>probability ratio</strong>. The odds ratio is (0.8/0.2) / (0.2/0.8) ={' '}
          {n(seed.oddsRatio, 1)}, its log ln {n(seed.oddsRatio, 0)} = {n(seed.logOddsRatio)}, and L_OR = −log σ({n(seed.logOddsRatio)}) = {n(seed.orpo.orLoss, 5)}.
        </p>
      </aside>
    </section>
  );
}
