/** What the global setup prepared, and small helpers the specs share. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page, TestInfo } from '@playwright/test';

export interface E2eState {
  /** The URL `effnet serve` printed (with the token). */
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly home: string;
  /** The generated shapes dataset (with one truncated file and one leak). */
  readonly dataset: string;
  readonly classes: readonly string[];
  /** New drawings outside the dataset, one per class (`<class>.png`), to classify after training. */
  readonly queries: string;
}

export function e2eState(): E2eState {
  const text = process.env.EFFNET_E2E_STATE;
  if (!text) throw new Error('EFFNET_E2E_STATE is not set: run the tests with `npm run e2e` (its global setup starts the server).');
  return JSON.parse(text) as E2eState;
}

/** `#/route` on the served app, keeping the token in the query. */
export function appUrl(state: E2eState, hash = ''): string {
  return `${state.url}${hash}`;
}

/** A full-page screenshot of the current screen, kept in test-results/screens and attached to the report. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const folder = path.join(testInfo.project.outputDir, 'screens', testInfo.project.name);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${name}.png`);
  // Let charts and images settle: no animations are running in a screenshot.
  // From the top: the sidebar is sticky, so a scrolled page would draw it part-way down the capture.
  await page.evaluate(async () => {
    window.scrollTo(0, 0);
    await document.fonts.ready;
  });
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** Fails the test on any uncaught page error or console error (a broken screen must not pass). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  return problems;
}
