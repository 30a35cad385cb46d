import { useMemo, useState } from 'react';
import { useApp } from '../../store';
import { LENGTH_KEYS, lengthGrowthNote, lengthRows, meanScore, rewardText, rolloutRows, samplesTable } from '../../store/samples';
import type { RunView } from '../../store/events';
import { TIMED_SAMPLE_TOKENS } from '../../onnx/timed-samples';
import { chartData, type ChartDef } from './series';
import { MetricChart } from './MetricChart';

const LENGTH_CHART: ChartDef = {
  id: 'length',
  title: 'Length: greedy samples vs the data',
  series: [
    { key: LENGTH_KEYS.samples, label: 'sample length' },
    { key: LENGTH_KEYS.gap, label: 'chosen − rejected (data)', dashed: true },
  ],
  eval: false,
  yLabel: 'tokens',
  hint: `Solid: the mean length of each run’s greedy samples of the held-out prompts (up to ${TIMED_SAMPLE_TOKENS} tokens). Dashed: how much longer the data’s chosen answers are than its rejected ones, on average. A solid line that keeps climbing while the dashed one sits above 0 is length exploitation: the run learned that longer answers win.`,
  controls: [],
};

function Cell({ run, at, prompt }: { run: RunView; at: NonNullable<RunView['samples']>[number] | undefined; prompt: number }) {
  if (!at) return <td />;
  const s = at.scores[prompt];
  return (
    <td className="pre">
      {at.completions[prompt]}
      <span className={`score score-${s === 1 ? 'win' : s === 0 ? 'loss' : 'part'}`} title={`${run.label}, step ${at.step}: ${at.reasons[prompt]} · ${at.tokens[prompt]} tokens`}>
        {' '}
        [{s.toFixed(s % 1 ? 2 : 0)}]
      </span>
    </td>
  );
}

// Samples over time (README.md): each run's greedy samples of the same held-out prompts at step 0,
// every N updates and the last, as a step × run table with the judge's score; the Length chart of
// their mean length against the data's chosen/rejected gap; a note when a run's samples keep growing.
// Online runs (GRPO, RLOO) add what they trained on: per logged update, the prompt, the sampled
// completion and the reward the judge gave it (OnlineSamples).
export function SamplesOverTime() {
  return (
    <>
      <GreedySamples />
      <OnlineSamples />
    </>
  );
}

const scoreClass = (s: number) => `score score-${s === 1 ? 'win' : s === 0 ? 'loss' : 'part'}`;

/** Samples over steps of the online runs: one run at a time, newest update first. */
function OnlineSamples() {
  const runs = useApp((s) => s.runs);
  const online = useMemo(() => runs.filter((r) => r.rollouts?.length), [runs]);
  const [pick, setPick] = useState<string | null>(null);
  const run = online.find((r) => r.id === pick) ?? online[0];
  const rows = useMemo(() => rolloutRows(run?.rollouts), [run]);
  if (!run) return null;
  const last = run.rollouts!.at(-1)!;
  const judges = last.rewards.map((j) => `“${j.name}” (${last.scale === 'judge' ? '1: ' : ''}${j.description})`).join(' and ');
  return (
    <section aria-labelledby="sos-h" className="samples">
      <h3 id="sos-h">Samples over steps (online runs)</h3>
      <p className="muted">
        What an online run generated and was trained on: at the first update, every few updates and the last, the first {last.completions.length} of its {last.total} completions (prompt by prompt, each prompt’s G completions together), sampled on the GPU from the weights before that update, with the reward {judges} gave the text shown.{last.advantages ? ' A: the advantage, the completion’s reward against its group’s.' : ''}
      </p>
      {online.length > 1 && (
        <label>
          Run{' '}
          <select value={run.id} onChange={(e) => setPick(e.target.value)}>
            {online.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
      )}
      <div className="table-scroll tall">
        <table className="data-table samples-table sot-table sos-table">
          <caption>Samples over steps: {run.label}</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Prompt</th>
              <th scope="col">Completion</th>
              <th scope="col">Reward</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={`${r.step}-${i}`} data-step={r.step}>
                {r.first && (
                  <th scope="row" rowSpan={r.span}>
                    {r.step}
                  </th>
                )}
                <td className="pre">{r.prompt}</td>
                <td className="pre">{r.completion}</td>
                <td>
                  <span className={r.judged ? scoreClass(r.reward) : 'score'} title={`${r.reason} · ${r.tokens} tokens${r.advantage !== null ? ` · advantage ${r.advantage.toFixed(3)}` : ''}`}>
                    {rewardText(r.reward)}
                  </span>
                  {r.advantage !== null && <span className="muted sos-adv"> A {r.advantage.toFixed(2)}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function GreedySamples() {
  const runs = useApp((s) => s.runs);
  const every = useApp((s) => s.session?.settings.sampleEvery ?? 0);
  const [prompt, setPrompt] = useState(0);
  const sampled = useMemo(() => runs.filter((r) => r.samples?.length), [runs]);
  const rows = useMemo(() => samplesTable(sampled), [sampled]);
  const length = useMemo(() => chartData(LENGTH_CHART, sampled.map((r) => ({ ...r, train: lengthRows(r.samples), eval: [] })), 0), [sampled]);
  const xMax = Math.max(1, ...runs.map((r) => r.total));
  if (!sampled.length) {
    return every > 0 ? (
      <section aria-labelledby="sot-h" className="samples">
        <h3 id="sot-h">Samples over time</h3>
        <p className="muted">Generating the first samples…</p>
      </section>
    ) : null;
  }
  const first = sampled[0].samples![0];
  const notes = sampled.map((r) => lengthGrowthNote(r.label, r.samples, TIMED_SAMPLE_TOKENS)).filter((n): n is string => n !== null);
  const p = Math.min(prompt, first.prompts.length - 1);
  return (
    <section aria-labelledby="sot-h" className="samples">
      <h3 id="sot-h">Samples over time</h3>
      <p className="muted">
        Greedy samples (up to {TIMED_SAMPLE_TOKENS} tokens) of the same held-out prompts from every run{every > 0 ? `, every ${every} updates` : ''}, scored by the data set’s judge “{first.judge.name}”: [1] means {first.judge.description}. Read down a column to see a run change; across a row to compare runs after the same number of updates. Greedy decoding of a seeded run: the same seed gives the same table.
      </p>
      <label>
        Prompt{' '}
        <select value={p} onChange={(e) => setPrompt(Number(e.target.value))}>
          {first.prompts.map((t, i) => (
            <option key={i} value={i}>
              {i + 1}. {t.length > 60 ? t.slice(0, 59) + '…' : t}
            </option>
          ))}
        </select>
      </label>
      <div className="table-scroll tall">
        <table className="data-table samples-table sot-table">
          <caption>Samples over time: “{first.prompts[p]}”</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              {sampled.map((r) => (
                <th scope="col" key={r.id}>
                  {r.label}{' '}
                  <span className="muted" title={`mean judge score over the ${first.prompts.length} prompts at step ${r.samples!.at(-1)!.step}`}>
                    (mean score {meanScore(r.samples!.at(-1)!).toFixed(2)})
                  </span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.step}>
                <th scope="row">{row.step}</th>
                {row.cells.map((at, j) => (
                  <Cell key={sampled[j].id} run={sampled[j]} at={at} prompt={p} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <MetricChart def={LENGTH_CHART} data={length} xMax={xMax} />
      {notes.map((n) => (
        <p key={n} className="notice warn" role="note">
          {n}
        </p>
      ))}
    </section>
  );
}
