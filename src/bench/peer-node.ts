// Loads the peers in Node: TensorFlow.js's WebGPU backend and jax-js's both look for
// navigator.gpu, which Node lacks, so they get a Dawn GPU object from the `webgpu` package — the
// same driver (and, through VK_ICD_FILENAMES set by findNodeAdapter, the same adapter) the engine
// uses. Each library then requests its own device on that adapter.
import type * as TF from '@tensorflow/tfjs-core';
import { findNodeAdapter } from '../engine/node';
import { startJaxWebgpu, type Jax, type LoadedJaxPeer } from './peer-jaxjs';

export interface LoadedPeer {
  tf: typeof TF;
  name: string;
  version: string;
  adapter: { vendor: string; architecture: string; description: string };
}

// Dawn frees an instance that is garbage-collected even with work in flight: keep it.
let keep: GPU | null = null;

/** Installs one Dawn instance as navigator.gpu (once), on the adapter the engine found. */
async function installNavigatorGpu(): Promise<GPU> {
  if (keep) return keep;
  await findNodeAdapter(); // sets VK_ICD_FILENAMES exactly as the engine's context did
  const dawn = (await import('webgpu')) as unknown as { create: (o: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, dawn.globals);
  keep = dawn.create([]);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: keep, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: keep, userAgent: `node ${process.version}` }, configurable: true, writable: true });
  return keep;
}

export async function loadTfjsWebgpuInNode(): Promise<LoadedPeer> {
  await installNavigatorGpu();
  const tf = await import('@tensorflow/tfjs-core');
  const quiet = [console.log, console.warn];
  console.log = console.warn = () => {}; // tfjs prints a banner suggesting tfjs-node in Node
  try {
    // the union package registers every op's gradient (tfjs-core alone has none)
    await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not start its WebGPU backend on this adapter');
    await tf.ready();
  } finally {
    [console.log, console.warn] = quiet;
  }
  const backend = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string }; device: GPUDevice };
  const info = (backend.device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    tf,
    name: 'TensorFlow.js WebGPU backend (GPT-2 in tfjs ops)',
    version: tf.version_core,
    adapter: { vendor: info?.vendor ?? backend.adapterInfo?.vendor ?? '', architecture: info?.architecture ?? backend.adapterInfo?.architecture ?? '', description: info?.description ?? '' },
  };
}

/** jax-js with its WebGPU backend on the same adapter (the package's README marks Node as Wasm-only; Dawn's navigator.gpu is all it needs). */
export async function loadJaxjsWebgpuInNode(): Promise<LoadedJaxPeer> {
  await installNavigatorGpu();
  const jax = (await import('@jax-js/jax')) as Jax;
  return startJaxWebgpu(jax);
}
