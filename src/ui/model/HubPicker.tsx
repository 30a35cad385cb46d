import { useEffect, useState, type ReactNode } from 'react';
import { useApp } from '../../store';
import { memoryEstimate, memorySavings, runMemoryEstimate, settingsMemoryOptions } from '../../store/memory';
import { methodLabel, objectiveOf } from '../../store/presets';
import { resolveLengths } from '../../data/tokenize';
import { downloadProgressText, formatBytes as hubBytes } from '../../hub/progress';
import { DEFAULT_ENDPOINT } from '../../hub/snapshot';
import type { CachedModel } from '../../worker/protocol';
import { formatBytes } from '../data/DataPanel';
import { CURATED_MODELS, curatedParams, curatedPositions, hubHost, readHubInput, shortCount, type CuratedModel } from './hub-models';

const list = { listStyle: 'none', padding: 0, margin: '4px 0', display: 'grid', gap: 6 } as const;
const item = { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: '2px 10px', borderBottom: '1px solid #eef0f5', paddingBottom: 4 } as const;
const wrap = { overflowWrap: 'anywhere', minWidth: 0 } as const;

/** The id a cached model loads by: its repository, at the revision it was fetched for when not main. */
function cachedId(m: CachedModel): string {
  const revs = (m.snapshots.find((s) => s.complete) ?? m.snapshots[0])?.revisions ?? [];
  return revs.length && !revs.includes('main') ? `${m.repo}@${revs[0]}` : m.repo;
}

