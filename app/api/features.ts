/**
 * Which optional features this build's API serves, so a screen can say "not in this build" instead
 * of failing on a missing channel. A constant, not a file probe: the Electron main process is a
 * bundle, where app/ source paths do not exist.
 */
export const FEATURES = { training: true, export: true, classify: true } as const;

export async function availableFeatures(): Promise<{ training: boolean; export: boolean; classify: boolean }> {
  return { ...FEATURES };
}
