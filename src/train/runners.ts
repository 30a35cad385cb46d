// Activation arenas are sized per batch shape (B, T); batches are padded to multiples of 8,
// so a run meets a few shapes. Keep the most recent few, free the rest — and keep older shapes
// only while they hold little: at GPT-2 small one 2 × 512 arena is ~460 MB, and a second one
// would break a 2 GB budget (docs/perf.md). Old arenas are freed before a new one is created,
// so two large ones never exist at once.
import type { ActivationsDtype } from '../model/gpt';
import type { ArithmeticDtype } from '../kernels/plan';
import type { ModelRunner, TrainableModel } from '../model/family';

export class RunnerPool {
  private runners = new Map<string, ModelRunner>();

  /**
   * `keep` shapes at most; shapes other than the newest only while they total ≤ `spareBytes`.
   * Every runner stores its qkv and fch as `activationsDtype`, and with `checkpoint` recomputes
   * each layer in the backward (activation checkpointing), and computes with `arithmeticDtype`.
   */
  constructor(private model: TrainableModel, private keep = 3, private spareBytes = 64 * 2 ** 20, readonly activationsDtype: ActivationsDtype = 'f32', readonly checkpoint = false, readonly arithmeticDtype: ArithmeticDtype = 'f32') {}

  get(B: number, T: number): ModelRunner {
    const key = `${B}x${T}`;
    let r = this.runners.get(key);
    if (r) {
      this.runners.delete(key);
      this.evict(this.keep - 1);
    } else {
      this.evict(this.keep - 1); // every kept runner becomes a spare of the new one
      r = this.model.createRunner(B, T, this.activationsDtype, this.checkpoint, this.arithmeticDtype);
    }
    this.runners.set(key, r);
    return r;
  }

  /** Free least recently used runners until at most `count` remain within the spare budget. */
  private evict(count: number): void {
    while (this.runners.size > count || (this.runners.size > 0 && this.bytes > this.spareBytes)) {
      const [oldKey, old] = this.runners.entries().next().value as [string, ModelRunner];
      old.destroy();
      this.runners.delete(oldKey);
    }
  }

  /** GPU bytes held by activations (and the token buckets of each runner's last backward). */
  get bytes(): number {
    let n = 0;
    for (const r of this.runners.values()) n += r.bytes;
    return n;
  }

  destroy(): void {
    for (const r of this.runners.values()) r.destroy();
    this.runners.clear();
  }
}
