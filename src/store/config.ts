// The methods slice: method cards (one run each), the preset they came from, the shared
// training settings and the charts' smoothing. The URL and IndexedDB follow it (./sync.ts).
import type { StateCreator } from 'zustand';
import type { TrainSettings } from '../worker/protocol';
import type { AppState } from './index';
import { DEFAULT_METHOD_PRESET, METHOD_PRESETS, newCard, type MethodCard, type MethodPresetId, withValues } from './presets';
import type { Method, OptionValue } from '../train/objectives';
import { applySettings, DEFAULT_SETTINGS, type Refusal } from './settings';

export interface ConfigSlice {
  preset: MethodPresetId | 'custom';
  cards: MethodCard[];
  settings: TrainSettings;
  /** EMA weight of the charts' train curves (0: raw). */
  smoothing: number;
  /** Parts of the URL's configuration that could not be used, in words. */
  urlProblems: string[];
  applyPreset(id: MethodPresetId): void;
  /** Changes option values of one card (the id stays: runs and charts keep their colour); not while its run trains (cardLocked). */
  updateCard(id: string, values: Record<string, OptionValue>): void;
  addCard(method: Method): void;
  removeCard(id: string): void;
  /**
   * Applies the values the validator accepts (with the loaded model and data) and returns the
   * refused ones, which keep their last valid value: an invalid setting is never stored.
   */
  updateSettings(patch: Partial<TrainSettings>): Refusal[];
  setSmoothing(v: number): void;
}

/** Ids stay unique: a second card with the same values gets a suffix. */
export function uniqueIds(cards: MethodCard[]): MethodCard[] {
  const seen = new Set<string>();
  return cards.map((c) => {
    let id = c.id;
    for (let k = 2; seen.has(id); k++) id = `${c.id}-${k}`;
    seen.add(id);
    return id === c.id ? c : { ...c, id };
  });
}

export const createConfigSlice: StateCreator<AppState, [], [], ConfigSlice> = (set, get) => ({
  preset: DEFAULT_METHOD_PRESET,
  cards: METHOD_PRESETS[DEFAULT_METHOD_PRESET].cards(),
  settings: DEFAULT_SETTINGS,
  smoothing: 0,
  urlProblems: [],
  applyPreset(id) {
    set({ preset: id, cards: METHOD_PRESETS[id].cards() });
  },
  updateCard(id, values) {
    if (cardLocked(get(), id)) return;
    set((s) => ({ preset: 'custom', cards: s.cards.map((c) => (c.id === id ? withValues(c, values) : c)) }));
  },
  addCard(method) {
    set((s) => ({ preset: 'custom', cards: uniqueIds([...s.cards, newCard(method)]) }));
  },
  removeCard(id) {
    if (cardLocked(get(), id)) return;
    set((s) => ({ preset: 'custom', cards: s.cards.filter((c) => c.id !== id) }));
  },
  updateSettings(patch) {
    const { settings: before, model, data } = get();
    const { settings, refused } = applySettings(before, patch, { nPositions: model.info?.nPositions, examples: data.result?.report.accepted });
    if (refused.length === Object.keys(patch).length) return refused;
    set({ settings });
    if (settings.maxLength !== before.maxLength || settings.maxPromptLength !== before.maxPromptLength) void get().inspectData();
    return refused;
  },
  setSmoothing(v) {
    set({ smoothing: v });
  },
});

/** A card is locked while its run trains: its values are what that run is training with. */
export function cardLocked(s: Pick<AppState, 'session' | 'runs'>, id: string): boolean {
  return s.session?.live === true && s.runs.some((r) => r.id === id && ['queued', 'preparing', 'running'].includes(r.status));
}
