// One file from the Hub into a HubStorage, with fetch only (Node 20+ and browsers alike): the
// body is streamed into the storage's partial file, an interrupted download continues from its
// kept bytes with an HTTP Range request (on the next try here, or on the next run), and the
// final size must equal the listing's size (or the server's Content-Length / Content-Range).
import { causeText, fetchFailure, HubError, httpError, type ErrorContext } from './errors';
import type { HubStorage, SnapshotKey } from './storage';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface FileDownload {
  url: string;
  storage: HubStorage;
  key: SnapshotKey;
  path: string;
  /** Expected size from the listing; null: trust Content-Length / Content-Range. */
  size: number | null;
  /** Authorization and the like. */
  headers: Record<string, string>;
  fetch: FetchLike;
  signal?: AbortSignal;
  /** Further tries after an interruption or a 5xx, each continuing where the last stopped. */
  retries: number;
  /** A missing file (404) is not an error: the result is null. */
  optional?: boolean;
  ctx: ErrorContext;
  /** `have`: bytes of the file held now (kept partial included); `fetched`: new bytes since the last call. */
  onBytes?: (have: number, total: number | null, fetched: number) => void;
  /** Told of each request that continues a partial download (offset in bytes). */
  onResume?: (offset: number) => void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res, rej) => {
    if (signal?.aborted) return rej(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      rej(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** `bytes START-END/TOTAL` → [START, TOTAL (null for *)], or null when malformed. */
export function parseContentRange(v: string | null): [number, number | null] | null {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim()) : null;
  return m ? [Number(m[1]), m[3] === '*' ? null : Number(m[3])] : null;
}

/** Downloads (or finishes) one file; resolves to its size, or null for a missing optional file. */
export async function downloadFile(d: FileDownload): Promise<number | null> {
  const { storage, key, path, ctx } = d;
  const what = `${path} of ${ctx.label}`;
  let last: HubError | null = null;
  for (let attempt = 0; attempt <= d.retries; attempt++) {
    if (attempt > 0) {
      try {
        await sleep(Math.min(2000, 200 * 2 ** (attempt - 1)), d.signal);
      } catch (e) {
        throw fetchFailure(e, d.signal, what, ctx.endpoint);
      }
    }
    let have = await storage.partialSize(key, path);
    if (d.size !== null && have > d.size) {
      await storage.dropPartial(key, path);
      have = 0;
    }
    if (have > 0 && have === d.size) {
      // every byte was in before the last run stopped
      await storage.completePartial(key, path);
      return have;
    }
    const headers: Record<string, string> = { ...d.headers };
    if (have > 0) {
      headers.Range = `bytes=${have}-`;
      d.onResume?.(have);
    }
    let res: Response;
    try {
      res = await d.fetch(d.url, { headers, signal: d.signal });
    } catch (e) {
      last = fetchFailure(e, d.signal, what, ctx.endpoint);
      if (last.kind === 'aborted') throw last;
      continue;
    }
    if (res.status === 416 && have > 0) {
      // the kept bytes do not fit the file (it changed): start again
      await res.body?.cancel().catch(() => {});
      await storage.dropPartial(key, path);
      last = new HubError('integrity', `${what}: the server refused to continue the interrupted download (HTTP 416)`, 416);
      continue;
    }
    if (res.status === 404 && d.optional) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      const err = httpError(res.status, res.headers.get('x-error-code'), { ...ctx, file: path });
      if (res.status >= 500) {
        last = err;
        continue;
      }
      throw err;
    }
    let start = 0;
    let total: number | null;
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || range[0] !== have) {
        // not the part asked for: keep nothing of it and fetch the whole file next time
        await res.body?.cancel().catch(() => {});
        await storage.dropPartial(key, path);
        last = new HubError('integrity', `${what}: the server sent bytes from ${range?.[0] ?? '?'} when asked to continue from ${have}`);
        continue;
      }
      start = have;
      total = range[1];
    } else {
      // a compressed body's Content-Length counts the compressed bytes, not the file's
      const len = res.headers.get('content-encoding') ? null : res.headers.get('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    }
    if (d.size !== null && total !== null && total !== d.size) {
      await res.body?.cancel().catch(() => {});
      throw new HubError('integrity', `${what}: the server sends ${total} bytes, the model's file list says ${d.size}`);
    }
    const expected = d.size ?? total;
    const writer = await storage.openPartial(key, path, start > 0);
    let done = start;
    let broken: unknown = null;
    try {
      if (!res.body) throw new Error('response without a body');
      const reader = res.body.getReader();
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        if (expected !== null && done + value.length > expected) throw new HubError('integrity', `${what}: the server sent more than the ${expected} bytes expected`);
        await writer.write(value);
        done += value.length;
        d.onBytes?.(done, expected, value.length);
      }
    } catch (e) {
      broken = e;
    } finally {
      await writer.close();
    }
    if (broken) {
      if (broken instanceof HubError) {
        await storage.dropPartial(key, path);
        throw broken;
      }
      if (d.signal?.aborted) throw fetchFailure(broken, d.signal, what, ctx.endpoint);
      last = new HubError('network', `${what}: the download broke off at ${done}${expected !== null ? ` of ${expected}` : ''} bytes (${causeText(broken)})`, null, { cause: broken });
      continue;
    }
    if (expected !== null && done < expected) {
      last = new HubError('network', `${what}: the download ended at ${done} of ${expected} bytes`);
      continue;
    }
    await storage.completePartial(key, path);
    return done;
  }
  const tries = d.retries + 1;
  throw new HubError(last?.kind ?? 'network', `${last?.message ?? what} — gave up after ${tries} ${tries === 1 ? 'try' : 'tries'}; what arrived is kept and the next run continues from it`, last?.status ?? null, { cause: last });
}
