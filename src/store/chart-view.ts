// The charts' view: per-panel options (log-prob scale, loss view, log axis), which runs are hidden
// or highlighted, and the step under the shared cursor. Page state only; the runs are not touched.
import type { StateCreator } from 'zustand';
import type { AppState } from './index';

/** Per-token averages A = S/|y| (nats/token) or sums S (nats) over each answer. */
export type LogpScale = 'avg' | 'sum';
/** Loss as logged, divided by each run's first-step loss, or one small chart per run. */
export type LossView = 'raw' | 'normalised' | 'per-run';

export interface PanelOptions {
  scale?: LogpScale;
  loss?: LossView;
  log?: boolean;
}

export interface ChartViewSlice {
  /** Chart id → its options (absent: defaults). */
  panels: Record<string, PanelOptions>;
  /** Run ids left out of every chart. */
  hiddenRuns: string[];
  /** The run drawn on top, the others dimmed; null: none. */
  highlightRun: string | null;
  /** Step under the pointer on any chart (every chart shows its values there); null: none. */
  cursorStep: number | null;
  setPanel(id: string, patch: PanelOptions): void;
  toggleRunHidden(id: string): void;
  showAllRuns(): void;
  /** Highlights `id`, or clears the highlight when it is already highlighted (or null). */
  toggleHighlight(id: string | null): void;
  setCursorStep(step: number | null): void;
}

export const createChartViewSlice: StateCreator<AppState, [], [], ChartViewSlice> = (set, get) => ({
  panels: {},
  hiddenRuns: [],
  highlightRun: null,
  cursorStep: null,
  setPanel(id, patch) {
    set((s) => ({ panels: { ...s.panels, [id]: { ...s.panels[id], ...patch } } }));
  },
  toggleRunHidden(id) {
    set((s) => {
      const hidden = s.hiddenRuns.includes(id);
      return { hiddenRuns: hidden ? s.hiddenRuns.filter((r) => r !== id) : [...s.hiddenRuns, id], highlightRun: !hidden && s.highlightRun === id ? null : s.highlightRun };
    });
  },
  showAllRuns() {
    set({ hiddenRuns: [] });
  },
  toggleHighlight(id) {
    set({ highlightRun: id === null || get().highlightRun === id ? null : id });
  },
  setCursorStep(step) {
    if (get().cursorStep !== step) set({ cursorStep: step });
  },
});
