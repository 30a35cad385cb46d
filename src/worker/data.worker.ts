// The data worker: parses and validates files off the UI thread (docs/data-formats.md: large files stream in
// a worker). Needs no GPU, so the data panel works without WebGPU.
import * as Comlink from 'comlink';
import { dataWorkerApi } from '../data/worker-api';
import { inspect } from './inspect';

export const dataApi = { inspect, exportTrl: dataWorkerApi.exportTrl };
export type DataApi = typeof dataApi;

Comlink.expose(dataApi);
