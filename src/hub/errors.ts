// The one-line errors of Hub downloads, each with a kind a caller can act on (the page: offer a
// token field on 'auth', a retry on 'network'; the CLI prints the message).

export type HubErrorKind =
  /** 401/403: a gated or private model (or, without a token, one that does not exist). */
  | 'auth'
  /** 404: no such model, revision or file. */
  | 'not-found'
  /** The endpoint could not be reached, or a download kept breaking off. */
  | 'network'
  /** Offline mode and the model is not in the cache. */
  | 'offline'
  /** A file's size differs from what the listing or the server said. */
  | 'integrity'
  /** The repository holds nothing PrefPlay can load (no safetensors weights, a bad index). */
  | 'unsupported'
  /** Cancelled through the AbortSignal. */
  | 'aborted'
  /** The storage is full (the browser's quota for the page: QuotaExceededError). */
  | 'quota'
  /** Any other HTTP status. */
  | 'http';

export class HubError extends Error {
  override name = 'HubError';
  constructor(
    readonly kind: HubErrorKind,
    message: string,
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What an HTTP error message needs to say where it happened and what to do. */
export interface ErrorContext {
  /** `hf:ORG/NAME[@REV]`, as the user wrote it. */
  label: string;
  repo: string;
  revision: string;
  endpoint: string;
  /** The file asked for; none for the model listing. */
  file?: string;
  tokenGiven: boolean;
  /** How to pass a token here (CLI: the HF_TOKEN variable; the page: its token field). */
  tokenHint: string;
}

export const DEFAULT_TOKEN_HINT = 'pass a Hugging Face access token (sent as Authorization: Bearer)';

/** The one-line error of a failed HTTP response (401/403, 404, others). */
export function httpError(status: number, errorCode: string | null, ctx: ErrorContext): HubError {
  const where = ctx.file ? `${ctx.file} of ${ctx.label}` : ctx.label;
  if (status === 401 || status === 403) {
    const page = `${ctx.endpoint}/${ctx.repo}`;
    const msg = ctx.tokenGiven
      ? `${where}: the Hub refused the access token (HTTP ${status}): the model is gated or private and this token has no access to it, or the token is invalid — request access on ${page} with the token's account, or use another token`
      : `${where}: the Hub answered HTTP ${status}: the model is gated or private (or does not exist) and needs an access token — request access on ${page} if it is gated, then ${ctx.tokenHint}`;
    return new HubError('auth', msg, status);
  }
  if (status === 404) {
    let msg: string;
    if (errorCode === 'RepoNotFound') msg = `${ctx.label}: no model ${ctx.repo} on ${ctx.endpoint} (HTTP 404)`;
    else if (errorCode === 'RevisionNotFound') msg = `${ctx.label}: ${ctx.repo} has no revision "${ctx.revision}" (no such branch, tag or commit; HTTP 404)`;
    else if (ctx.file) msg = `${ctx.label}: no file ${ctx.file} in ${ctx.repo} at revision ${ctx.revision} (HTTP 404)`;
    else msg = `${ctx.label}: no model ${ctx.repo} with revision "${ctx.revision}" on ${ctx.endpoint} (HTTP 404)`;
    return new HubError('not-found', msg, status);
  }
  return new HubError('http', `${where}: ${ctx.endpoint} answered HTTP ${status}${errorCode ? ` (${errorCode})` : ''}`, status);
}

/** A failed fetch (no response): cancelled, or the endpoint unreachable. */
export function fetchFailure(e: unknown, signal: AbortSignal | undefined, what: string, endpoint: string): HubError {
  if (signal?.aborted || (e as Error)?.name === 'AbortError') return new HubError('aborted', `${what}: download cancelled`, null, { cause: e });
  return new HubError('network', `${what}: cannot reach ${endpoint} (${causeText(e)})`, null, { cause: e });
}

/** The short reason of a network error: Node's fetch hides it in `cause` (ECONNREFUSED, …). */
export function causeText(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}
