// The engine worker's side of Hub models (README.md, "Models from the Hugging Face Hub"): one
// download at a time into the browser's cache (OPFS, src/hub/cache-web.ts), its progress as
// throttled 'download' events, cancel, the cache's listing and deletion, and errors the page
// can act on (named HubError:KIND across the worker boundary). Tokens arrive with each source
// and are never stored here.
import { cacheTotals, hasOpfs, isQuotaError, memoryWebHubStorage, opfsHubStorage, quotaMessage, type WebHubStorage } from '../hub/cache-web';
import { HubError } from '../hub/errors';
import { HubIdError } from '../hub/id';
import type { DownloadProgress } from '../hub/snapshot';
import type { LoadedModel } from '../model/family-checkpoint';
import type { ParamLimits } from '../model/config';
import { hubIdOf, loadModelSource } from './model-source';
import { HUB_ERROR_NAME, type EngineEvent, type HubCacheView, type ModelInfo, type ModelSource } from './protocol';

/** At most one progress event per this many ms (the emitter batches them further). */
const PROGRESS_MS = 100;

type HubSource = Extract<ModelSource, { kind: 'hub' }>;

export class HubLoads {
  private current: { controller: AbortController; repo: string | null; run: Promise<unknown> } | null = null;

  /** `store`: the cache (tests pass one; default OPFS, created on first use). */
  constructor(
    private emit: (ev: EngineEvent) => void,
    private store: WebHubStorage | null = null,
  ) {}

  /** The cache: OPFS, or memory for this tab's life where the browser has no OPFS. */
  storage(): WebHubStorage {
    return (this.store ??= hasOpfs() ? opfsHubStorage() : memoryWebHubStorage());
  }

  /** Loads a Hub model (cancelling a download still running); errors are named HubError:KIND. */
  async load(src: HubSource, limits: ParamLimits | null): Promise<{ ckpt: LoadedModel; info: ModelInfo }> {
    await this.cancel();
    const controller = new AbortController();
    let last: DownloadProgress | null = null;
    let resumedFrom: number | null = null;
    let sent = 0;
    const send = (phase: 'downloading' | 'loading', force: boolean) => {
      const now = Date.now();
      if (!force && now - sent < PROGRESS_MS) return;
      sent = now;
      this.emit({ type: 'download', id: src.id, phase, progress: last, resumedFrom });
    };
    let repo: string | null = null;
    try {
      repo = hubIdOf(src.id).repo;
    } catch {
      // loadModelSource says what is wrong with the id
    }
    const run = loadModelSource(src, limits, {
      storage: this.storage(),
      signal: controller.signal,
      onProgress: (p) => {
        last = p;
        send('downloading', p.fileDone === p.fileTotal);
      },
      onResume: (_file, offset) => {
        resumedFrom = offset;
      },
      onLoading: () => send('loading', true),
    });
    const mine = { controller, repo, run };
    this.current = mine;
    try {
      return await run;
    } catch (e) {
      throw await this.pageError(e, src, last);
    } finally {
      if (this.current === mine) this.current = null;
    }
  }

  /** Cancels the download in progress and waits until it has let go of its files. */
  async cancel(): Promise<void> {
    const c = this.current;
    if (!c) return;
    c.controller.abort(new DOMException('download cancelled', 'AbortError'));
    await c.run.catch(() => undefined);
  }

  async cache(): Promise<HubCacheView> {
    const models = await this.storage().list();
    const est = typeof navigator === 'undefined' ? null : await navigator.storage?.estimate?.().catch(() => null);
    return { models, usage: est?.usage ?? null, quota: est?.quota ?? null, persistent: hasOpfs() };
  }

  async remove(repo: string): Promise<HubCacheView> {
    if (this.current && this.current.repo === repo) await this.cancel();
    await this.storage().remove(repo);
    return this.cache();
  }

  /** An Error the page can read after comlink (name HubError:KIND), with the quota message spelled out. */
  private async pageError(e: unknown, src: HubSource, last: DownloadProgress | null): Promise<unknown> {
    let kind: string;
    let message = (e as Error)?.message ?? String(e);
    if (e instanceof HubError) kind = e.kind;
    else if (e instanceof HubIdError) kind = 'id';
    else if (isQuotaError(e)) kind = 'quota';
    else return e;
    if (kind === 'quota') {
      const models = await this.storage().list().catch(() => []);
      message = quotaMessage(src.id, last?.total ?? null, cacheTotals(models));
    }
    const err = new Error(message);
    err.name = HUB_ERROR_NAME + kind;
    return err;
  }
}