// Models from the Hugging Face Hub (README.md): a curated list and a free-text id, the host a
// download contacts named before anything is sent, progress with Cancel, a token field for gated
// models (this tab's memory only), and the browser's cache with sizes and Delete.
export function HubPicker() {
  const hub = useApp((s) => s.hub);
  const ref = useApp((s) => s.model.ref);
  const loadModel = useApp((s) => s.loadModel);
  const setHubToken = useApp((s) => s.setHubToken);
  const cancel = useApp((s) => s.cancelHubDownload);
  const refresh = useApp((s) => s.refreshHubCache);
  const remove = useApp((s) => s.deleteHubModel);
  const batchSize = useApp((s) => s.settings.batchSize);
  const maxLength = useApp((s) => s.settings.maxLength);
  const optimizer = useApp((s) => s.settings.optimizer);
  const momentsDtype = useApp((s) => s.settings.momentsDtype);
  const activationsDtype = useApp((s) => s.settings.activationsDtype);
  const lora = useApp((s) => s.settings.lora);
  const baseDtype = useApp((s) => s.settings.baseDtype);
  const checkpointActivations = useApp((s) => s.settings.checkpointActivations);
  const gradAccum = useApp((s) => s.settings.gradAccum);
  const maxPromptLength = useApp((s) => s.settings.maxPromptLength);
  const cards = useApp((s) => s.cards);
  const [text, setText] = useState(ref?.kind === 'hub' ? ref.id : '');
  const [problem, setProblem] = useState<string | null>(null);
  const [tokenOpen, setTokenOpen] = useState(false);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const host = hubHost(hub.endpoint);
  const d = hub.download;
  const err = hub.error;
  const showToken = tokenOpen || !!hub.token || err?.kind === 'auth';
  const cached = new Map((hub.cache?.models ?? []).map((m) => [m.repo, m]));
  const fetchId = (id: string) => {
    setProblem(null);
    void loadModel({ kind: 'hub', id });
  };
  const submit = () => {
    const r = readHubInput(text, hub.endpoint);
    if ('problem' in r) return setProblem(r.problem);
    setText(r.id);
    fetchId(r.id);
  };
  const memory = (m: CuratedModel) => {
    const T = Math.min(maxLength ?? resolveLengths(curatedPositions(m)).maxLength, curatedPositions(m));
    // a LoRA run's base defaults to the dtype the model is published in
    const opts = settingsMemoryOptions(m.config, { lora, baseDtype, checkpointActivations }, m.dtype);
    const pair = memoryEstimate(m.config, batchSize, T, optimizer, momentsDtype, activationsDtype, opts).perRun;
    // the comparison's largest run: an online card (GRPO, RLOO, PPO) also holds a reference, the generation cache, reward and value models
    let bytes = pair;
    let method: string | null = null;
    for (const card of cards) {
      try {
        const est = runMemoryEstimate(m.config, { batchSize, gradAccum, optimizer, momentsDtype, activationsDtype, maxLength: T, maxPromptLength }, objectiveOf(card), opts);
        if (est.online && est.perRun > bytes) [bytes, method] = [est.perRun, methodLabel(card.method)];
      } catch {
        // invalid card options: its card says why
      }
    }
    return { bytes, method, T, lora: opts.lora ? memorySavings(m.config, batchSize, T, optimizer, momentsDtype, activationsDtype, opts).lora : 0 };
  };
  const state = (repo: string): ReactNode => {
    const c = cached.get(repo);
    if (!c) return null;
    return c.complete ? <span className="chip">in this browser</span> : <span className="chip">{hubBytes(c.bytes)} downloaded, continues</span>;
  };

  return (
    <section aria-labelledby="hub-h">
      <h3 id="hub-h">From the Hugging Face Hub</h3>
      <p className="notice warn" data-testid="hub-host" style={wrap}>
        Downloads contact <strong>{host}</strong> ({hub.endpoint}), and only when you press Download, or Load on a model cached from there: the model’s file list and files (large files may come from the storage servers it redirects to), nothing about you or your data. Load of a cached model asks for its revision’s commit and downloads the newer snapshot if the revision moved on; restoring the last model after a reload asks nothing. Nothing else
        leaves this page.
        {hub.endpoint !== DEFAULT_ENDPOINT && ` This address set the host (hub= in the URL); the usual one is ${hubHost(DEFAULT_ENDPOINT)}.`}
      </p>
      <ul aria-label="Suggested Hub models" style={list}>
        {CURATED_MODELS.map((m) => {
          const mem = memory(m);
          return (
            <li key={m.id} style={item}>
              <strong style={wrap}>{m.id}</strong>
              <span className="muted">
                {m.about} · {shortCount(curatedParams(m))} parameters · {hubBytes(m.downloadBytes)} download ({m.dtype}) · ≈ {formatBytes(mem.bytes)} GPU memory per run{mem.method ? ` (${mem.method}, the largest)` : ''} at {batchSize} × {mem.T} tokens{mem.lora > 0 ? ` with LoRA (${formatBytes(mem.lora)} less than full fine-tuning)` : ''}
              </span>
              {state(m.id)}
              <button type="button" disabled={!!d} aria-label={`${cached.get(m.id)?.complete ? 'Load' : 'Download'} ${m.id}`} onClick={() => fetchId(m.id)}>
                {cached.get(m.id)?.complete ? 'Load' : 'Download'}
              </button>
            </li>
          );
        })}
      </ul>
      <div className="row">
        <label style={{ flex: '1 1 220px', display: 'flex', gap: 6, alignItems: 'center', minWidth: 0 }}>
          Hub model id
          <input
            type="text"
            value={text}
            placeholder="ORG/NAME or ORG/NAME@REVISION"
            spellCheck={false}
            autoComplete="off"
            aria-invalid={problem ? 'true' : undefined}
            style={{ flex: 1, minWidth: 0 }}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && !d && submit()}
          />
        </label>
        <button type="button" disabled={!!d} onClick={submit}>
          Download from {host}
        </button>
        {!showToken && (
          <button type="button" className="link" onClick={() => setTokenOpen(true)}>
            Use an access token
          </button>
        )}
      </div>
      {problem && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {d && (
        <div role="group" aria-label="Download" className="notice">
          <p style={{ margin: '0 0 4px', ...wrap }}>
            {d.phase === 'loading' ? `Reading the weights of ${d.id}…` : `Downloading ${d.id} from ${host}`}
            {d.resumedFrom !== null && d.phase !== 'loading' ? ` — continuing an interrupted download from ${hubBytes(d.resumedFrom)}` : ''}
          </p>
          <div className="row" style={{ margin: 0 }}>
            <progress aria-label="Download progress" style={{ flex: '1 1 160px' }} {...(d.progress?.total ? { value: d.progress.done, max: d.progress.total } : {})} />
            <button type="button" onClick={() => void cancel()}>
              Cancel download
            </button>
          </div>
          <p role="status" data-testid="download-status" className="muted" style={{ margin: '4px 0 0', ...wrap }}>
            {d.progress ? downloadProgressText(d.progress) : d.phase === 'starting' ? `Looking in the browser’s cache, then asking ${host} for the file list…` : ''}
          </p>
        </div>
      )}
      {err && <HubErrorView error={err} host={host} />}
      {showToken && (
        <div className="row">
          <label style={{ display: 'flex', gap: 6, alignItems: 'center', flex: '1 1 220px', minWidth: 0 }}>
            Access token
            <input type="password" value={hub.token} autoComplete="off" spellCheck={false} placeholder="hf_…" style={{ flex: 1, minWidth: 0 }} onChange={(e) => setHubToken(e.target.value)} />
          </label>
          {hub.token && (
            <button type="button" onClick={() => setHubToken('')}>
              Forget the token
            </button>
          )}
          <span className="muted" style={{ flexBasis: '100%' }}>
            For gated or private models. Kept in this tab’s memory only — never saved, never put in the address — and sent only to {host}, with the downloads.
          </span>
        </div>
      )}
      {hub.notice && (
        <p className="notice warn" role="status" data-testid="hub-notice">
          {hub.notice}
        </p>
      )}
      <h3>Cached models</h3>
      {hub.cache && !hub.cache.models.length && <p className="muted">None: downloaded models are kept in this browser and load again without the network.</p>}
      {!!hub.cache?.models.length && (
        <ul aria-label="Cached models" style={list}>
          {hub.cache.models.map((m) => (
            <li key={m.repo} style={item}>
              <strong style={wrap}>{m.repo}</strong>
              <span data-testid="cached-size">{hubBytes(m.bytes)}</span>
              <span className="muted">{m.complete ? 'complete' : 'download interrupted: Download continues it'}</span>
              <button type="button" disabled={!!d} aria-label={`${m.complete ? 'Load' : 'Continue downloading'} ${m.repo}`} onClick={() => fetchId(cachedId(m))}>
                {m.complete ? 'Load' : 'Continue'}
              </button>
              <button type="button" disabled={d?.id.split('@')[0] === m.repo} aria-label={`Delete ${m.repo}`} onClick={() => void remove(m.repo)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      {hub.cache && (
        <p className="muted">
          {hub.cache.usage !== null && hub.cache.quota !== null ? `This site uses ${hubBytes(hub.cache.usage)} of the ${hubBytes(hub.cache.quota)} the browser allows it. ` : ''}
          {hub.cache.persistent ? '' : 'This browser offers no private file system here: downloads last until the tab closes.'}
        </p>
      )}
    </section>
  );
}

function HubErrorView({ error, host }: { error: { id: string; kind: string; message: string }; host: string }) {
  const lead: Record<string, ReactNode> = {
    auth: (
      <>
        <strong>{error.id} needs an access token.</strong> It is gated (its authors ask you to accept terms first) or private. Sign in on {host}, accept the terms on the model’s page, create an access token (Settings → Access Tokens, read access), paste it below and
        press Download again.
      </>
    ),
    'not-found': (
      <>
        <strong>
          {host} has no model {error.id}.
        </strong>{' '}
        Check the spelling — ORG/NAME exactly as in the model’s address — and the revision after @.
      </>
    ),
    quota: <strong>The browser’s storage for this page is full.</strong>,
    network: (
      <>
        <strong>{host} could not be reached, or the download kept breaking off.</strong> What arrived is kept: Download again continues from there.
      </>
    ),
    id: <strong>That is not a Hub model id.</strong>,
    unsupported: <strong>{error.id} has nothing this page can load.</strong>,
    offline: <strong>{error.id} is not in this browser’s cache.</strong>,
  };
  return (
    <div className="notice error" role="alert" data-testid="hub-error" style={wrap}>
      <p style={{ margin: 0 }}>{lead[error.kind] ?? <strong>{error.id} could not be loaded.</strong>}</p>
      <p style={{ margin: '4px 0 0' }}>{error.message}</p>
    </div>
  );
}
