// The typed interface between the page and the engine worker (comlink). The worker owns
// the GPUDevice; the page only sees these plain, structured-clonable results.
import type { AdapterSummary } from '../engine/gpu';
import type { SelfTestResult } from '../engine/selftest';

export type GpuStatus =
  | { state: 'ready'; adapter: AdapterSummary }
  | { state: 'unavailable'; reason: string; hints: string[] }
  | { state: 'lost'; reason: string };

export interface EngineApi {
  /** Acquire the adapter and device (idempotent). */
  init(): Promise<GpuStatus>;
  /** Matmul forward/backward on the device vs the float64 reference. */
  selfTest(seed?: number): Promise<SelfTestResult>;
}
