// Whether a saved comparison's Hub model is still the weights it ran on. A Hub model is saved as
// ORG/NAME[@REVISION] (./model.ts ModelRef); a branch such as main moves on when the repository
// gets a new commit, and a Load then downloads the new snapshot: the same ref, other base weights.
// The comparison records the commit it started from (SessionView.modelCommit, from
// ModelInfo.commit) and Resume, or anything else rebuilt from the saved comparison, refuses another
// commit, saying which two and how to get the old weights back (ORG/NAME@COMMIT pins them).
// Pure (no store, no build assets): ./runs.ts and src/ui/saved-session.ts use it, unit tests too.
import { HUB_PREFIX, parseHubId } from '../hub/id';
import type { ModelInfo } from '../worker/protocol';
import type { ModelRef } from './model';

/** What a saved comparison says of its model. */
export interface SavedModel {
  modelRef: ModelRef;
  /** The Hub snapshot's commit it ran on; absent: not a Hub model, or saved before commits were. */
  modelCommit?: string;
}

/** The repository of a Hub ref's id (`ORG/NAME[@REVISION]`), or null when the id does not parse. */
export function repoOf(ref: ModelRef | null): { repo: string; revision: string } | null {
  if (ref?.kind !== 'hub') return null;
  try {
    const id = parseHubId(ref.id.startsWith(HUB_PREFIX) ? ref.id : HUB_PREFIX + ref.id);
    return { repo: id.repo, revision: id.revision };
  } catch {
    return null;
  }
}

/**
 * The Hub commit of the loaded model against the saved comparison's. null: this check does not
 * decide (not a Hub model on both sides, other repositories, no commit recorded): the refs must
 * then be the same (sameModel). 'same': the repository at the commit it ran on, whatever the ref
 * says (the branch, or ORG/NAME@COMMIT pinned). Else `{ moved }`: what to tell the user — both
 * commits (12 characters) and the id that loads the old one (the full commit: a revision the Hub
 * resolves and the cache serves without asking).
 */
export function hubCommitCheck(saved: SavedModel, loaded: { ref: ModelRef | null; info: Pick<ModelInfo, 'commit'> | null }): null | 'same' | { moved: string } {
  const was = repoOf(saved.modelRef);
  const now = repoOf(loaded.ref);
  const commit = loaded.info?.commit;
  if (!was || !now || was.repo !== now.repo || !saved.modelCommit || !commit) return null;
  if (commit === saved.modelCommit) return 'same';
  const short = (c: string) => c.slice(0, 12);
  const why = saved.modelRef.kind === 'hub' && loaded.ref?.kind === 'hub' && saved.modelRef.id === loaded.ref.id ? ` (its revision ${now.revision} moved on since)` : '';
  return {
    moved: `this comparison ran on ${was.repo} at commit ${short(saved.modelCommit)}, and the model loaded now is at commit ${short(commit)}${why}: its runs would go on from other base weights. Load ${was.repo}@${saved.modelCommit} (Model tab), the model pinned at the commit it ran on`,
  };
}
