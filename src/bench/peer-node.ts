// Loads the TensorFlow.js peer in Node: tfjs's WebGPU backend looks for navigator.gpu, which
// Node lacks, so it gets a Dawn GPU object from the `webgpu` package — the same driver (and,
// through VK_ICD_FILENAMES set by findNodeAdapter, the same adapter) the engine uses.
import type * as TF from '@tensorflow/tfjs-core';
import { findNodeAdapter } from '../engine/node';

export interface LoadedPeer {
  tf: typeof TF;
  name: string;
  version: string;
  adapter: { vendor: string; architecture: string; description: string };
}

// Dawn frees an instance that is garbage-collected even with work in flight: keep it.
let keep: GPU | null = null;

export async function loadTfjsWebgpuInNode(): Promise<LoadedPeer> {
  await findNodeAdapter(); // sets VK_ICD_FILENAMES exactly as the engine's context did
  const dawn = (await import('webgpu')) as unknown as { create: (o: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, dawn.globals);
  const tf = await import('@tensorflow/tfjs-core');
  keep = dawn.create([]);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: keep, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: keep, userAgent: `node ${process.version}` }, configurable: true, writable: true });
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
