// `--model hf:ORG/NAME[@REVISION]` for the CLI: the model's snapshot folder in the Hugging Face
// cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), downloaded first when
// it is not complete there (progress lines on stderr, at most one a second). The environment
// follows Hugging Face's conventions: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN
// (sent as Authorization: Bearer; gated and private models), HF_HUB_OFFLINE=1 (cache only, no
// request). A cached snapshot of a branch is checked against the current commit on the server it
// was downloaded from (a newer one is downloaded beside it; the old snapshot stays, as with
// huggingface_hub), and used as it is, with one stderr line saying why, when the server cannot say
// (unreachable, an error, no answer within 10 s), wants a token HF_TOKEN does not give, or is not
// the HF_ENDPOINT of this run; one of a commit hash is used without asking. A snapshot whose
// manifest predates recorded endpoints counts as downloaded from this run's HF_ENDPOINT (set by the
// user, not by a link): it is checked there, and the manifest then records that endpoint.
import { downloadModel, downloadProgressText, formatBytes, formatHubId, HubError, HubIdError, normalizeEndpoint, parseHubId, type DownloadProgress } from '../hub/index';
import { hubCacheRoot, nodeHubStorage, snapshotDir } from '../hub/cache-node';
import { UsageError } from './command';

export const HUB_TOKEN_HINT = 'set HF_TOKEN to an access token of an account that has access (huggingface.co/settings/tokens; it is sent as Authorization: Bearer), e.g. HF_TOKEN=hf_… npm run cli -- …';

const truthy = (v: string | undefined) => !!v && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** The snapshot folder of a Hub model id (downloading it if needed); errors are one line naming `flag`. */
export async function hubModelDir(model: string, flag = '--model', env: Record<string, string | undefined> = process.env, log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  let id;
  try {
    id = parseHubId(model);
  } catch (e) {
    if (e instanceof HubIdError) throw new UsageError(`${flag} ${e.message}`, { cause: e });
    throw e;
  }
  const root = hubCacheRoot(env);
  const label = formatHubId(id);
  let endpoint: string;
  try {
    endpoint = normalizeEndpoint(env.HF_ENDPOINT);
  } catch (e) {
    throw new UsageError(`HF_ENDPOINT: ${(e as Error).message}`, { cause: e });
  }
  let lastLine = 0;
  let started = false;
  const progress = (p: DownloadProgress) => {
    const now = Date.now();
    if (!started) {
      started = true;
      log(`${label}: downloading from ${endpoint} into ${root}`);
    }
    const finished = p.total !== null && p.done >= p.total;
    if (now - lastLine >= 1000 || finished) {
      lastLine = now;
      log(`${label}: ${downloadProgressText(p)}`);
    }
  };
  try {
    const snap = await downloadModel(id, {
      storage: nodeHubStorage(root),
      endpoint,
      token: env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || null,
      tokenHint: HUB_TOKEN_HINT,
      offline: truthy(env.HF_HUB_OFFLINE),
      checkUnrecordedEndpoint: true,
      onProgress: progress,
      onResume: (file, offset) => log(`${label}: continuing ${file} from byte ${offset.toLocaleString('en-US')}`),
    });
    const dir = snapshotDir(root, snap.key);
    const why = snap.notice ?? snap.note;
    if (why) log(`${label}: using the cached snapshot ${snap.key.commit.slice(0, 12)} in ${dir}; ${why}`);
    if (snap.downloadedBytes > 0) log(`${label}: ${snap.files.length} files (${formatBytes(snap.files.reduce((a, f) => a + f.size, 0))}) in ${dir}`);
    return dir;
  } catch (e) {
    if (!(e instanceof HubError)) throw e;
    const msg = `${flag} ${e.message}`;
    // the model named cannot be had (bad name, no access, nothing loadable): a usage error, exit 2
    if (['auth', 'not-found', 'unsupported', 'offline'].includes(e.kind)) throw new UsageError(msg, { cause: e });
    throw new Error(msg, { cause: e });
  }
}
