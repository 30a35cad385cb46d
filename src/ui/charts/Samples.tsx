import { useState } from 'react';
import { useApp } from '../../store';
import { engine } from '../../store/workers';
import type { SampleSet } from '../../worker/exports';
import { savedSessionSpec } from '../saved-session';

// Generated samples before and after training (README.md): greedy continuations of the first
// held-out prompts, from the starting weights and from each run, through the ONNX export. After a
// reload the runs' weights are their last resume snapshots, so finished runs still generate.
export function Samples() {
  const session = useApp((s) => s.session);
  const runs = useApp((s) => s.runs);
  const demo = useApp((s) => s.session?.modelRef.kind === 'builtin');
  const [state, setState] = useState<{ busy: boolean; set: SampleSet | null; error: string | null }>({ busy: false, set: null, error: null });
  if (!session) return null;
  const go = async () => {
    setState({ busy: true, set: null, error: null });
    try {
      const spec = savedSessionSpec(useApp.getState());
      setState({ busy: false, set: await engine().samples(session.id, spec), error: null });
    } catch (e) {
      setState({ busy: false, set: null, error: (e as Error).message });
    }
  };
  const set = state.set;
  const trained = runs.filter((r) => set?.outputs[r.id]);
  const models = [{ id: 'start', label: 'Before training' }, ...trained.map((r) => ({ id: r.id, label: `${r.label} (step ${set?.steps?.[r.id] ?? r.step})` }))];
  const cell = (id: string, i: number) => {
    const s = set!.scores[id][i];
    return (
      <td key={id} className="pre">
        {set!.outputs[id][i]}
        <span className={`score score-${s.score === 1 ? 'win' : s.score === 0 ? 'loss' : 'part'}`} title={s.reason}>
          {' '}
          [{s.score.toFixed(s.score % 1 ? 2 : 0)}]
        </span>
      </td>
    );
  };
  return (
    <section aria-labelledby="samples-h" className="samples">
      <h3 id="samples-h">Samples before and after</h3>
      <p className="row">
        <button type="button" onClick={() => void go()} disabled={state.busy}>
          {state.busy ? 'Generating…' : 'Generate samples'}
        </button>
        <span className="muted">
          Greedy decoding of the first held-out prompts, up to 40 new tokens, by onnxruntime-web on this page’s own ONNX export of each model, scored by the data set’s judge.
          {!session.live && ' Runs the engine no longer holds generate from their last saved checkpoint.'}
        </span>
      </p>
      {demo && (
        <p className="muted">These samples come from the built-in demo model: expect the right format and mostly wrong answers. Load a real GPT-2 folder (Model tab) for samples worth reading.</p>
      )}
      {state.error && (
        <p className="notice error" role="alert">
          Could not generate samples: {state.error}
        </p>
      )}
      {set && (
        <>
          <p className="muted">
            Judge “{set.judge.name}”: a score of 1 means {set.judge.description}. Hover a score for the judge’s reason.
          </p>
          <div className="table-scroll">
            <table className="data-table samples-table">
              <caption>
                Samples{demo ? ' from the built-in demo model' : ''} ({set.backend})
              </caption>
              <thead>
                <tr>
                  <th scope="col">Prompt</th>
                  {models.map((m) => (
                    <th scope="col" key={m.id}>
                      {m.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {set.prompts.map((p, i) => (
                  <tr key={i}>
                    <th scope="row" className="pre">
                      {p}
                    </th>
                    {models.map((m) => cell(m.id, i))}
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Judge’s win rate</th>
                  {models.map((m) => (
                    <td key={m.id}>
                      {(set.winRates[m.id].winRate * 100).toFixed(0)} % ({set.winRates[m.id].wins}/{set.winRates[m.id].n})
                    </td>
                  ))}
                </tr>
              </tfoot>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
