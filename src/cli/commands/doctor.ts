// `doctor`: which WebGPU adapter Node finds, or exactly why none was found.
import type { Command } from '../command';
import { findNodeAdapter } from '../../engine/node';
import { NoAdapterError, summarizeAdapter, createContext, ENGINE_LIMITS } from '../../engine/gpu';
import { nodeShaders } from '../../engine/shaders-node';
import { gpuSelfTest } from '../../engine/selftest';

export const doctor: Command = {
  name: 'doctor',
  summary: 'Print the WebGPU adapter PrefPlay will use (vendor, architecture, features, limits) and run a matmul self-check; or explain why no adapter was found.',
  options: {
    json: { type: 'boolean', description: 'Print the report as JSON' },
  },
  async run(opts) {
    let found;
    try {
      found = await findNodeAdapter();
    } catch (e) {
      if (e instanceof NoAdapterError) {
        if (opts.json) {
          console.log(JSON.stringify({ ok: false, error: e.message, hints: e.hints }, null, 2));
        } else {
          console.log(`No WebGPU adapter: ${e.message}`);
          for (const h of e.hints) console.log(`  - ${h}`);
        }
        return 1;
      }
      throw e;
    }
    const a = summarizeAdapter(found.adapter);
    const ctx = await createContext(found.adapter, nodeShaders, 'doctor');
    const check = await gpuSelfTest(ctx);
    ctx.device.destroy();
    if (opts.json) {
      console.log(JSON.stringify({ ok: check.ok, via: found.via, icd: found.icd, adapter: a, selfTest: check }, null, 2));
      return check.ok ? 0 : 1;
    }
    console.log(`Adapter:      ${a.description || a.device || '(no description)'}`);
    console.log(`Vendor:       ${a.vendor || '?'}   Architecture: ${a.architecture || '?'}   Device: ${a.device || '?'}`);
    console.log(`Found via:    ${found.via === 'swiftshader' ? `SwiftShader software fallback (${found.icd})` : found.icd ? `VK_ICD_FILENAMES=${found.icd}` : 'system drivers'}`);
    console.log(`Fallback:     ${a.isFallbackAdapter ? 'yes (software)' : 'no'}`);
    console.log(`Features:     ${a.features.join(', ') || '(none)'}`);
    console.log('Limits:');
    for (const name of [...ENGINE_LIMITS, 'minStorageBufferOffsetAlignment']) console.log(`  ${name.padEnd(36)} ${a.limits[name]}`);
    console.log(`Self-check:   ${check.ok ? 'ok' : 'FAILED'} — ${check.message}`);
    return check.ok ? 0 : 1;
  },
};
