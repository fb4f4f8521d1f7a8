/** Plain-text tables and a progress bar for the terminal; no colours, so logs stay readable. */

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], alignRight: readonly boolean[] = []): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (alignRight[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** 5288548 → "5.29M", 385814752 → "385.8M", 37745884192 → "37.75B". */
export function formatCount(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e8 ? 1 : 2)}M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}K`;
  return String(value);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/**
 * A single-line progress bar redrawn in place on a TTY; on a pipe it prints nothing but the
 * final line, so logs are not flooded.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly label: string,
    private readonly total: number,
    private readonly format: (value: number) => string = String,
  ) {}

  update(value: number, suffix = ''): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && value < this.total) return;
    this.lastDraw = now;
    this.stream.write(`\r${this.render(value, suffix)}\u001b[K`);
  }

  done(suffix = ''): void {
    const text = this.render(this.total, suffix);
    this.stream.write(this.stream.isTTY ? `\r${text}\u001b[K\n` : `${text}\n`);
  }

  render(value: number, suffix: string): string {
    const fraction = this.total > 0 ? Math.min(1, value / this.total) : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : Number.NaN;
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const amount = `${this.format(value)}/${this.format(this.total)}`;
    return `${this.label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${amount} ETA ${formatDuration(eta)}${suffix ? ` ${suffix}` : ''}`;
  }
}
