// The data worker (SPEC §4: large files stream in a worker). The page creates it with
//   const w = new Worker(new URL('../data/parse.worker.ts', import.meta.url), { type: 'module' });
//   const api = Comlink.wrap<DataWorkerApi>(w);
//   const { report, preview } = await api.validate(file, { format: 'auto' }, Comlink.proxy(onProgress));
import * as Comlink from 'comlink';
import { dataWorkerApi } from './worker-api';

Comlink.expose(dataWorkerApi);
