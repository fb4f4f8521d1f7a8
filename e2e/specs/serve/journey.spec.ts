/**
 * The journey (e2e/journey/steps.ts) in Debian's Chromium against `effnet serve`, one test per
 * step on one page (the app keeps the opened dataset in memory, as a person's tab would).
 */
import { expect, test } from '@playwright/test';
import { appUrl, e2eState, watchConsole } from '../../helpers/app.ts';
import { JOURNEY, type Journey } from '../../journey/steps.ts';

const state = e2eState();
let journey: Journey;
let problems: string[];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  problems = watchConsole(page);
  journey = {
    page,
    home: state.home,
    dataset: state.dataset,
    classes: state.classes,
    queries: state.queries,
    open: async (hash = '') => void (await page.goto(appUrl(state, hash))),
    trainedRunId: 0,
  };
});
test.afterAll(async () => {
  await journey.page.close();
});
test.afterEach(() => {
  expect(problems, 'no page errors or console errors').toEqual([]);
});

for (const step of JOURNEY) {
  test(step.title, async () => {
    test.setTimeout(step.timeoutMs);
    await step.run(journey, test.info());
  });
}
