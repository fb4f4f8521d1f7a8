/**
 * The journey a person takes through the app, as ordered steps on one page: open a generated
 * dataset and read its report, look at the split and the augmentations, start a small training run
 * and watch it to the end, open its confusion matrix, export it to ONNX and check its parity,
 * classify a new drawing, find it in Experiments and compare it with another run, run a small
 * scaling search, and check the backend in Settings. The browser spec (against `effnet serve`) and
 * the Electron spec run the same steps.
 */
import path from 'node:path';
import { expect, type Page, type TestInfo } from '@playwright/test';
import { screenshot } from '../helpers/app.ts';

export interface Journey {
  readonly page: Page;
  /** The data folder the app uses, with the generated dataset, drawings to classify and example runs. */
  readonly home: string;
  readonly dataset: string;
  readonly classes: readonly string[];
  /** New drawings outside the dataset, one per class (`<class>.png`). */
  readonly queries: string;
  /** Shows the app at a route (`#/runs/3`), or its first screen. */
  open(hash?: string): Promise<void>;
  /** Set by the training step. */
  trainedRunId: number;
}

export interface JourneyStep {
  readonly title: string;
  readonly timeoutMs: number;
  run(journey: Journey, testInfo: TestInfo): Promise<void>;
}

/**
 * Clicks the first off-diagonal confusion cell with images and checks they show, from the true
 * class's folder; false when the model made no mistakes.
 */
async function openMistakes(page: Page): Promise<boolean> {
  const matrix = page.getByRole('table', { name: 'Confusion matrix' });
  const cells = await matrix.locator('button.cell:enabled').all();
  const titles = await Promise.all(cells.map((cell) => cell.getAttribute('title')));
  const mistake = titles.findIndex((title) => {
    const match = /^(\S+) predicted as (\S+):/.exec(title ?? '');
    return match !== null && match[1] !== match[2];
  });
  if (mistake < 0) return false;
  await cells[mistake]!.click();
  const panel = page.getByTestId('misclassified');
  const [, actual] = /^(\S+) predicted as/.exec(titles[mistake]!)!;
  await expect(panel.locator('img').first()).toHaveAttribute('src', /^data:image\/jpeg;base64,/);
  await expect(panel.locator('img').first()).toHaveAttribute('alt', new RegExp(`^${actual}/`));
  return true;
}

