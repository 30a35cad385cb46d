// Bytes -> text chunks -> lines, never holding the whole file as one string: a Blob (the page's
// File), a web ReadableStream, or any async iterable of bytes (Node's fs.createReadStream).
// A UTF-8 BOM is dropped; UTF-16 files (BOM FF FE / FE FF) are decoded as such; CRLF and a final
// line without newline are handled by LineSplitter.

export type ByteSource = Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** The chunks of a byte source, in order. */
export async function* byteChunks(source: ByteSource): AsyncGenerator<Uint8Array> {
  const stream = typeof Blob !== 'undefined' && source instanceof Blob ? (source.stream() as ReadableStream<Uint8Array>) : source;
  if (Symbol.asyncIterator in stream) {
    yield* stream as AsyncIterable<Uint8Array>;
    return;
  }
  // Safari's ReadableStream is not async-iterable.
  const reader = (stream as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Streaming decoder: picks UTF-8 or UTF-16 from the first bytes; the BOM never reaches the text. */
export class ChunkDecoder {
  private decoder: TextDecoder | null = null;

  decode(bytes: Uint8Array): string {
    if (!this.decoder) {
      const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
      const label = utf16 ? (bytes[0] === 0xff ? 'utf-16le' : 'utf-16be') : 'utf-8';
      this.decoder = new TextDecoder(label, { fatal: false });
    }
    return this.decoder.decode(bytes, { stream: true });
  }

  end(): string {
    return this.decoder ? this.decoder.decode() : '';
  }
}

/**
 * Splits text chunks into lines (1-based numbers), stripping a trailing '\r'. A line that spans
 * chunks is kept as pieces until its newline arrives, so one very long line costs one join.
 */
export class LineSplitter {
  private pieces: string[] = [];
  private line = 0;

  /** Calls `emit` for every line completed by this chunk. */
  push(chunk: string, emit: (text: string, line: number) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl === -1) break;
      let text = chunk.slice(start, nl);
      if (this.pieces.length) {
        this.pieces.push(text);
        text = this.pieces.join('');
        this.pieces = [];
      }
      if (text.endsWith('\r')) text = text.slice(0, -1);
      emit(text, ++this.line);
      start = nl + 1;
    }
    if (start < chunk.length) this.pieces.push(start === 0 ? chunk : chunk.slice(start));
  }

  /** Flushes a final line that has no newline. */
  end(emit: (text: string, line: number) => void): void {
    if (!this.pieces.length) return;
    let text = this.pieces.join('');
    this.pieces = [];
    if (text.endsWith('\r')) text = text.slice(0, -1);
    emit(text, ++this.line);
  }

  get linesSeen(): number {
    return this.line;
  }
}
