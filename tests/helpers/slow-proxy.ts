// A pass-through HTTP proxy on 127.0.0.1 in front of the Hub stand-in (tests/helpers/hub-server.ts)
// that can slow one file's body down to a trickle, so a browser test can watch a download in
// progress and cancel it halfway. Requests, headers (Range, Authorization) and answers pass
// unchanged; the stand-in still records every request.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowProxy {
  endpoint: string;
  /** Mutable: the file whose body trickles (`bytes` every `everyMs`), or null. */
  slow: { file: string; bytes: number; everyMs: number } | null;
  stop(): Promise<void>;
}

export async function startSlowProxy(target: string): Promise<SlowProxy> {
  const to = new URL(target);
  const proxy: SlowProxy = { endpoint: '', slow: null, stop: async () => undefined };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      const slow = proxy.slow;
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (!slow || !path.includes('/resolve/') || !path.endsWith(`/${slow.file}`)) {
        ur.pipe(res);
        return;
      }
      res.flushHeaders();
      const parts: Buffer[] = [];
      ur.on('data', (c: Buffer) => parts.push(c));
      ur.on('end', async () => {
        const all = Buffer.concat(parts);
        for (let o = 0; o < all.length && !res.destroyed; o += slow.bytes) {
          res.write(all.subarray(o, o + slow.bytes));
          await new Promise((r) => setTimeout(r, slow.everyMs));
        }
        res.end();
      });
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return proxy;
}
