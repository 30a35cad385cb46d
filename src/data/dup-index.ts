// Duplicate detection in bounded memory: a 64-bit hash of each accepted row's text and the line
// it was first seen on, in an open-addressing table of typed arrays (12 bytes a slot, at most
// half full) instead of a Map of heap numbers (~60 bytes a row).

/** Two independent 32-bit FNV-1a lanes over strings separated by U+0000. */
export function hashTexts(texts: readonly string[]): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let t = 0; t < texts.length; t++) {
    const s = texts[t];
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 16777619);
      h2 = Math.imul(h2 ^ c, 2246822507);
    }
    h1 = Math.imul(h1, 16777619); // the separator
    h2 = Math.imul(h2 ^ 0xff, 2246822507);
  }
  return [h1 >>> 0, (h2 ^ (h2 >>> 15)) >>> 0];
}

export class DupIndex {
  private keys = new Uint32Array(2 * 1024);
  private lines = new Int32Array(1024); // 0 = empty slot (lines are ≥ 1)
  private size = 0;

  /** The line first seen with this hash, or undefined (and the hash is recorded at `line`). */
  checkAndAdd(h: [number, number], line: number): number | undefined {
    if (2 * (this.size + 1) > this.lines.length) this.grow();
    const mask = this.lines.length - 1;
    for (let i = (h[0] ^ Math.imul(h[1], 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      if (this.lines[i] === 0) {
        this.keys[2 * i] = h[0];
        this.keys[2 * i + 1] = h[1];
        this.lines[i] = line;
        this.size++;
        return undefined;
      }
      if (this.keys[2 * i] === h[0] && this.keys[2 * i + 1] === h[1]) return this.lines[i];
    }
  }

  private grow(): void {
    const { keys, lines } = this;
    this.keys = new Uint32Array(keys.length * 2);
    this.lines = new Int32Array(lines.length * 2);
    this.size = 0;
    for (let i = 0; i < lines.length; i++) if (lines[i] !== 0) this.checkAndAdd([keys[2 * i], keys[2 * i + 1]], lines[i]);
  }
}
