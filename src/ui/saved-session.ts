// The comparison the page saved, as the engine's SessionSpec: after a reload the engine holds no
// session, yet finished runs still generate samples and export TRL scripts from it (their weights
// are their last resume snapshots in IndexedDB).
import type { AppState } from '../store';
import { runSpecs } from '../store/runs';
import { dataFileName } from '../store/data';
import { sameModel } from '../store/model';
import { sameAdapter } from '../store/adapter';
import { hubCommitCheck } from '../store/model-commit';
import type { SessionSpec } from '../worker/protocol';

/** The saved comparison's spec, or undefined while the engine holds it live; throws what to do when the data or model changed. */
export function savedSessionSpec(s: Pick<AppState, 'session' | 'model' | 'data' | 'adapter'>): SessionSpec | undefined {
  const { session, model, data, adapter } = s;
  if (!session || session.live) return undefined;
  // a Hub model: its commit decides (the branch may have moved on; ORG/NAME@COMMIT is the same weights)
  const commit = model.status === 'ready' ? hubCommitCheck(session, model) : null;
  if (commit !== null && commit !== 'same') throw new Error(commit.moved);
  if (model.status !== 'ready' || (commit !== 'same' && !sameModel(session.modelRef, model.ref))) throw new Error('the model changed since this comparison ran (or is still loading): load the same model again (Model tab)');
  if (!data.blob || !data.source || data.source.name !== session.data.name || data.source.size !== session.data.size)
    throw new Error(`the data changed since this comparison ran: load ${session.data.name} again (Data tab)`);
  // the imported adapter the runs started from (their starting weights, a LoRA run's base)
  if (adapter.status === 'loading') throw new Error('the imported adapter is still being read (Model tab): try again in a moment');
  if (!sameAdapter(session.adapter, adapter.info)) throw new Error(session.adapter ? `the imported adapter changed since this comparison ran: import ${session.adapter.name} again (Model tab)` : 'an adapter was imported since this comparison ran: remove it (Model tab)');
  return { sessionId: session.id, runs: runSpecs(session.cards), settings: session.settings, data: { file: data.blob, name: dataFileName(data.source), format: data.format }, ...(adapter.source ? { adapter: adapter.source } : {}), resume: true };
}
