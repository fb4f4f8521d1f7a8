/**
 * Which process owns a running run, and whether it is still alive. A WAL database only works for
 * processes on one machine (they share its -shm memory map: https://www.sqlite.org/wal.html), so
 * every owner we can see ran on this host; the boot id tells a pid from before a reboot apart
 * from the same pid number reused since.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface RunOwner {
  readonly pid: number;
  readonly host: string;
  /** Linux's boot_id, else `boot@<ms>` (boot time from uptime, which drifts by a second or so). */
  readonly boot: string;
}

let cachedBoot: string | undefined;

export function currentBootId(): string {
  if (cachedBoot !== undefined) return cachedBoot;
  try {
    cachedBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    cachedBoot = `boot@${Math.round(Date.now() - os.uptime() * 1000)}`;
  }
  return cachedBoot;
}

export function currentOwner(pid: number = process.pid): RunOwner {
  return { pid, host: os.hostname(), boot: currentBootId() };
}

/** Boot times from uptime agree within a few seconds; boot ids must match exactly. */
export function sameBoot(a: string, b: string): boolean {
  if (a.startsWith('boot@') && b.startsWith('boot@')) return Math.abs(Number(a.slice(5)) - Number(b.slice(5))) < 10_000;
  return a === b;
}

/**
 * True while the owning process may still be running. A pid can be reused by an unrelated process
 * after the owner died; then the run stays `running` until that process ends too (erring towards
 * not marking a live run).
 */
export function isOwnerAlive(owner: { pid: number | null; boot: string | null }, current: RunOwner = currentOwner()): boolean {
  if (owner.pid === null || owner.boot === null) return false;
  if (!sameBoot(owner.boot, current.boot)) return false;
  if (owner.pid === current.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
