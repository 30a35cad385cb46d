import { useState } from 'react';
import { useApp } from '../../store';
import { engine } from '../../store/workers';
import type { SampleSet } from '../../worker/exports';

// Generated samples before and after training (SPEC §1.5): greedy continuations of the first
// held-out prompts, from the starting weights and from each run, through the ONNX export.
export function Samples() {
  const session = useApp((s) => s.session);
  const runs = useApp((s) => s.runs);
  const [state, setState] = useState<{ busy: boolean; set: SampleSet | null; error: string | null }>({ busy: false, set: null, error: null });
  if (!session) return null;
  const go = async () => {
    setState({ busy: true, set: null, error: null });
    try {
      setState({ busy: false, set: await engine().samples(session.id), error: null });
    } catch (e) {
      setState({ busy: false, set: null, error: (e as Error).message });
    }
  };
  const set = state.set;
  const trained = runs.filter((r) => set?.outputs[r.id]);
  return (
    <section aria-labelledby="samples-h" className="samples">
      <h3 id="samples-h">Samples before and after</h3>
      <p className="row">
        <button type="button" onClick={() => void go()} disabled={state.busy || !session.live}>
          {state.busy ? 'Generating…' : 'Generate samples'}
        </button>
        <span className="muted">Greedy decoding, up to 40 new tokens, by onnxruntime-web on this page’s own export of each model.{!session.live && ' Resume the comparison to generate.'}</span>
      </p>
      {state.error && (
        <p className="notice error" role="alert">
          Could not generate samples: {state.error}
        </p>
      )}
      {set && (
        <div className="table-scroll">
          <table className="data-table samples-table">
            <caption>Samples ({set.backend})</caption>
            <thead>
              <tr>
                <th scope="col">Prompt</th>
                <th scope="col">Before training</th>
                {trained.map((r) => (
                  <th scope="col" key={r.id}>
                    {r.label} (step {r.step})
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
                  <td className="pre">{set.outputs.start[i]}</td>
                  {trained.map((r) => (
                    <td key={r.id} className="pre">
                      {set.outputs[r.id][i]}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
