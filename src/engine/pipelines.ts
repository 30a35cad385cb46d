// Pipelines are built once and cached by (shader, entry point, override constants) — docs/design.md.
// Shader text comes from a ShaderSources function so the same launchers run in the app
// (Vite `?raw` imports, ./shaders-web.ts) and in Node (file reads, ./shaders-node.ts).

export type ShaderSources = (name: string) => string;

export interface KernelSpec {
  /** File name under shaders/ without `.wgsl`. */
  shader: string;
  entryPoint: string;
  /** WGSL `override` values; booleans become 0/1. */
  constants?: Record<string, number | boolean>;
  /**
   * Generated WGSL (src/kernels/*-f16.ts) instead of shaders/`shader`.wgsl; `shader` must then
   * name this text uniquely (modules are cached by name).
   */
  source?: string;
}

export function kernelKey(spec: KernelSpec): string {
  const c = spec.constants ?? {};
  const parts = Object.keys(c).sort().map((k) => `${k}=${Number(c[k])}`);
  return `${spec.shader}:${spec.entryPoint}${parts.length ? `{${parts.join(',')}}` : ''}`;
}

export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();

  constructor(private device: GPUDevice, private shaders: ShaderSources) {}

  module(name: string, source?: string): GPUShaderModule {
    let m = this.modules.get(name);
    if (!m) {
      m = this.device.createShaderModule({ label: `shader:${name}`, code: source ?? this.shaders(name) });
      this.modules.set(name, m);
    }
    return m;
  }

  get(spec: KernelSpec): GPUComputePipeline {
    const key = kernelKey(spec);
    let p = this.pipelines.get(key);
    if (!p) {
      const constants: Record<string, number> = {};
      for (const [k, v] of Object.entries(spec.constants ?? {})) constants[k] = Number(v);
      p = this.device.createComputePipeline({
        label: `pipeline:${key}`,
        layout: 'auto',
        compute: { module: this.module(spec.shader, spec.source), entryPoint: spec.entryPoint, constants },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.pipelines.size;
  }
}