export const JOURNEY: readonly JourneyStep[] = [
  {
    title: 'the Datasets screen explains the first step, then reads a dataset’s health report',
    timeoutMs: 60_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await journey.open();
      await expect(page.getByRole('heading', { name: 'Datasets', level: 1 })).toBeVisible();
      await expect(page.getByText('Open a dataset to start')).toBeVisible();
      await screenshot(page, testInfo, '01-datasets-empty');

      await page.getByLabel('Dataset folder or CSV manifest').fill(journey.dataset);
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
    },
  },
  {
    title: 'the split keeps every class in training and validation, and the augmentation preview renders',
    timeoutMs: 60_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await page.getByRole('button', { name: 'Preview split' }).click();
      const split = page.getByRole('table', { name: 'Images per split' });
      await expect(split).toBeVisible();
      for (const name of journey.classes) {
        const cells = split.getByRole('row', { name: new RegExp(`^${name}`) }).getByRole('cell');
        await expect(cells.nth(2)).not.toHaveText('0');
      }
      await expect(split.getByRole('row', { name: /All classes/ })).toContainText('45');
      await page.getByRole('button', { name: 'Render preview' }).click();
      const grid = page.getByRole('img', { name: /Augmented samples/ });
      await expect(grid).toBeVisible({ timeout: 30_000 });
      await expect(page.getByText('18 samples')).toBeVisible();
      await screenshot(page, testInfo, '03-datasets-split-and-augmentation');
    },
  },
  {
    title: 'New run shows the variants with their numbers and starts a small training run',
    timeoutMs: 240_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await page.getByRole('button', { name: 'Train on this dataset →' }).click();
      await expect(page.getByRole('heading', { name: 'New run', level: 1 })).toBeVisible();
      const variants = page.getByRole('table', { name: 'Model variants' });
      await expect(variants.getByRole('row', { name: /^B0 / })).toContainText('224 px');
      await expect(variants.getByRole('row', { name: /^B0 / })).toContainText('5.3 M');
      await expect(variants.getByRole('row', { name: /^B7 / })).toContainText('600 px');
      // Each variant's time per epoch on this machine's backend (a speed probe until a run has finished here).
      await expect(page.getByTestId('estimate-note')).toContainText(/Time per epoch estimated on \w+/, { timeout: 60_000 });
      await expect(page.getByTestId('epoch-time-b0')).toHaveText(/^(~\d+(\.\d)? (s|min|h)|< 1 s)$/);
      await screenshot(page, testInfo, '04-new-run');

      // A tiny model that learns the shapes in seconds: φ = −4 at 32 px from random weights, 10 short
      // epochs without augmentation (the classes differ in shape and hue band), seeded so it repeats.
      await page.getByLabel('Compound coefficient φ').fill('-4');
      await expect(variants.getByRole('row', { name: /^Custom/ })).toContainText('px');
      await page.getByRole('radio', { name: /Full network/ }).check();
      await page.getByRole('radio', { name: 'Random' }).check();
      await page.getByLabel('Epochs', { exact: true }).fill('10');
      await page.getByLabel('Batch size', { exact: true }).fill('8');
      await page.getByText('Advanced settings').click();
      await page.getByLabel(/Input resolution/).fill('32');
      await page.getByLabel(/Seed/).fill('7');
      await page.getByLabel(/Data augmentation/).uncheck();
      await page.getByLabel('Run name').fill('e2e tiny shapes');
      await page.getByRole('button', { name: 'Start training' }).click();

      // The run's page opens with the live view, and follows it to the end.
      await expect(page).toHaveURL(/#\/runs\/\d+$/);
      journey.trainedRunId = Number(page.url().split('/').at(-1));
      await expect(page.getByRole('heading', { name: /e2e tiny shapes/ })).toBeVisible();
      await expect(page.getByRole('heading', { name: /Training|Waiting to start/ })).toBeVisible();
      await expect(page.getByRole('progressbar', { name: 'Run progress' })).toBeVisible();
      await expect(page.getByText(/Started on/)).toBeVisible({ timeout: 90_000 });
      // Steps of the first epoch arrive live (server-sent events), with a loss per step.
      await expect(page.locator('.figures')).toContainText(/Epoch\s*1\s*\/\s*10/, { timeout: 90_000 });
      await expect(page.locator('.badge', { hasText: 'running' })).toBeVisible();
      await screenshot(page, testInfo, '05-live-run');
      await expect(page.locator('.badge', { hasText: 'completed' })).toBeVisible({ timeout: 200_000 });
      await expect(page.getByRole('heading', { name: 'Training', exact: true })).toHaveCount(0);
    },
  },
  {
    title: 'the finished run shows its curves, confusion matrix and per-class scores',
    timeoutMs: 60_000,
    async run(journey, testInfo) {
      const page = journey.page;
      // Train and validation accuracy, one point per epoch of the 10 (a flat line has no height, so check the path data).
      const accuracy = page.getByRole('figure').filter({ hasText: 'Accuracy' });
      await expect(accuracy.locator('svg[role=img] path')).toHaveCount(2);
      for (const line of await accuracy.locator('svg[role=img] path').all())
        await expect(line).toHaveAttribute('d', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){9}$/);
      const matrix = page.getByRole('table', { name: 'Confusion matrix' });
      await expect(matrix).toBeVisible();
      for (const name of journey.classes) await expect(matrix.getByRole('rowheader', { name })).toBeVisible();
      // A cell opens its images: the mistakes with the model's confidence, or, on the diagonal, says they were right.
      if (!(await openMistakes(page))) {
        console.log('e2e: the trained run made no validation mistakes; opening a diagonal cell instead (the scaling step opens mistakes).');
        await matrix.locator('button.cell:enabled').first().click();
        await expect(page.getByTestId('misclassified')).toContainText('were classified correctly');
      }
      const perClass = page.getByRole('table', { name: 'Per-class precision, recall and F1' });
      await expect(perClass.getByRole('row')).toHaveCount(journey.classes.length + 1);
      await expect(page.getByRole('table', { name: 'Artifacts' })).toContainText('checkpoint');
      await page.getByLabel('Add a tag').fill('e2e');
      await page.getByLabel('Add a tag').press('Enter');
      await expect(page.getByRole('button', { name: 'Remove tag e2e' })).toBeVisible();
      await screenshot(page, testInfo, '06-run-detail');
    },
  },
  {
    title: 'Export writes a verified ONNX model of the run and lists it with its parity report',
    timeoutMs: 180_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await journey.open(`#/runs/${journey.trainedRunId}`);
      await page.getByTestId('run-export-button').click();
      await expect(page).toHaveURL(new RegExp(`#/export/${journey.trainedRunId}$`));
      await expect(page.getByTestId('model-run')).toHaveValue(String(journey.trainedRunId));
      await page.getByTestId('export-format-onnx').check();
      await page.getByTestId('export-start').click();
      const verdict = page.getByTestId('export-verdict');
      await expect(verdict).toBeVisible({ timeout: 150_000 });
      await expect(verdict).toContainText('Verified: the export gives the same results');
      // The numbers behind the verdict: the largest difference from the app's model, under its limit.
      const difference = Number(await page.getByTestId('export-max-diff').locator('.value').innerText());
      expect(difference).toBeLessThan(1e-4);
      await expect(page.getByTestId('export-artifact')).toContainText('model.onnx');
      await screenshot(page, testInfo, '07-export');

      // The run's page lists the export with its report.
      await journey.open(`#/runs/${journey.trainedRunId}`);
      await expect(page.getByRole('table', { name: 'Exports' })).toContainText('onnx');
    },
  },
  {
    title: 'Classify labels a new drawing with the trained run, with its top classes as bars',
    timeoutMs: 120_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await page.getByRole('link', { name: 'Classify' }).click();
      await page.getByTestId('model-run').selectOption(String(journey.trainedRunId));
      // A stripes drawing the dataset does not hold, dropped in as a browser would (no file path).
      await page.getByTestId('classify-file-input').setInputFiles(path.join(journey.queries, 'stripes.png'));
      await page.getByTestId('classify-start').click();
      const result = page.getByTestId('classify-result').first();
      await expect(result).toBeVisible({ timeout: 90_000 });
      await expect(result.locator('strong').first()).toHaveText('stripes');
      await expect(
        page
          .getByRole('list', { name: /^Top \d+ for stripes\.png/ })
          .getByRole('listitem')
          .first(),
      ).toContainText('stripes');
      await screenshot(page, testInfo, '08-classify');
    },
  },
  {
    title: 'Experiments lists the run with its best accuracy; two runs compare with only the settings that differ',
    timeoutMs: 60_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await page.getByRole('link', { name: 'Experiments' }).click();
      const runs = page.getByRole('table', { name: 'Runs' });
      const trained = runs.getByRole('row', { name: /e2e tiny shapes/ });
      await expect(trained).toContainText('completed', { ignoreCase: true });
      await expect(trained.getByRole('link', { name: 'e2e tiny shapes' })).toHaveAttribute('href', `#/runs/${journey.trainedRunId}`);
      await expect(runs.getByRole('row')).toHaveCount(5);
      // Filter by the tag just added.
      await page.getByLabel('Tag').selectOption('e2e');
      await expect(runs.getByRole('row')).toHaveCount(2);
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await expect(runs.getByRole('row')).toHaveCount(5);
      // Sort by best validation accuracy, best first.
      await page.getByRole('button', { name: /Best val acc/ }).click();
      await expect(page.getByRole('columnheader', { name: /Best val acc/ })).toHaveAttribute('aria-sort', 'descending');
      await screenshot(page, testInfo, '09-experiments');

      await page.getByLabel('Select e2e tiny shapes to compare').check();
      await page.getByLabel('Select b0 fine-tune lr 3e-4 to compare').check();
      await page.getByRole('button', { name: 'Compare 2 runs' }).click();
      await expect(page.getByRole('heading', { name: 'Compare 2 runs' })).toBeVisible();
      const diff = page.getByRole('table', { name: 'Settings that differ' });
      await expect(diff.getByRole('row', { name: /model\.variant/ })).toContainText('phi:-4');
      await expect(diff.getByRole('row', { name: /model\.variant/ })).toContainText('b0');
      await expect(page.getByRole('figure').filter({ hasText: 'Validation accuracy' }).locator('svg[role=img] path')).toHaveCount(2);
      await screenshot(page, testInfo, '10-compare');
    },
  },
  {
    title: 'the Scaling lab searches two α, β, γ candidates as ordinary runs and charts them beside the B-series',
    timeoutMs: 300_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await page.getByRole('link', { name: 'Scaling lab' }).click();
      await page.locator('input[name=scaling-dataset]').fill(journey.dataset);
      await page.locator('input[name=scaling-base][value=phi]').check();
      await page.getByLabel('Base φ').fill('-6');
      await page.locator('input[name=scaling-resolution]').fill('32');
      await page.locator('input[name=scaling-max-candidates]').fill('2');
      await page.locator('input[name=scaling-epochs]').fill('1');
      await page.locator('input[name=scaling-seed]').fill('3');
      // The grid preview keeps only candidates near α·β²·γ² = 2 and says how many of the grid that is.
      await expect(page.getByTestId('scaling-plan-summary')).toContainText(/keep/);
      await page.getByRole('button', { name: 'Start search' }).click();
      const candidates = page.getByRole('table', { name: 'Candidates' });
      await expect(candidates).toBeVisible({ timeout: 60_000 });
      await expect(page.getByTestId('scaling-chosen')).toContainText(
        /^\s*Chosen: α = [\d.]+, β = [\d.]+, γ = [\d.]+ · α·β²·γ² = [\d.]+ \(within 2/,
        {
          timeout: 240_000,
        },
      );
      // Both candidates trained and were scored; each satisfies the constraint the screen states.
      await expect(candidates.getByRole('row').filter({ hasText: 'completed' })).toHaveCount(2);
      await expect(page.getByRole('img', { name: /Accuracy/ })).toBeVisible();
      await expect(page.getByRole('table', { name: 'Family' })).toBeVisible();
      await screenshot(page, testInfo, '11-scaling-lab');
      // Every candidate is an ordinary run in Experiments, tagged with the search.
      await page.getByRole('link', { name: 'Experiments' }).click();
      await expect(page.getByRole('table', { name: 'Runs' }).getByRole('row').filter({ hasText: /α/ })).toHaveCount(2);
      // A one-epoch candidate gets some validation images wrong: its confusion matrix opens them.
      await page.getByRole('table', { name: 'Runs' }).getByRole('row').filter({ hasText: /α/ }).first().getByRole('link').first().click();
      await expect(page.getByRole('table', { name: 'Confusion matrix' })).toBeVisible();
      expect(await openMistakes(page), 'a one-epoch candidate made mistakes to open').toBe(true);
      await screenshot(page, testInfo, '12-misclassified-images');
    },
  },
  {
    title: 'Settings shows which backend computes and the weights cache',
    timeoutMs: 90_000,
    async run(journey, testInfo) {
      const page = journey.page;
      await page.getByRole('link', { name: 'Settings' }).click();
      await expect(page.getByText(/EffNet Studio \d+\.\d+\.\d+/)).toBeVisible();
      await expect(page.getByText(journey.home).first()).toBeVisible();
      const ladder = page.getByRole('table', { name: 'Backend ladder' });
      await expect(ladder).toBeVisible({ timeout: 60_000 });
      await expect(ladder.getByText(/in use:/)).toBeVisible();
      await expect(page.getByRole('table', { name: 'Weights cache' })).toContainText('b0');
      await screenshot(page, testInfo, '13-settings');
    },
  },
];
