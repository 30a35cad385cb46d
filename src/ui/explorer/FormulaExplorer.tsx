import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { exploreFormulas, explorerCurves, type ExplorerInput } from '../../train/objectives/explorer';

/** The worked example: a pair the model already prefers, P(chosen) 0.8 vs P(rejected) 0.2. */
const WORKED: ExplorerInput = { pChosen: 0.8, pRejected: 0.2, beta: 0.1, lambda: 0.1 };

const n = (x: number, d = 4) => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : x.toFixed(d));
const tick = (v: number) => Number(v.toPrecision(2)).toString();

function Slider({ label, value, min, max, step, onChange }: { label: string; value: number; min: number; max: number; step: number; onChange(v: number): void }) {
  return (
    <label className="slider">
      <span>{label}</span>
      <input type="range" aria-label={label} min={min} max={max} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} />
      <output>{value}</output>
    </label>
  );
}

const DPO = '#3b5bdb';
const ORPO = '#e8590c';

/** The DPO and ORPO curves of one quantity (losses or gradients) against the swept probability. */
function Curves({ title, data, keys, at, label }: { title: string; data: object[]; keys: [string, string]; at: number; label: string }) {
  return (
    <figure aria-label={title}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={170}>
        <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
          <XAxis dataKey="p" type="number" domain={[0, 1]} ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]} tick={{ fontSize: 11 }} />
          <YAxis width={44} tick={{ fontSize: 11 }} tickFormatter={tick} />
          <Tooltip formatter={(v) => n(Number(v))} labelFormatter={(p) => `${label} = ${p}`} contentStyle={{ fontSize: 12 }} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <ReferenceLine x={at} stroke="#667085" strokeDasharray="4 3" />
          <Line dataKey={keys[0]} name="DPO" stroke={DPO} dot={false} strokeWidth={1.8} isAnimationActive={false} />
          <Line dataKey={keys[1]} name="ORPO" stroke={ORPO} dot={false} strokeWidth={1.8} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

// The formula explorer (works without WebGPU): one pair's odds, ratios, DPO and ORPO losses and
// their gradients, live from the sliders, plotted against P(chosen) or P(rejected), with the
// worked example P(chosen) 0.8 vs P(rejected) 0.2.
export function FormulaExplorer() {
  const [x, setX] = useState<ExplorerInput>(WORKED);
  const [against, setAgainst] = useState<'chosen' | 'rejected'>('chosen');
  const r = exploreFormulas(x);
  const ex = exploreFormulas(WORKED);
  const curves = useMemo(() => explorerCurves(x, against, 60), [x, against]);
  const set = (k: keyof ExplorerInput) => (v: number) => setX((o) => ({ ...o, [k]: v }));
  const axis = against === 'chosen' ? 'P(chosen)' : 'P(rejected)';
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
    <section aria-labelledby="explorer-h" className="region">
      <h2 id="explorer-h">Formula explorer</h2>
      <p className="muted">
        A probability P says how often the model gives an answer; the odds P / (1 − P) compare giving it with not giving it, so P = 0.8 is odds of 4 to 1 and P = 0.2 is odds of 1 to 4. DPO
        compares the probabilities of the chosen and rejected answers (against a reference model), while ORPO compares their odds, which grow much faster as P nears 1.
      </p>
      <div className="sliders">
        <Slider label="P(chosen)" value={x.pChosen} min={0.01} max={0.99} step={0.01} onChange={set('pChosen')} />
        <Slider label="P(rejected)" value={x.pRejected} min={0.01} max={0.99} step={0.01} onChange={set('pRejected')} />
        <Slider label="β" value={x.beta} min={0.01} max={2} step={0.01} onChange={set('beta')} />
        <Slider label="λ" value={x.lambda} min={0} max={2} step={0.01} onChange={set('lambda')} />
        <button type="button" onClick={() => setX(WORKED)}>
          The worked example: P(chosen) 0.8 vs P(rejected) 0.2
        </button>
      </div>
      <div className="row" role="radiogroup" aria-label="Plot against">
        <span>Plot against</span>
        {(['chosen', 'rejected'] as const).map((k) => (
          <label key={k} className="chip">
            <input type="radio" name="explorer-axis" checked={against === k} onChange={() => setAgainst(k)} /> P({k})
          </label>
        ))}
      </div>
      <div className="explorer-curves">
        <Curves title={`Loss against ${axis}`} data={curves} keys={['dpoLoss', 'orpoLoss']} at={against === 'chosen' ? x.pChosen : x.pRejected} label={axis} />
        <Curves title={`Gradient ∂L/∂log ${against === 'chosen' ? 'P_w' : 'P_l'} against ${axis}`} data={curves} keys={['dpoGrad', 'orpoGrad']} at={against === 'chosen' ? x.pChosen : x.pRejected} label={axis} />
      </div>
      <p className="muted note">
        The other sliders hold still; the dashed line is the slider’s value. DPO’s gradient is never larger than β and shrinks slowly as the chosen answer pulls ahead; ORPO’s has a constant −1 on log P(chosen)
        from its NLL term, plus a λ-weighted odds-ratio push that is strongest while the two answers’ odds are close.
      </p>
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
      <aside className="note-box" aria-label="Worked example">
        <p>
          The worked example: P(chosen) = 0.8, P(rejected) = 0.2. 0.8 / 0.2 = {n(ex.probabilityRatio, 1)} is often called an “odds ratio”, but it is a <strong>probability ratio</strong>. The odds ratio is
          (0.8/0.2) / (0.2/0.8) = {n(ex.oddsRatio, 1)}, its log ln {n(ex.oddsRatio, 0)} = {n(ex.logOddsRatio)}, and L_OR = −log σ({n(ex.logOddsRatio)}) = {n(ex.orpo.orLoss, 5)}.
        </p>
      </aside>
    </section>
  );
}
