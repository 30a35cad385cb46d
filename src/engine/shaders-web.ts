// The app's shader loader: every shaders/*.wgsl inlined at build time with Vite `?raw`.
import type { ShaderSources } from './pipelines';

const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

const byName = new Map(Object.entries(files).map(([path, code]) => [path.replace(/^.*\/(.+)\.wgsl$/, '$1'), code]));

export const webShaders: ShaderSources = (name) => {
  const code = byName.get(name);
  if (code === undefined) throw new Error(`no shader named "${name}" in this build`);
  return code;
};
