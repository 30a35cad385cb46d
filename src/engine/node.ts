// WebGPU in Node through the `webgpu` package (Dawn). On machines without a usable
// Vulkan driver (no GPU, or Mesa lavapipe too old for Dawn) it falls back to Chromium's
// SwiftShader Vulkan driver when one is installed, so the CLI and tests work anywhere.
import { existsSync, readdirSync } from 'node:fs';
import { createContext, requestAdapter, NoAdapterError, type GpuContext } from './gpu';
import { nodeShaders } from './shaders-node';

export const SWIFTSHADER_ICD_PATHS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib64/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

export interface NodeAdapterResult {
  adapter: GPUAdapter;
  /** 'default' = the system's Vulkan drivers; 'swiftshader' = our fallback. */
  via: 'default' | 'swiftshader';
  icd: string | null;
}

type DawnModule = { create: (opts: string[]) => GPU; globals: Record<string, unknown> };

let dawn: DawnModule | null = null;
// Dawn frees its instance when the JS object is collected, even while work is in flight
// (then ProcessEvents locks freed memory and the process aborts): keep every one alive.
const instances: GPU[] = [];

function newInstance(d: DawnModule): GPU {
  const gpu = d.create([]);
  instances.push(gpu);
  return gpu;
}

async function loadDawn(): Promise<DawnModule> {
  if (!dawn) {
    try {
      dawn = (await import('webgpu')) as unknown as DawnModule;
    } catch (e) {
      throw new NoAdapterError(`The "webgpu" package (Dawn for Node) could not be loaded: ${(e as Error).message}`, ['Run `npm install` in the PrefPlay folder.']);
    }
    // WebGPU enums (GPUBufferUsage, GPUMapMode, ...) are globals in browsers; Dawn exports them.
    Object.assign(globalThis, dawn.globals);
  }
  return dawn;
}

function hasGpuDevice(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    if (existsSync('/dev/nvidia0') || existsSync('/dev/kfd')) return true;
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

export async function findNodeAdapter(): Promise<NodeAdapterResult> {
  const d = await loadDawn();
  const explicit = process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || null;
  const swiftshader = SWIFTSHADER_ICD_PATHS.find((p) => existsSync(p));
  if (!explicit && swiftshader && !hasGpuDevice()) {
    // No GPU device node at all: skip the system drivers (Mesa lavapipe fails noisily).
    process.env.VK_ICD_FILENAMES = swiftshader;
    const soft = await requestAdapter(newInstance(d));
    if (soft) return { adapter: soft, via: 'swiftshader', icd: swiftshader };
  }
  const first = await requestAdapter(newInstance(d));
  if (first) return { adapter: first, via: 'default', icd: explicit };
  if (!explicit && swiftshader && process.env.VK_ICD_FILENAMES !== swiftshader) {
    process.env.VK_ICD_FILENAMES = swiftshader;
    const second = await requestAdapter(newInstance(d));
    if (second) return { adapter: second, via: 'swiftshader', icd: swiftshader };
  }
  const hints: string[] = [];
  if (!existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') && !existsSync('/usr/lib/aarch64-linux-gnu/libvulkan.so.1') && process.platform === 'linux') {
    hints.push('The Vulkan loader (libvulkan.so.1) is missing: `apt-get install libvulkan1`.');
  }
  if (explicit) hints.push(`VK_ICD_FILENAMES/VK_DRIVER_FILES is set to ${explicit}: check that the file exists and names a working driver.`);
  if (!swiftshader) hints.push('No GPU driver worked and no software fallback was found: `apt-get install chromium` brings SwiftShader (used automatically), or install your GPU vendor\'s Vulkan driver.');
  hints.push('Run `bash scripts/setup-test-env.sh` to install everything the tests need.');
  throw new NoAdapterError('No WebGPU adapter found by Dawn in Node.', hints);
}

export async function nodeGpu(label = 'prefplay-node'): Promise<GpuContext & { via: NodeAdapterResult['via'] }> {
  const found = await findNodeAdapter();
  const ctx = await createContext(found.adapter, nodeShaders, label);
  return { ...ctx, via: found.via };
}
