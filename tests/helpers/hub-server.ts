// A local stand-in for the Hugging Face Hub, for tests (CLI and page): a node:http server on
// 127.0.0.1 and a random port that serves model folders it is given the way the Hub does —
//   GET|HEAD /{org}/{name}/resolve/{revision}/{file}   the file (Range → 206, Content-Length,
//            ETag, X-Repo-Commit, Accept-Ranges), revision a branch name or the commit hash
//   GET /api/models/{org}/{name}[/revision/{revision}]  { id, sha, siblings: [{ rfilename, size }] }
//   OPTIONS *                                         CORS preflight
// with the Hub's CORS headers (Access-Control-Allow-Origin *, exposed Content-Range,
// Content-Length, ETag, X-Repo-Commit, …) and its X-Error-Code on 404s (RepoNotFound,
// RevisionNotFound, EntryNotFound). Options: require a token (none → 401, another → 403), cut a
// file's response after N bytes (an interrupted download), list no files in the API (clients
// then probe), hold the API's answers back (a slow Hub), stop. Every request is recorded
// (method, path, Range, Authorization, status) as it arrives.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';

export interface HubServerOptions {
  /** `ORG/NAME` → a model folder (served as revision main), or revision name → folder. */
  models: Record<string, string | Record<string, string>>;
  /** Require `Authorization: Bearer <token>`: without one 401, with another 403 (a gated model). */
  token?: string | null;
  /** Break off the next `times` (default 1) responses for `file` after `afterBytes` body bytes. */
  cut?: { file: string; afterBytes: number; times?: number } | null;
  /** false: the API answers without a `siblings` list (default true). */
  listFiles?: boolean;
  /**
   * `ORG/NAME@REVISION` → the commit it resolves to instead of the default one: a branch that
   * moved on (change its folder in `models` too). The old commit then resolves no more.
   */
  commits?: Record<string, string>;
  /** Answer the API (model listing) requests only after this many ms (a slow Hub; 0: at once). */
  apiDelayMs?: number;
}

export interface HubRequest {
  method: string;
  /** The decoded path, without the query. */
  path: string;
  query: string;
  range: string | null;
  authorization: string | null;
  status: number;
}

export interface HubServer {
  /** `http://127.0.0.1:PORT`, for HF_ENDPOINT. */
  endpoint: string;
  port: number;
  requests: HubRequest[];
  /** Mutable: change the token or the cut between requests. */
  options: HubServerOptions;
  /** The commit hash a revision of a model resolves to (stable per repo and revision). */
  commitOf(repo: string, revision?: string): string;
  /** The requests for one file of the resolve endpoint. */
  fileRequests(file: string): HubRequest[];
  stop(): Promise<void>;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Range, Content-Length, Accept-Ranges, ETag, X-Repo-Commit, X-Linked-Size, X-Linked-ETag, X-Error-Code, X-Error-Message',
};

function listFolder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

