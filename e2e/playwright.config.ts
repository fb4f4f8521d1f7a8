/**
 * End-to-end tests: the real app as a person uses it. `serve/` drives `effnet serve` in Debian's
 * Chromium; `electron/` drives the desktop app through Playwright's Electron support and skips,
 * saying why, where the Electron binary is missing. Screenshots of every screen land in
 * test-results/screens/.
 */
import { defineConfig } from '@playwright/test';
import { chromiumPath, CHROMIUM_ARGS } from './helpers/browser.ts';

export default defineConfig({
  testDir: './specs',
  outputDir: '../test-results',
  globalSetup: './global-setup.ts',
  // One app, one data folder, one journey in order: the steps build on each other.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: '../playwright-report' }]],
  use: {
    browserName: 'chromium',
    viewport: { width: 1360, height: 900 },
    launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'serve', testMatch: /serve\/.*\.spec\.ts/ },
    { name: 'electron', testMatch: /electron\/.*\.spec\.ts/ },
  ],
});
