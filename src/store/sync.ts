// Startup and persistence (README.md): restore settings, data, model, the last comparison and
// the runs history from IndexedDB, let the URL's configuration win, then keep the URL and IndexedDB in step.
import { useApp, type AppState } from './index';
import { applyUrlSettings, decodeConfig, encodeConfig } from './url';
import { applySettings, DEFAULT_SETTINGS } from './settings';
import { trainConfigProblems } from '../train/config';
import { cardFromSaved, cardProblems, METHOD_PRESETS, type MethodCard, type MethodPresetId } from './presets';
import { BUILTIN_SETS } from './assets';
import { defaultModelRef, type ModelRef } from './model';
import { loadBlob, loadKv, saveSoon } from './persist';
import { interrupted, type SavedSession } from './runs';
import { restoredHistory, type SavedHistory } from './history';
import type { DataSource } from './data';
import type { TrainSettings } from '../worker/protocol';

interface SavedConfig {
  preset: MethodPresetId | 'custom';
  cards: MethodCard[];
  settings: TrainSettings;
  smoothing: number;
}

export async function hydrate(): Promise<void> {
  const url = decodeConfig(location.search);
  let urlProblems = url.problems;
  const [config, dataRef, modelRef, saved, history] = await Promise.all([
    loadKv<SavedConfig>('config').catch(() => undefined),
    loadKv<DataSource>('data').catch(() => undefined),
    loadKv<ModelRef>('model').catch(() => undefined),
    loadKv<SavedSession | null>('session').catch(() => undefined),
    loadKv<SavedHistory>('history').catch(() => undefined),
  ]);
  // saved settings pass the validator too: a page before it was there could save junk (bs=99999)
  const savedSettings = applySettings(DEFAULT_SETTINGS, config?.settings ?? {}).settings;
  // a URL with runs= is a whole configuration (the page writes every setting that is not at its
  // default): read it over the defaults, so a shared link means the same for every visitor
  const fromUrl = applyUrlSettings(url.cards || url.hasRuns ? DEFAULT_SETTINGS : savedSettings, url.settings ?? {});
  urlProblems = [...urlProblems, ...fromUrl.problems];
  const settings = fromUrl.settings;
  // cards saved by an older page had their options beside the method: cardFromSaved reads both
  const savedCards = config?.cards?.map(cardFromSaved).filter((c): c is MethodCard => c !== null);
  const cards = url.cards ?? (savedCards?.length ? savedCards : undefined);
  useApp.setState({
    settings,
    ...(cards ? { cards, preset: matchPreset(cards) } : {}),
    smoothing: config?.smoothing ?? 0,
  });
  if (saved?.session) useApp.setState(interrupted(saved));
  if (history?.entries?.length) useApp.setState(restoredHistory(history));

  // hub=: where Hub models download from (the URL's only; never saved)
  if (url.hub) useApp.setState((s) => ({ hub: { ...s.hub, endpoint: url.hub! } }));
  const st = useApp.getState();
  // the imported PEFT adapter once its model is back (it is checked against it)
  void st
    .restoreModel(modelRef ?? defaultModelRef())
    .then(() => useApp.getState().restoreAdapter())
    .catch((e: unknown) => console.warn(`the model or the imported adapter could not be restored: ${(e as Error).message}`));
  const wanted = url.dataset;
  if (wanted && BUILTIN_SETS.some((d) => d.name === wanted)) {
    void st.chooseBuiltinSet(wanted);
  } else if (dataRef) {
    const blob = await loadBlob('data').catch(() => undefined);
    if (blob) void st.setDataFile(blob, dataRef, false);
  } else if (BUILTIN_SETS.length) {
    void st.chooseBuiltinSet((BUILTIN_SETS.find((d) => d.name === 'seed-examples') ?? BUILTIN_SETS[0]).name);
  }
  if (wanted && !BUILTIN_SETS.some((d) => d.name === wanted) && wanted !== dataRef?.name) {
    urlProblems = [...urlProblems, `This link's data (${wanted}) was uploaded by whoever made it; upload the same file to reproduce the comparison.`];
  }
  useApp.setState({ urlProblems });
  if (url.settings?.maxLength != null || url.settings?.maxPromptLength != null) checkLengthsOnLoad(savedSettings);
  follow();
}

/**
 * The URL's max lengths against the model's n_positions, once the model has loaded (the URL is
 * read before): a length the model cannot take is refused like any other URL value, and the
 * saved or default one stays.
 */
function checkLengthsOnLoad(saved: TrainSettings): void {
  const check = (s: AppState): boolean => {
    if (s.model.status === 'error') return true;
    if (!s.model.info) return false;
    const lengths = { maxLength: s.settings.maxLength, maxPromptLength: s.settings.maxPromptLength };
    const base = { ...s.settings, maxLength: saved.maxLength, maxPromptLength: saved.maxPromptLength };
    const ctx = { nPositions: s.model.info.nPositions };
    let r = applyUrlSettings(base, lengths, ctx);
    // the saved lengths may not fit this model either: then the default (null) stays
    if (r.problems.length && trainConfigProblems({ ...r.settings, ...ctx }).some((p) => p.field === 'maxLength' || p.field === 'maxPromptLength')) {
      r = { ...applyUrlSettings({ ...base, maxLength: null, maxPromptLength: null }, lengths, ctx), problems: r.problems };
    }
    if (r.problems.length) useApp.setState({ settings: r.settings, urlProblems: [...s.urlProblems, ...r.problems] });
    return true;
  };
  if (check(useApp.getState())) return;
  const stop = useApp.subscribe((s) => {
    if (check(s)) stop();
  });
}

function matchPreset(cards: MethodCard[]): MethodPresetId | 'custom' {
  const key = (cs: MethodCard[]) => JSON.stringify(cs.map(({ id: _id, ...c }) => c));
  for (const [id, p] of Object.entries(METHOD_PRESETS)) if (key(p.cards()) === key(cards)) return id as MethodPresetId;
  return 'custom';
}

let following = false;

/** The URL and IndexedDB follow the configuration from now on. */
function follow(): void {
  if (following) return;
  following = true;
  // every way into the settings passes the validator (applySettings); this is the last guard
  let valid = useApp.getState().settings;
  const validSettings = (s: TrainSettings) => (trainConfigProblems(s).length ? valid : (valid = s));
  // a card with an out-of-range value shows the problem on the card; URL and IndexedDB keep its last valid values
  let validCards = useApp.getState().cards.filter((c) => !cardProblems(c).length);
  const cardsToKeep = (cards: MethodCard[]) => (cards.some((c) => cardProblems(c).length) ? validCards : (validCards = cards));
  const write = (s: AppState) => {
    const query = encodeConfig(cardsToKeep(s.cards), validSettings(s.settings), s.data.source?.name ?? null, s.hub.endpoint);
    if (query !== location.search) history.replaceState(null, '', query + location.hash);
    saveSoon('config', () => {
      const { preset, cards, settings, smoothing } = useApp.getState();
      return { preset, cards: cardsToKeep(cards), settings: validSettings(settings), smoothing } satisfies SavedConfig;
    });
  };
  write(useApp.getState());
  useApp.subscribe((s, prev) => {
    if (s.cards !== prev.cards || s.settings !== prev.settings || s.smoothing !== prev.smoothing || s.data.source !== prev.data.source) write(s);
  });
}
