/**
 * The journey a person takes in a browser against `effnet serve`: open a generated dataset and
 * read its report, look at the split and the augmentations, start a small training run and watch
 * it to the end, find it in Experiments, compare it with another run, open its confusion matrix,
 * and check the backend in Settings. One page for the whole journey (the app keeps the opened
 * dataset in memory, as a person's tab would).
 */
import { expect, test, type Page } from '@playwright/test';
import { appUrl, e2eState, screenshot, watchConsole } from '../../helpers/app.ts';

const state = e2eState();
let page: Page;
let problems: string[];
let trainedRunId = 0;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  problems = watchConsole(page);
});
test.afterAll(async () => {
  await page.close();
});
test.afterEach(() => {
  expect(problems, 'no page errors or console errors').toEqual([]);
});

test('the Datasets screen explains the first step, then reads a dataset’s health report', async () => {
  const testInfo = test.info();
  await page.goto(appUrl(state));
  await expect(page.getByRole('heading', { name: 'Datasets', level: 1 })).toBeVisible();
  await expect(page.getByText('Open a dataset to start')).toBeVisible();
  await screenshot(page, testInfo, '01-datasets-empty');

  await page.getByLabel('Dataset folder or CSV manifest').fill(state.dataset);
  await page.getByRole('button', { name: 'Inspect' }).click();
  await expect(page.getByRole('heading', { name: 'Health report' })).toBeVisible({ timeout: 30_000 });

  // 4 classes × 14 images, one more in triangles (the copied square), one truncated file.
  const bars = page.getByRole('list', { name: 'Images per class' }).getByRole('listitem');
  await expect(bars).toHaveCount(4);
  await expect(bars.filter({ hasText: 'triangles' })).toContainText('15');
  await expect(bars.filter({ hasText: 'circles' })).toContainText('14');
  await expect(page.locator('.stat', { hasText: 'Unreadable' })).toContainText('1');
  await expect(page.locator('.stat', { hasText: 'Duplicates' })).toContainText('1 leak');
  // Thumbnails of every class are real decoded images.
  const strip = page.getByLabel('Images of circles');
  await expect(strip.locator('img')).toHaveCount(8);
  await expect(strip.locator('img').first()).toHaveAttribute('src', /^data:image\/jpeg;base64,/);

  // The issues name the files: the truncated JPEG, and the leak with both images side by side.
  await expect(page.getByText('circles/truncated.jpg')).toBeVisible();
  await page.getByRole('tab', { name: /Duplicates and leaks/ }).click();
  const leak = page.locator('li', { hasText: 'triangles/looks-like-a-triangle.png' });
  await expect(leak.getByText('leak across classes', { exact: true })).toBeVisible();
  await leak.getByRole('button', { name: 'Show' }).click();
  await expect(leak.locator('img')).toHaveCount(2);
  await screenshot(page, testInfo, '02-datasets-health-report');
});

test('the split keeps every class in training and validation, and the augmentation preview renders', async () => {
  const testInfo = test.info();
  await page.getByRole('button', { name: 'Preview split' }).click();
  const split = page.getByRole('table', { name: 'Images per split' });
  await expect(split).toBeVisible();
  for (const name of state.classes) {
    const cells = split.getByRole('row', { name: new RegExp(`^${name}`) }).getByRole('cell');
    await expect(cells.nth(2)).not.toHaveText('0');
  }
  await expect(split.getByRole('row', { name: /All classes/ })).toContainText('45');
  await page.getByRole('button', { name: 'Render preview' }).click();
  const grid = page.getByRole('img', { name: /Augmented samples/ });
  await expect(grid).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('18 samples')).toBeVisible();
  await screenshot(page, testInfo, '03-datasets-split-and-augmentation');
});

