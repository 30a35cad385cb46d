import { useEffect } from 'react';
import { useEngine } from '../store/engine';
import { GpuPanel } from './GpuPanel';

// The page's regions: data → model → methods → charts, the order a user works in (SPEC §1).
// GPU status sits on top; everything that needs no GPU stays usable without one.
export function App() {
  const connect = useEngine((s) => s.connect);
  useEffect(() => {
    void connect();
  }, [connect]);

  return (
    <div className="app">
      <header className="app-header">
        <h1>PrefPlay</h1>
        <p className="tagline">Watch DPO, ORPO and their relatives train a language model on your own GPU. No data leaves this page.</p>
      </header>
      <GpuPanel />
      <main className="regions">
        <section aria-labelledby="data-h" className="region">
          <h2 id="data-h">Data</h2>
          <p className="muted">Preference pairs: built-in sets, or upload JSONL / JSON / CSV / YAML.</p>
        </section>
        <section aria-labelledby="model-h" className="region">
          <h2 id="model-h">Model</h2>
          <p className="muted">The built-in tiny GPT-2, or a Hugging Face GPT-2 folder.</p>
        </section>
        <section aria-labelledby="methods-h" className="region">
          <h2 id="methods-h">Methods</h2>
          <p className="muted">DPO, ORPO, SimPO, CPO, KTO and DPO loss types, with their hyperparameters.</p>
        </section>
        <section aria-labelledby="charts-h" className="region region-wide">
          <h2 id="charts-h">Charts</h2>
          <p className="muted">Loss, log-probs, log-odds, reward margins and accuracy per method, side by side.</p>
        </section>
      </main>
    </div>
  );
}
