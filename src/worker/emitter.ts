// Engine events to the page in batches, at most one message per FLUSH_MS, so a fast GPU never
// floods the UI thread (docs/design.md: throttled metrics).
import type { EngineEvent, EventSink } from './protocol';

export const FLUSH_MS = 150;

export class Emitter {
  private queue: EngineEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private sink: () => EventSink | null) {}

  push(ev: EngineEvent): void {
    this.queue.push(ev);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const sink = this.sink();
    if (!sink || !this.queue.length) return;
    const events = this.queue;
    this.queue = [];
    void sink(events);
  }
}
