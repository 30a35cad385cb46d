// The engine slice: GPU status and the self-check, fed by the worker.
import { create } from 'zustand';
import * as Comlink from 'comlink';
import type { EngineApi, GpuStatus } from '../worker/protocol';
import type { SelfTestResult } from '../engine/selftest';

let worker: Comlink.Remote<EngineApi> | null = null;

export function engine(): Comlink.Remote<EngineApi> {
  if (!worker) {
    const w = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'prefplay-engine' });
    worker = Comlink.wrap<EngineApi>(w);
  }
  return worker;
}

interface EngineState {
  gpu: GpuStatus | { state: 'checking' };
  selfTest: { state: 'idle' } | { state: 'running' } | { state: 'done'; result: SelfTestResult } | { state: 'error'; message: string };
  connect(): Promise<void>;
  runSelfTest(): Promise<void>;
}

export const useEngine = create<EngineState>((set) => ({
  gpu: { state: 'checking' },
  selfTest: { state: 'idle' },
  async connect() {
    try {
      set({ gpu: await engine().init() });
    } catch (e) {
      set({ gpu: { state: 'unavailable', reason: `The engine worker failed to start: ${(e as Error).message}`, hints: [] } });
    }
  },
  async runSelfTest() {
    set({ selfTest: { state: 'running' } });
    try {
      set({ selfTest: { state: 'done', result: await engine().selfTest() } });
    } catch (e) {
      set({ selfTest: { state: 'error', message: (e as Error).message } });
    }
  },
}));
