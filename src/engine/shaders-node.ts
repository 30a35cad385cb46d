// Node's shader loader: reads shaders/NAME.wgsl from the repository (the app uses
// ./shaders-web.ts, which Vite inlines with `?raw`).
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShaderSources } from './pipelines';

function findShaderDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'shaders');
    if (existsSync(join(candidate, 'matmul.wgsl'))) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('shaders/ folder not found next to the PrefPlay sources');
}

const cache = new Map<string, string>();

export const nodeShaders: ShaderSources = (name) => {
  let code = cache.get(name);
  if (code === undefined) {
    const file = join(findShaderDir(), `${name}.wgsl`);
    if (!existsSync(file)) throw new Error(`no shader named "${name}" (looked for ${file})`);
    code = readFileSync(file, 'utf8');
    cache.set(name, code);
  }
  return code;
};
