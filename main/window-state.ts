import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The window's last size and position, remembered across launches. */
export interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized: boolean;
}

const DEFAULT_STATE: WindowState = { width: 1280, height: 820, maximized: false };

export function loadWindowState(folder: string): WindowState {
  try {
    const saved = JSON.parse(readFileSync(path.join(folder, 'window-state.json'), 'utf8')) as Partial<WindowState>;
    const size = (value: unknown, fallback: number) => (typeof value === 'number' && value >= 400 && value <= 10000 ? value : fallback);
    return {
      width: size(saved.width, DEFAULT_STATE.width),
      height: size(saved.height, DEFAULT_STATE.height),
      x: typeof saved.x === 'number' ? saved.x : undefined,
      y: typeof saved.y === 'number' ? saved.y : undefined,
      maximized: saved.maximized === true,
    };
  } catch {
    return { ...DEFAULT_STATE };
  }
}

/** Written atomically so a crash mid-write never loses the previous state. */
export function saveWindowState(folder: string, state: WindowState): void {
  const file = path.join(folder, 'window-state.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}
