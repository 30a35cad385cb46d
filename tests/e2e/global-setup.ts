// Serve the built app (dist/, from `npm run build`, or $PREFPLAY_DIST) on 127.0.0.1 — WebGPU needs a secure
// context, and localhost counts as one.
import { preview, type PreviewServer } from 'vite';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';

let server: PreviewServer | null = null;

export async function setup(project: TestProject): Promise<void> {
  // PREFPLAY_DIST: another build folder (vite build --outDir DIR), so parallel checkouts can test
  const outDir = process.env.PREFPLAY_DIST ?? 'dist';
  if (!existsSync(`${outDir}/index.html`)) throw new Error(`${outDir}/ is missing: run \`npm run build\` first (npm run test:e2e does).`);
  server = await preview({ build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false }, logLevel: 'warn' });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  project.provide('baseUrl', url);
}

export async function teardown(): Promise<void> {
  await server?.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
