// The page's two workers (comlink): the engine worker owns the GPU and the runs; the data worker
// parses files. Created on first use.
import * as Comlink from 'comlink';
import type { EngineApi } from '../worker/protocol';
import type { DataApi } from '../worker/data.worker';

let engineRemote: Comlink.Remote<EngineApi> | null = null;
let dataRemote: Comlink.Remote<DataApi> | null = null;

export function engine(): Comlink.Remote<EngineApi> {
  if (!engineRemote) {
    const w = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'prefplay-engine' });
    engineRemote = Comlink.wrap<EngineApi>(w);
  }
  return engineRemote;
}

export function dataWorker(): Comlink.Remote<DataApi> {
  if (!dataRemote) {
    const w = new Worker(new URL('../worker/data.worker.ts', import.meta.url), { type: 'module', name: 'prefplay-data' });
    dataRemote = Comlink.wrap<DataApi>(w);
  }
  return dataRemote;
}
