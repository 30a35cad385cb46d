import { useEffect } from 'react';
import { useApp } from '../store';
import { hydrate } from '../store/sync';
import { GpuPanel } from './GpuPanel';
import { Notices } from './Notices';
import { DataPanel } from './data/DataPanel';
import { ModelPanel } from './model/ModelPanel';
import { MethodsPanel } from './methods/MethodsPanel';
import { ChartsPanel } from './charts/ChartsPanel';
import { FormulaExplorer } from './explorer/FormulaExplorer';
import { ExportPanel } from './export/ExportPanel';

// The page's regions in the order a user works (README.md): data → model → methods → charts, then
// the formula explorer and exports. GPU status sits on top; everything that needs no GPU
// (data preview, formula explorer) stays usable without one.
export function App() {
  const connect = useApp((s) => s.connect);
  useEffect(() => {
    void hydrate().catch((e: unknown) => console.warn(`could not restore the last session: ${(e as Error).message}`));
    void connect();
  }, [connect]);

  return (
    <div className="app">
      <header className="app-header">
        <h1>PrefPlay</h1>
        <p className="tagline">Watch DPO, ORPO and their relatives train a language model on your own GPU. No data leaves this page.</p>
      </header>
      <GpuPanel />
      <Notices />
      <main className="regions">
        <DataPanel />
        <ModelPanel />
        <MethodsPanel />
        <ChartsPanel />
        <FormulaExplorer />
        <ExportPanel />
      </main>
    </div>
  );
}
