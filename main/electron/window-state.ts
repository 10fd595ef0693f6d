/**
 * Remembers the main window's bounds (and whether it was maximised) in `<userData>/window-state.json`,
 * and puts it back only where a display still shows it.
 */
import type { BrowserWindow, Rectangle } from 'electron';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface WindowState {
  bounds: Rectangle;
  maximized: boolean;
}

const DEFAULT: WindowState = { bounds: { x: 0, y: 0, width: 1280, height: 840 }, maximized: false };
const MIN_SIZE = { width: 720, height: 480 };

function isRect(value: unknown): value is Rectangle {
  const r = value as Record<string, unknown> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    ['x', 'y', 'width', 'height'].every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]))
  );
}

function overlaps(a: Rectangle, b: Rectangle): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The saved state, if it is well formed and at least partly on one of `displays` (work areas). */
export function loadWindowState(file: string, displays: Rectangle[]): WindowState & { saved: boolean } {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<WindowState>;
    if (isRect(data.bounds) && displays.some((d) => overlaps(d, data.bounds as Rectangle))) {
      const bounds = {
        ...data.bounds,
        width: Math.max(MIN_SIZE.width, Math.round(data.bounds.width)),
        height: Math.max(MIN_SIZE.height, Math.round(data.bounds.height)),
      };
      return { bounds, maximized: data.maximized === true, saved: true };
    }
  } catch {
    // First start, or an unreadable file: fall back to the default size, centred.
  }
  return { ...DEFAULT, saved: false };
}

/** Saves the window's state whenever it moves, resizes, (un)maximises or closes. */
export function trackWindowState(win: BrowserWindow, file: string): void {
  let timer: NodeJS.Timeout | undefined;
  const save = () => {
    clearTimeout(timer);
    if (win.isDestroyed()) return;
    const state: WindowState = { bounds: win.getNormalBounds(), maximized: win.isMaximized() };
    try {
      writeFileSync(file, `${JSON.stringify(state)}\n`);
    } catch (err) {
      console.error(`facets: could not save ${path.basename(file)}`, err);
    }
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  win.on('resize', later);
  win.on('move', later);
  win.on('maximize', save);
  win.on('unmaximize', save);
  win.on('close', save);
}

export { MIN_SIZE };
