import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The page is fully static: everything (model, data, shaders, wasm) is served from its own
// origin, so nothing leaves the browser (SPEC §9).
export default defineConfig({
  plugins: [react()],
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
