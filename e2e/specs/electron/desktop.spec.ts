/**
 * The same app through Playwright's Electron support: the window opens on Datasets, the sandboxed
 * page has the typed bridge and no Node, and a dataset's report comes through IPC. Skips, saying
 * why, where the Electron binary is not installed (npm installs electron without its binary offline).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test } from '@playwright/test';
import { e2eState, screenshot } from '../../helpers/app.ts';

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

test('the desktop window opens on Datasets, isolated from Node, and inspects a dataset over IPC', async () => {
  const testInfo = test.info();
  if (!binary.path)
    console.log(
      `Skipping the Electron journey: ${binary.reason}. Install it with \`node node_modules/electron/install.js\` where the network allows.`,
    );
  test.skip(!binary.path, `Electron journey skipped: ${binary.reason}`);
  test.setTimeout(120_000);
  if (!existsSync(path.join(root, 'dist', 'main', 'main.js'))) {
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'main/build.ts'], { cwd: root, stdio: 'inherit' });
    expect(built.status, 'building the Electron main process').toBe(0);
  }
  const home = mkdtempSync(path.join(os.tmpdir(), 'effnet-electron-'));
  const app = await electron.launch({ executablePath: binary.path!, args: [root], env: { ...process.env, EFFNET_HOME: home } });
  try {
    const page = await app.firstWindow();
    await expect(page.getByRole('heading', { name: 'Datasets', level: 1 })).toBeVisible();
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { desktop?: { invoke?: unknown } }).desktop?.invoke)).toBe('function');
    await page.getByLabel('Dataset folder or CSV manifest').fill(e2eState().dataset);
    await page.getByRole('button', { name: 'Inspect' }).click();
    await expect(page.getByRole('heading', { name: 'Health report' })).toBeVisible({ timeout: 30_000 });
    await screenshot(page, testInfo, '10-electron-datasets');
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
});
