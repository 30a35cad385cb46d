// The engine worker: owns the GPUDevice so the page never blocks (SPEC §2).
import * as Comlink from 'comlink';
import { createContext, explainNoWebGPU, requestAdapter, type GpuContext } from '../engine/gpu';
import { webShaders } from '../engine/shaders-web';
import { gpuSelfTest } from '../engine/selftest';
import type { EngineApi, GpuStatus } from './protocol';

let ctx: GpuContext | null = null;
let status: GpuStatus | null = null;

async function init(): Promise<GpuStatus> {
  if (status && status.state !== 'lost') return status;
  const gpu = (self.navigator as Navigator).gpu as GPU | undefined;
  const env = { hasGpu: Boolean(gpu), secure: self.isSecureContext, userAgent: self.navigator.userAgent };
  if (!gpu || !env.secure) {
    const e = explainNoWebGPU(env);
    return (status = { state: 'unavailable', reason: e.message, hints: e.hints });
  }
  const adapter = await requestAdapter(gpu).catch(() => null);
  if (!adapter) {
    const e = explainNoWebGPU(env);
    return (status = { state: 'unavailable', reason: e.message, hints: e.hints });
  }
  ctx = await createContext(adapter, webShaders, 'prefplay-worker');
  ctx.lost.then((info) => {
    status = { state: 'lost', reason: `GPU device lost (${info.reason}): ${info.message}` };
    ctx = null;
  });
  return (status = { state: 'ready', adapter: ctx.adapter });
}

const api: EngineApi = {
  init,
  async selfTest(seed) {
    if (!ctx) {
      const s = await init();
      if (s.state !== 'ready') throw new Error(s.reason);
    }
    return gpuSelfTest(ctx!, seed);
  },
};

Comlink.expose(api);