test('New run shows the variants with their numbers and starts a small training run', async () => {
  const testInfo = test.info();
  test.setTimeout(240_000);
  await page.getByRole('button', { name: 'Train on this dataset →' }).click();
  await expect(page.getByRole('heading', { name: 'New run', level: 1 })).toBeVisible();
  const variants = page.getByRole('table', { name: 'Model variants' });
  await expect(variants.getByRole('row', { name: /^B0 / })).toContainText('224 px');
  await expect(variants.getByRole('row', { name: /^B0 / })).toContainText('5.3 M');
  await expect(variants.getByRole('row', { name: /^B7 / })).toContainText('600 px');
  await screenshot(page, testInfo, '04-new-run');

  // The smallest useful model: φ = −2 at 32 px, trained from random weights, 2 epochs.
  await page.getByLabel('Compound coefficient φ').fill('-2');
  await expect(variants.getByRole('row', { name: /^Custom/ })).toContainText('px');
  await page.getByRole('radio', { name: /Full network/ }).check();
  await page.getByRole('radio', { name: 'Random' }).check();
  await page.getByLabel('Epochs', { exact: true }).fill('2');
  await page.getByLabel('Batch size', { exact: true }).fill('16');
  await page.getByText('Advanced settings').click();
  await page.getByLabel(/Input resolution/).fill('32');
  await page.getByLabel(/Seed/).fill('7');
  await page.getByLabel('Run name').fill('e2e tiny shapes');
  await page.getByRole('button', { name: 'Start training' }).click();

  // The run's page opens with the live view, and follows it to the end.
  await expect(page).toHaveURL(/#\/runs\/\d+$/);
  trainedRunId = Number(page.url().split('/').at(-1));
  await expect(page.getByRole('heading', { name: /e2e tiny shapes/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: /Training|Waiting to start/ })).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Run progress' })).toBeVisible();
  await expect(page.getByText(/Started on/)).toBeVisible({ timeout: 90_000 });
  // Steps of the first epoch arrive live (server-sent events), with a loss per step.
  await expect(page.locator('.figures')).toContainText(/Epoch\s*1\s*\/\s*2/, { timeout: 90_000 });
  await expect(page.locator('.badge', { hasText: 'running' })).toBeVisible();
  await screenshot(page, testInfo, '05-live-run');
  await expect(page.locator('.badge', { hasText: 'completed' })).toBeVisible({ timeout: 200_000 });
  await expect(page.getByRole('heading', { name: 'Training', exact: true })).toHaveCount(0);
});

test('the finished run shows its curves, confusion matrix and per-class scores', async () => {
  const testInfo = test.info();
  // Train and validation accuracy, one point per epoch (a flat line has no height, so check the path data).
  const accuracy = page.getByRole('figure').filter({ hasText: 'Accuracy' });
  await expect(accuracy.locator('svg[role=img] path')).toHaveCount(2);
  for (const line of await accuracy.locator('svg[role=img] path').all())
    await expect(line).toHaveAttribute('d', /^M[\d.]+,[\d.]+L[\d.]+,[\d.]+$/);
  const matrix = page.getByRole('table', { name: 'Confusion matrix' });
  await expect(matrix).toBeVisible();
  for (const name of state.classes) await expect(matrix.getByRole('rowheader', { name })).toBeVisible();
  const perClass = page.getByRole('table', { name: 'Per-class precision, recall and F1' });
  await expect(perClass.getByRole('row')).toHaveCount(state.classes.length + 1);
  await expect(page.getByRole('table', { name: 'Artifacts' })).toContainText('checkpoint');
  await page.getByLabel('Add a tag').fill('e2e');
  await page.getByLabel('Add a tag').press('Enter');
  await expect(page.getByRole('button', { name: 'Remove tag e2e' })).toBeVisible();
  await screenshot(page, testInfo, '06-run-detail');
});

test('Experiments lists the run with its best accuracy; two runs compare with only the settings that differ', async () => {
  const testInfo = test.info();
  await page.getByRole('link', { name: 'Experiments' }).click();
  const runs = page.getByRole('table', { name: 'Runs' });
  const trained = runs.getByRole('row', { name: /e2e tiny shapes/ });
  await expect(trained).toContainText('completed', { ignoreCase: true });
  await expect(trained.getByRole('link', { name: 'e2e tiny shapes' })).toHaveAttribute('href', `#/runs/${trainedRunId}`);
  await expect(runs.getByRole('row')).toHaveCount(5);
  // Filter by the tag just added.
  await page.getByLabel('Tag').selectOption('e2e');
  await expect(runs.getByRole('row')).toHaveCount(2);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(runs.getByRole('row')).toHaveCount(5);
  // Sort by best validation accuracy, best first.
  await page.getByRole('button', { name: /Best val acc/ }).click();
  await expect(page.getByRole('columnheader', { name: /Best val acc/ })).toHaveAttribute('aria-sort', 'descending');
  await screenshot(page, testInfo, '07-experiments');

  await page.getByLabel('Select e2e tiny shapes to compare').check();
  await page.getByLabel('Select b0 fine-tune lr 3e-4 to compare').check();
  await page.getByRole('button', { name: 'Compare 2 runs' }).click();
  await expect(page.getByRole('heading', { name: 'Compare 2 runs' })).toBeVisible();
  const diff = page.getByRole('table', { name: 'Settings that differ' });
  await expect(diff.getByRole('row', { name: /model\.variant/ })).toContainText('phi:-2');
  await expect(diff.getByRole('row', { name: /model\.variant/ })).toContainText('b0');
  await expect(page.getByRole('figure').filter({ hasText: 'Validation accuracy' }).locator('svg[role=img] path')).toHaveCount(2);
  await screenshot(page, testInfo, '08-compare');
});

test('Settings shows which backend computes and the weights cache', async () => {
  const testInfo = test.info();
  test.setTimeout(90_000);
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByText(/EffNet Studio \d+\.\d+\.\d+/)).toBeVisible();
  await expect(page.getByText(state.home).first()).toBeVisible();
  const ladder = page.getByRole('table', { name: 'Backend ladder' });
  await expect(ladder).toBeVisible({ timeout: 60_000 });
  await expect(ladder.getByText(/in use:/)).toBeVisible();
  await expect(page.getByRole('table', { name: 'Weights cache' })).toContainText('b0');
  await screenshot(page, testInfo, '09-settings');
});
