// onnxruntime-web in Node: its Node build runs the wasm backend (CPU, single thread here so
// results do not depend on the machine) with the runtime files from node_modules — no network.
import * as ort from 'onnxruntime-web';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OnnxLm } from './session';

let configured = false;

/** The ORT module with its wasm files pointed at node_modules/onnxruntime-web/dist/. */
export function nodeOrt(): typeof ort {
  if (!configured) {
    const wasm = createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
    ort.env.wasm.wasmPaths = pathToFileURL(dirname(wasm)).href + '/';
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    configured = true;
  }
  return ort;
}

/** An OnnxLm on the wasm backend. */
export function createNodeOnnxLm(model: Uint8Array, dims: { vocabSize: number; nPositions: number; padId?: number }): Promise<OnnxLm> {
  return OnnxLm.create(nodeOrt(), model, dims, ['wasm']);
}
