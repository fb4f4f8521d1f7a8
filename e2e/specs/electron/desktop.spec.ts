/**
 * The same app through Playwright's Electron support: the window opens on Datasets, the sandboxed
 * page has the typed bridge and no Node, then the whole journey of the browser spec
 * (e2e/journey/steps.ts) runs over IPC, with training, export and classify in utility processes.
 * Skips, saying why, where the Electron binary is not installed (npm installs electron without its
 * binary offline).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test } from '@playwright/test';
import { screenshot, watchConsole } from '../../helpers/app.ts';
import { prepareHome } from '../../fixtures/prepare-home.ts';
import { JOURNEY, type Journey } from '../../journey/steps.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function electronBinary(): { path: string | null; reason: string } {
  try {
    const binary: unknown = createRequire(import.meta.url)('electron');
    if (typeof binary === 'string' && existsSync(binary)) return { path: binary, reason: '' };
    return { path: null, reason: `the electron package names ${String(binary)}, which does not exist` };
  } catch (error) {
    return {
      path: null,
      reason: `the Electron binary is not installed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    };
  }
}

const binary = electronBinary();

test('the desktop window opens on Datasets isolated from Node, then the whole journey runs over IPC', async () => {
  const testInfo = test.info();
  if (!binary.path)
    console.log(
      `Skipping the Electron journey: ${binary.reason}. Install it with \`node node_modules/electron/install.js\` where the network allows.`,
    );
  test.skip(!binary.path, `Electron journey skipped: ${binary.reason}`);
  test.setTimeout(JOURNEY.reduce((total, step) => total + step.timeoutMs, 120_000));
  // The shell, preload and compiled workers (the renderer is built by the global setup).
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'main/build.ts'], { cwd: root, stdio: 'inherit' });
  expect(built.status, 'building the Electron main process and workers').toBe(0);
  const home = mkdtempSync(path.join(os.tmpdir(), 'effnet-electron-'));
  const prepared = await prepareHome(home);
  const app = await electron.launch({ executablePath: binary.path!, args: [root], env: { ...process.env, EFFNET_HOME: home } });
  try {
    const page = await app.firstWindow();
    const problems = watchConsole(page);
    await expect(page.getByRole('heading', { name: 'Datasets', level: 1 })).toBeVisible();
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { desktop?: { invoke?: unknown } }).desktop?.invoke)).toBe('function');
    await screenshot(page, testInfo, '00-electron-window');
    const journey: Journey = {
      page,
      ...prepared,
      // The window loads the app from a file: routes are its hash.
      open: async (hash = '#/datasets') => {
        await page.evaluate((target) => (window.location.hash = target), hash);
      },
      trainedRunId: 0,
    };
    for (const step of JOURNEY) {
      await test.step(step.title, () => step.run(journey, testInfo));
      expect(problems, `no page errors or console errors during: ${step.title}`).toEqual([]);
    }
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
});