export async function startHubServer(options: HubServerOptions): Promise<HubServer> {
  const requests: HubRequest[] = [];
  const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');
  const revisions = (repo: string): Record<string, string> | null => {
    const m = options.models[repo];
    return m === undefined ? null : typeof m === 'string' ? { main: m } : m;
  };
  const commitOf = (repo: string, revision = 'main') => options.commits?.[`${repo}@${revision}`] ?? sha1(`${repo}@${revision}`);
  /** The folder and commit of a revision (a branch name or a commit hash). */
  const lookup = (repo: string, revision: string): { dir: string; commit: string } | null => {
    const revs = revisions(repo) ?? {};
    if (revs[revision] !== undefined) return { dir: revs[revision], commit: commitOf(repo, revision) };
    for (const [name, dir] of Object.entries(revs)) if (commitOf(repo, name) === revision) return { dir, commit: revision };
    return null;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: HubRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.search, range: req.headers.range ?? null, authorization: req.headers.authorization ?? null, status: 0 };
    requests.push(rec);
    const delay = options.apiDelayMs ?? 0;
    if (delay > 0 && url.pathname.startsWith('/api/')) setTimeout(() => !res.destroyed && answer(req, res, url, rec), delay);
    else answer(req, res, url, rec);
  });
  const answer = (req: IncomingMessage, res: ServerResponse, url: URL, rec: HubRequest) => {
    const send = (status: number, headers: Record<string, string | number>, body?: string | Buffer) => {
      rec.status = status;
      res.writeHead(status, { ...CORS, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const error = (status: number, code: string | null, message: string) =>
      send(status, { 'Content-Type': 'application/json', ...(code ? { 'X-Error-Code': code } : {}), 'X-Error-Message': message }, JSON.stringify({ error: message }));

    if (req.method === 'OPTIONS') {
      return send(204, { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': 'Authorization, Range, Content-Type, Accept', 'Access-Control-Max-Age': '86400' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return error(405, null, 'method not allowed');
    // the path's segments, each decoded (a revision like refs/pr/1 arrives as one %2F-encoded segment)
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);

    let repo: string;
    let revision: string;
    let file: string | null = null;
    if (parts[0] === 'api' && parts[1] === 'models' && (parts.length === 4 || (parts.length === 6 && parts[4] === 'revision'))) {
      repo = `${parts[2]}/${parts[3]}`;
      revision = parts.length === 6 ? parts[5] : 'main';
    } else if (parts.length >= 5 && parts[2] === 'resolve') {
      repo = `${parts[0]}/${parts[1]}`;
      revision = parts[3];
      file = parts.slice(4).join('/');
    } else return error(404, null, 'not a Hub path');

    if (options.token) {
      const auth = req.headers.authorization;
      if (!auth) return error(401, 'GatedRepo', `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      if (auth !== `Bearer ${options.token}`) return error(403, 'GatedRepo', `Access to model ${repo} is restricted and you are not in the authorized list.`);
    }
    if (!revisions(repo)) return error(404, 'RepoNotFound', 'Repository not found');
    const found = lookup(repo, revision);
    if (!found) return error(404, 'RevisionNotFound', `Invalid rev id: ${revision}`);

    if (file === null) {
      const body = {
        _id: sha1(repo).slice(0, 24),
        id: repo,
        modelId: repo,
        sha: found.commit,
        private: false,
        gated: options.token ? 'manual' : false,
        ...(options.listFiles === false ? {} : { siblings: listFolder(found.dir).map((f) => ({ rfilename: f, size: statSync(join(found.dir, f)).size, blobId: sha1(readFileSync(join(found.dir, f))) })) }),
      };
      return send(200, { 'Content-Type': 'application/json' }, JSON.stringify(body));
    }

    if (file.split('/').some((p) => p === '..' || p === '.' || p === '') || !listFolder(found.dir).includes(file)) return error(404, 'EntryNotFound', `${file} does not exist on "${revision}"`);
    const bytes = readFileSync(join(found.dir, file));
    const size = bytes.length;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', ETag: `"${sha1(bytes)}"`, 'X-Repo-Commit': found.commit };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (!m || (m[1] === '' && m[2] === '')) return error(416, null, `bad Range ${range}`);
      if (m[1] === '') start = Math.max(0, size - Number(m[2]));
      else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(end, Number(m[2]));
      }
      if (start >= size || start > end) {
        rec.status = 416;
        res.writeHead(416, { ...CORS, 'Content-Range': `bytes */${size}` });
        return res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    const body = bytes.subarray(start, end + 1);
    headers['Content-Length'] = body.length;
    const cut = options.cut;
    if (cut && cut.file === file && (cut.times ?? 1) > 0 && req.method === 'GET' && cut.afterBytes < body.length) {
      cut.times = (cut.times ?? 1) - 1;
      rec.status = status;
      res.writeHead(status, { ...CORS, ...headers });
      // a connection that drops mid-body: the headers promised more than arrives
      res.write(body.subarray(0, cut.afterBytes), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    send(status, headers, body);
  };
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    options,
    commitOf,
    fileRequests: (file) => requests.filter((r) => r.path.includes('/resolve/') && r.path.endsWith(`/${file}`)),
    stop: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      }),
  };
}
