// GPU context: one GPUDevice plus what every launcher needs (pipeline cache, shader
// sources, uniform pool). Works wherever a `GPU` object exists: navigator.gpu in a page
// or Web Worker, or the `webgpu` package (Dawn) in Node — see ./node.ts.
import { PipelineCache, type ShaderSources } from './pipelines';
import { UniformPool } from './uniforms';

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
  isFallbackAdapter: boolean;
  /** Subgroup sizes the adapter may use (0 when it does not say). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  features: ReadonlySet<string>;
  pipelines: PipelineCache;
  uniforms: UniformPool;
  /** Resolves with the reason when the device is lost (destroyed, driver crash, OOM reset). */
  lost: Promise<GPUDeviceLostInfo>;
  /**
   * Caps the bytes of one parameter/gradient/moment arena buffer below the device's limits (a
   * test hook: tests/gpu/split-arena.test.ts forces a few-KiB cap so tiny models split).
   */
  arenaBufferLimit?: number;
}

/**
 * Bytes one arena buffer may hold: min(maxBufferSize, maxStorageBufferBindingSize) — a kernel
 * (the optimizer) binds a whole buffer — or the context's lower arenaBufferLimit. Larger arenas
 * span several buffers; a larger embedding is split by rows (src/engine/arena.ts).
 */
export function arenaBufferBytes(gpu: GpuContext): number {
  const l = gpu.device.limits;
  return Math.min(l.maxBufferSize, l.maxStorageBufferBindingSize, gpu.arenaBufferLimit ?? Infinity);
}

/** Limits the engine asks for: the adapter's maximum, not WebGPU's conservative defaults. */
export const ENGINE_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Optional features used when present (timing, subgroup reductions, f16 storage). */
export const ENGINE_FEATURES = ['timestamp-query', 'subgroups', 'shader-f16'] as const;

export class NoAdapterError extends Error {
  constructor(message: string, readonly hints: string[]) {
    super(message);
    this.name = 'NoAdapterError';
  }
}

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const name of [...ENGINE_LIMITS, 'minStorageBufferOffsetAlignment', 'minUniformBufferOffsetAlignment']) {
    limits[name] = Number((adapter.limits as unknown as Record<string, number>)[name]);
  }
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    features: [...adapter.features].map(String).sort(),
    limits,
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean })?.isFallbackAdapter),
    subgroupMinSize: Number((info as { subgroupMinSize?: number })?.subgroupMinSize ?? 0),
    subgroupMaxSize: Number((info as { subgroupMaxSize?: number })?.subgroupMaxSize ?? 0),
  };
}

export async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  return (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? null;
}

/** Create the engine's device on an adapter, asking for the limits and features it uses. */
export async function createContext(adapter: GPUAdapter, shaders: ShaderSources, label = 'prefplay'): Promise<GpuContext> {
  const requiredLimits: Record<string, number> = {};
  for (const name of ENGINE_LIMITS) {
    requiredLimits[name] = (adapter.limits as unknown as Record<string, number>)[name];
  }
  const requiredFeatures = ENGINE_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ label, requiredLimits, requiredFeatures });
  device.addEventListener('uncapturederror', (e) => {
    console.error(`[${label}] uncaptured WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
  });
  return {
    device,
    adapter: summarizeAdapter(adapter),
    features: new Set([...device.features].map(String)),
    pipelines: new PipelineCache(device, shaders),
    uniforms: new UniformPool(device),
    lost: device.lost,
  };
}

/** Why a browser context has no usable WebGPU, in words a user can act on. */
export function explainNoWebGPU(env: { hasGpu: boolean; secure: boolean; userAgent: string }): NoAdapterError {
  const hints: string[] = [];
  if (!env.secure) {
    hints.push('WebGPU needs a secure context: open the page over https:// or http://127.0.0.1 / http://localhost.');
  }
  if (!env.hasGpu) {
    hints.push('This browser does not expose navigator.gpu. Use a current Chrome, Edge or Safari 26+, or Firefox 141+ (Windows).');
    if (/Linux/.test(env.userAgent)) {
      hints.push('Chrome/Chromium on Linux: start it with --enable-unsafe-webgpu (and --enable-features=Vulkan), or enable chrome://flags/#enable-unsafe-webgpu.');
    }
  } else {
    hints.push('The browser has WebGPU but returned no adapter: the GPU may be blocklisted or its driver too old. Check chrome://gpu, update the driver, or enable chrome://flags/#enable-unsafe-webgpu.');
  }
  return new NoAdapterError(env.hasGpu ? 'WebGPU is available but no GPU adapter was found.' : 'WebGPU is not available in this browser.', hints);
}
