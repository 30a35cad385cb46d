// The GPU slice: adapter status, the kernel self-check, and the engine's event stream.
import * as Comlink from 'comlink';
import type { StateCreator } from 'zustand';
import type { SelfTestResult } from '../engine/selftest';
import type { GpuStatus } from '../worker/protocol';
import type { AppState } from './index';
import { engine } from './workers';

export interface GpuSlice {
  gpu: GpuStatus | { state: 'checking' };
  selfTest: { state: 'idle' } | { state: 'running' } | { state: 'done'; result: SelfTestResult } | { state: 'error'; message: string };
  connect(): Promise<void>;
  runSelfTest(): Promise<void>;
  simulateDeviceLoss(): Promise<void>;
}

let subscribed = false;

export const createGpuSlice: StateCreator<AppState, [], [], GpuSlice> = (set, get) => ({
  gpu: { state: 'checking' },
  selfTest: { state: 'idle' },
  async connect() {
    try {
      if (!subscribed) {
        subscribed = true;
        await engine().subscribe(
          Comlink.proxy((events) => {
            get().applyDownloadEvents(events);
            get().applyEvents(events);
          }),
        );
      }
      set({ gpu: await engine().init() });
    } catch (e) {
      set({ gpu: { state: 'unavailable', reason: `The engine worker failed to start: ${(e as Error).message}`, hints: ['Reload the page; if it persists, check the browser console.'] } });
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
  async simulateDeviceLoss() {
    await engine().simulateDeviceLoss();
  },
});
