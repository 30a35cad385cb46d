// Activation arenas are sized per batch shape (B, T); batches are padded to multiples of 8,
// so a run meets a few shapes. Keep the most recent few, free the rest.
import { GptRunner, type GptModel } from '../model/gpt';

export class RunnerPool {
  private runners = new Map<string, GptRunner>();

  constructor(private model: GptModel, private keep = 3) {}

  get(B: number, T: number): GptRunner {
    const key = `${B}x${T}`;
    let r = this.runners.get(key);
    if (r) {
      this.runners.delete(key);
    } else {
      r = new GptRunner(this.model, B, T);
    }
    this.runners.set(key, r);
    while (this.runners.size > this.keep) {
      const [oldKey, old] = this.runners.entries().next().value as [string, GptRunner];
      old.destroy();
      this.runners.delete(oldKey);
    }
    return r;
  }

  /** GPU bytes held by activations. */
  get bytes(): number {
    let n = 0;
    for (const r of this.runners.values()) n += r.acts.bytes;
    return n;
  }

  destroy(): void {
    for (const r of this.runners.values()) r.destroy();
    this.runners.clear();
  }
}
