import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useApp } from '../store';
import { hydrate } from '../store/sync';
import { GpuPanel } from './GpuPanel';
import { Notices } from './Notices';
import { DataPanel } from './data/DataPanel';
import { ModelPanel } from './model/ModelPanel';
import { MethodsPanel } from './methods/MethodsPanel';
import { SettingsForm } from './methods/SettingsForm';
import { RunControls, type PanelTab } from './methods/RunControls';
import { ChartsPanel } from './charts/ChartsPanel';
import { FormulaExplorer } from './explorer/FormulaExplorer';
import { ExportPanel } from './export/ExportPanel';

const TABS: Array<[PanelTab, string]> = [
  ['methods', 'Methods'],
  ['settings', 'Settings'],
  ['data', 'Data'],
  ['model', 'Model'],
  ['formulas', 'Formulas'],
  ['export', 'Export'],
];

// One screen, as in TensorFlow Playground: the run controls (Start, preset, steps, learning rate)
// on top, the charts beside the method cards, so a change and the curves it moves are in view
// together. Data, model, the other settings, the formula explorer and the exports are tabs of the
// side panel: a click away, never a scroll away. Every panel stays mounted (a hidden tab keeps its
// state). GPU status sits in the header; the data preview and the formula explorer need no GPU.
export function App() {
  const connect = useApp((s) => s.connect);
  const [tab, setTab] = useState<PanelTab>('methods');
  const tabRefs = useRef(new Map<PanelTab, HTMLButtonElement>());
  useEffect(() => {
    void hydrate().catch((e: unknown) => console.warn(`could not restore the last session: ${(e as Error).message}`));
    void connect();
  }, [connect]);
  const open = (t: PanelTab) => {
    setTab(t);
    tabRefs.current.get(t)?.focus();
  };
  // arrow keys move between tabs (the ARIA tabs pattern)
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex(([t]) => t === tab);
    const j = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : null;
    if (j === null) return;
    e.preventDefault();
    open(TABS[(j + TABS.length) % TABS.length][0]);
  };
  const panel = (t: PanelTab, content: ReactNode) => (
    <div role="tabpanel" id={`panel-${t}`} aria-labelledby={`tab-${t}`} hidden={tab !== t} className="tab-panel">
      {content}
    </div>
  );

  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <h1>PrefPlay</h1>
          <p className="tagline">Watch DPO, ORPO and their relatives train a language model on your own GPU. No data leaves this page.</p>
        </div>
        <GpuPanel />
      </header>
      <Notices />
      <RunControls onOpen={open} />
      <main className="workspace">
        <aside className="side" aria-label="Setup">
          <div className="tabs" role="tablist" aria-label="Setup panels" onKeyDown={onKey}>
            {TABS.map(([t, label]) => (
              <button
                key={t}
                type="button"
                role="tab"
                id={`tab-${t}`}
                aria-controls={`panel-${t}`}
                aria-selected={tab === t}
                tabIndex={tab === t ? 0 : -1}
                ref={(el) => void (el ? tabRefs.current.set(t, el) : tabRefs.current.delete(t))}
                onClick={() => setTab(t)}
              >
                {label}
              </button>
            ))}
          </div>
          {panel('methods', <MethodsPanel />)}
          {panel(
            'settings',
            <section aria-labelledby="settings-h" className="region">
              <h2 id="settings-h">Settings</h2>
              <SettingsForm />
            </section>,
          )}
          {panel('data', <DataPanel />)}
          {panel('model', <ModelPanel />)}
          {panel('formulas', <FormulaExplorer />)}
          {panel('export', <ExportPanel />)}
        </aside>
        <div className="stage">
          <ChartsPanel />
        </div>
      </main>
    </div>
  );
}
