import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makeSpec, modelFacts, VARIANT_NAMES } from '../common/efficientnet/index.ts';
import { AppError } from '../common/errors.ts';
import { sharedPath } from '../node/shared-path.ts';
import { BASE_URL_ENV, catalogueEntry, loadCatalogue, parseWeightsVariant, weightsCatalogue } from './catalogue.ts';

/** §1.10 of the facts document: the base URL and the table `| bX | top md5 | notop md5 |`. */
function documentedWeights() {
  const text = readFileSync(sharedPath('docs/reference/efficientnet-facts.md'), 'utf8');
  const section = text.slice(text.indexOf('### 1.10 Weight files'), text.indexOf('**Where the weights came from:**'));
  assert.ok(section.length > 100, 'efficientnet-facts.md has a §1.10 Weight files section');
  const base = /BASE_WEIGHTS_PATH = "([^"]+)"/.exec(section)?.[1];
  const rows = [...section.matchAll(/^\| (b\d) \| ([0-9a-f]{32}) \| ([0-9a-f]{32}) \|$/gm)].map((m) => ({
    variant: m[1]!,
    top: m[2]!,
    notop: m[3]!,
  }));
  return { base, rows };
}

test('the catalogue has the documented base URL, file names and MD5s for B0–B7, top and notop', () => {
  const { base, rows } = documentedWeights();
  assert.equal(rows.length, 8);
  assert.equal(loadCatalogue().baseUrl, base);
  const expected = rows.flatMap((row) => [
    { variant: row.variant, top: true, url: `${base}efficientnet${row.variant}.h5`, md5: row.top },
    { variant: row.variant, top: false, url: `${base}efficientnet${row.variant}_notop.h5`, md5: row.notop },
  ]);
  const actual = weightsCatalogue({}).map(({ variant, top, url, md5 }) => ({ variant, top, url, md5 }));
  assert.deepEqual(actual, expected);
});

test('every entry is named so that fileName is the last part of its URL', () => {
  for (const entry of weightsCatalogue({})) {
    assert.equal(entry.url.split('/').at(-1), entry.fileName);
  }
});

for (const variant of VARIANT_NAMES) {
  test(`${variant}: the approximate sizes are float32 parameters plus a little HDF5 overhead`, () => {
    for (const top of [true, false]) {
      const params = modelFacts(makeSpec(variant, { includeTop: top })).totalParams;
      const { approxBytes } = catalogueEntry(variant, top, {});
      assert.ok(approxBytes > 4 * params, `${variant} top=${top}: ${approxBytes} > 4 × ${params}`);
      assert.ok(approxBytes < 4 * params * 1.05, `${variant} top=${top}: ${approxBytes} < 1.05 × 4 × ${params}`);
    }
  });
}

test('EFFNET_WEIGHTS_BASE_URL replaces the base URL, with or without a trailing slash', () => {
  for (const base of ['http://127.0.0.1:8080/mirror', 'http://127.0.0.1:8080/mirror/']) {
    const entry = catalogueEntry('b3', false, { [BASE_URL_ENV]: base });
    assert.equal(entry.url, 'http://127.0.0.1:8080/mirror/efficientnetb3_notop.h5');
    assert.equal(entry.md5, catalogueEntry('b3', false, {}).md5);
  }
});

test('an EFFNET_WEIGHTS_BASE_URL that is not an http(s) address is a clear error', () => {
  for (const base of ['not a url', 'ftp://127.0.0.1/']) {
    assert.throws(
      () => weightsCatalogue({ [BASE_URL_ENV]: base }),
      (error: unknown) => error instanceof AppError && error.code === 'weights-url' && error.message.includes(base.trim()),
    );
  }
});

const variantCases: [string, string | undefined][] = [
  ['b0', 'b0'],
  ['B7', 'b7'],
  ['efficientnetb2', 'b2'],
  ['EfficientNet-B4', 'b4'],
  [' b5 ', 'b5'],
  ['b8', undefined],
  ['phi:1.5', undefined],
  ['', undefined],
];

for (const [text, expected] of variantCases) {
  test(`the variant '${text}' ${expected ? `names ${expected}` : 'is refused with a clear error'}`, () => {
    if (expected) {
      assert.equal(parseWeightsVariant(text), expected);
    } else {
      assert.throws(
        () => parseWeightsVariant(text),
        (error: unknown) => error instanceof AppError && error.code === 'weights-variant' && error.message.includes(`'${text}'`),
      );
    }
  });
}
