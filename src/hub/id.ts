// Model ids of the Hugging Face Hub as PrefPlay takes them: `hf:ORG/NAME[@REVISION]`, e.g.
// `hf:HuggingFaceTB/SmolLM2-135M-Instruct` or `hf:openai-community/gpt2@main`. Pure; used by the
// CLI (`--model hf:…`) and, later, the page's model picker.

export const HUB_PREFIX = 'hf:';
export const DEFAULT_REVISION = 'main';

export interface HubModelId {
  /** `ORG/NAME`, as in the Hub's URLs. */
  repo: string;
  org: string;
  name: string;
  /** A branch, tag or commit hash (`main` when the id names none). */
  revision: string;
}

export class HubIdError extends Error {
  override name = 'HubIdError';
}

/** Whether a model argument is meant as a Hub id (starts with `hf:`), well formed or not. */
export function isHubId(s: string): boolean {
  return s.startsWith(HUB_PREFIX);
}

// The Hub's own rule for a namespace or repository name: letters, digits, '-', '_', '.', at most
// 96 characters, not starting or ending with '-' or '.', no '--' or '..'.
const NAME_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$/;
// A branch, tag or commit: git ref characters; slashes allowed (refs/pr/1), no '..', no empty part.
const REVISION_RE = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;

function checkName(part: string, what: string, id: string): void {
  if (!NAME_RE.test(part) || part.includes('--') || part.includes('..')) {
    throw new HubIdError(`"${id}": ${what} "${part}" is not a Hub name (letters, digits, '-', '_', '.', up to 96 characters, not starting or ending with '-' or '.')`);
  }
}

const EXAMPLE = 'hf:ORG/NAME or hf:ORG/NAME@REVISION, e.g. hf:HuggingFaceTB/SmolLM2-135M-Instruct';

/** Parses `hf:ORG/NAME[@REVISION]`; a malformed id throws a HubIdError saying what is wrong. */
export function parseHubId(id: string): HubModelId {
  if (!isHubId(id)) throw new HubIdError(`"${id}" is not a Hub model id: expected ${EXAMPLE}`);
  const body = id.slice(HUB_PREFIX.length);
  if (!body) throw new HubIdError(`"${id}": no model named after hf: (expected ${EXAMPLE})`);
  const at = body.indexOf('@');
  const repo = at < 0 ? body : body.slice(0, at);
  const revision = at < 0 ? DEFAULT_REVISION : body.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    const hint = parts.length === 1 && parts[0] ? ` (models without an organisation moved under one: hf:gpt2 is hf:openai-community/gpt2)` : '';
    throw new HubIdError(`"${id}": expected ${EXAMPLE}${hint}`);
  }
  const [org, name] = parts;
  checkName(org, 'organisation', id);
  checkName(name, 'model name', id);
  if (at >= 0 && !revision) throw new HubIdError(`"${id}": empty revision after @ (a branch, tag or commit hash, e.g. @main)`);
  if (revision.length > 256 || !REVISION_RE.test(revision) || revision.split('/').some((p) => p === '.' || p === '..' || p.endsWith('.lock')) || revision.includes('..')) {
    throw new HubIdError(`"${id}": "${revision.slice(0, 80)}" is not a revision (a branch, tag or commit hash: letters, digits, '-', '_', '.', '/')`);
  }
  return { repo, org, name, revision };
}

/** The id back as text, `hf:ORG/NAME` (the revision only when it is not main). */
export function formatHubId(id: HubModelId): string {
  return `${HUB_PREFIX}${id.repo}${id.revision === DEFAULT_REVISION ? '' : `@${id.revision}`}`;
}

/** A full 40-character commit hash (a revision that cannot move). */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}
