/**
 * The last few KiB a worker wrote to stdout/stderr. A process killed by the kernel's OOM killer or
 * a native crash in a backend says why only there, so the tail goes into the run's status message.
 */
export class OutputTail {
  #text = '';

  constructor(private readonly limit = 4096) {}

  push(chunk: Buffer | string): void {
    this.#text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    // Keep twice the limit between trims so that a stream of small chunks is not O(n²).
    if (this.#text.length > this.limit * 2) this.#text = this.#text.slice(-this.limit);
  }

  /** The tail, cut at a line start where possible, trimmed. */
  text(): string {
    let text = this.#text.slice(-this.limit);
    if (this.#text.length > this.limit) {
      const newline = text.indexOf('\n');
      if (newline >= 0 && newline < text.length - 1) text = text.slice(newline + 1);
    }
    return text.trim();
  }
}
