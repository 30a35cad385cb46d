// onnxruntime-web in the browser (page or worker): the WebGPU execution provider when the
// browser has WebGPU, else wasm. The runtime's .wasm is a Vite asset of this app (`?url`), so it
// is served from the app's own origin; the JS glue is inside ORT's bundled ESM build. Nothing is
// fetched from a CDN (docs/design.md).
import * as ort from 'onnxruntime-web';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { OnnxLm } from './session';

let configured = false;

export function webOrt(): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = { wasm: jsepWasmUrl };
    // threads need cross-origin isolation (SharedArrayBuffer); without it ORT would warn and fall back
    if (!globalThis.crossOriginIsolated) ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    configured = true;
  }
  return ort;
}

/** The providers to try, best first: WebGPU only where navigator.gpu exists. */
export function browserProviders(): string[] {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  return gpu ? ['webgpu', 'wasm'] : ['wasm'];
}

/** An OnnxLm on WebGPU, falling back to wasm (OnnxLm.backend says which one opened it). */
export function createWebOnnxLm(model: Uint8Array, dims: { vocabSize: number; nPositions: number; padId?: number }, providers = browserProviders()): Promise<OnnxLm> {
  return OnnxLm.create(webOrt(), model, dims, providers);
}
