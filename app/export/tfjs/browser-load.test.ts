/**
 * The tfjs export loads in a real browser with nothing but tfjs' own bundle (no registration code)
 * and predicts what the app's model predicts. Runs in Debian's Chromium, which CI installs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { PROJECT_ROOT } from '../../node/shared-path.ts';
import { buildTestModel, testSpec, TEST_LABELS } from '../test-models.ts';
import { writeTfjsExport } from './tfjs-writer.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TFJS_BUNDLE = path.join(PROJECT_ROOT, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js');
const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.js': 'text/javascript',
  '.bin': 'application/octet-stream',
  '.html': 'text/html',
};

let root: string;
let server: http.Server;
let base: string;

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'effnet-browser-load-'));
  await fs.writeFile(path.join(root, 'index.html'), '<!doctype html><script src="tf.min.js"></script>');
  await fs.copyFile(TFJS_BUNDLE, path.join(root, 'tf.min.js'));
  // Serves only the files of this temporary folder, on loopback.
  server = http.createServer(async (request, response) => {
    const name = path.basename(new URL(request.url ?? '/', 'http://x').pathname) || 'index.html';
    try {
      const body = await fs.readFile(path.join(root, ...(name === 'index.html' || name === 'tf.min.js' ? [name] : ['export', name])));
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await fs.rm(root, { recursive: true, force: true });
});

test('an exported tfjs model loads in Chromium with plain tfjs and predicts like the app', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);
    return;
  }
  await tf.setBackend('cpu');
  const spec = testSpec();
  const model = buildTestModel(spec, 5);
  await writeTfjsExport(model, path.join(root, 'export'), { quantization: 'none', labels: TEST_LABELS });
  const size = spec.resolution * spec.resolution * 3;
  const pixels = Array.from({ length: 2 * size }, (_, i) => (i * 37) % 256);
  const expected = Array.from((model.predict(tf.tensor4d(pixels, [2, spec.resolution, spec.resolution, 3])) as tf.Tensor).dataSync());
  model.dispose();

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/index.html`);
    const actual = await page.evaluate(
      async ({ url, data, resolution }) => {
        const tfjs = (globalThis as unknown as { tf: typeof tf }).tf;
        await tfjs.setBackend('cpu');
        const loaded = await tfjs.loadLayersModel(url);
        const output = loaded.predict(tfjs.tensor4d(data, [2, resolution, resolution, 3])) as tf.Tensor;
        return Array.from(await output.data());
      },
      { url: `${base}/model.json`, data: pixels, resolution: spec.resolution },
    );
    assert.equal(actual.length, expected.length);
    const difference = Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!)));
    console.log(`browser tfjs vs app: max |Δp| = ${difference.toExponential(2)}`);
    assert.ok(difference <= 1e-4, `max |Δp| ${difference}`);
  } finally {
    await browser.close();
  }
});
