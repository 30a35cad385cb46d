import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PUBLIC = resolve(import.meta.dirname, 'public');
const ASSETS_ID = 'virtual:prefplay-assets';

/**
 * `virtual:prefplay-assets`: what public/ holds (built-in preference sets in public/data/, the
 * built-in model's files in public/models/builtin/), so the page lists them and never requests a
 * file that is not there.
 */
function prefplayAssets(): Plugin {
  const list = (dir: string, pattern: RegExp) => (existsSync(dir) ? readdirSync(dir).filter((f) => pattern.test(f) && statSync(join(dir, f)).isFile()).sort() : []);
  return {
    name: 'prefplay-assets',
    resolveId: (id) => (id === ASSETS_ID ? '\0' + ASSETS_ID : null),
    load(id) {
      if (id !== '\0' + ASSETS_ID) return null;
      const dataDir = join(PUBLIC, 'data');
      const modelDir = join(PUBLIC, 'models', 'builtin');
      const datasets = list(dataDir, /\.(jsonl|json|csv|tsv|ya?ml)$/i).map((file) => ({ name: file.replace(/\.[^.]+$/, ''), file, bytes: statSync(join(dataDir, file)).size }));
      return `export default ${JSON.stringify({ datasets, builtinModel: list(modelDir, /^[\w.-]+$/) })};`;
    },
    // dev server: a file added to or removed from public/ changes the list on the next reload
    configureServer(server) {
      const changed = (file: string) => {
        if (!file.startsWith(PUBLIC)) return;
        const mod = server.moduleGraph.getModuleById('\0' + ASSETS_ID);
        if (mod) server.moduleGraph.invalidateModule(mod);
      };
      server.watcher.on('add', changed);
      server.watcher.on('unlink', changed);
    },
  };
}

// The page is fully static: everything (model, data, shaders, wasm) is served from its own
// origin, so nothing leaves the browser (docs/design.md).
export default defineConfig({
  plugins: [react(), prefplayAssets()],
  base: './',
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
    // the playground, and `npm run bench` as a page (bench.html)
    rollupOptions: { input: { main: resolve(import.meta.dirname, 'index.html'), bench: resolve(import.meta.dirname, 'bench.html') } },
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
