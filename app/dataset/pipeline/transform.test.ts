import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_AUGMENT, NO_AUGMENT, type AugmentConfig, type TransformConfig } from './config.ts';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, colorJitter, randomErasing } from './color.ts';
import {
  centreCropBox,
  flipHorizontal,
  randomResizedCropBox,
  reduceByFactor,
  resampleBox,
  rotateAboutCentre,
  type RgbImage,
} from './geometry.ts';
import { createRandom } from '../../common/random.ts';
import { transformSample } from './transform.ts';

/** R = x, G = y, B = (x + 3y) mod 256: every pixel tells where it came from. */
function coordinateImage(width: number, height: number): RgbImage<Uint8Array> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, (x + 3 * y) % 256], (y * width + x) * 3);
  }
  return { data, width, height };
}

function pixel(data: Float32Array | Uint8Array, width: number, x: number, y: number): number[] {
  const p = (y * width + x) * 3;
  return [data[p]!, data[p + 1]!, data[p + 2]!];
}

function mirrored(data: Float32Array, size: number): Float32Array {
  const copy = data.slice();
  flipHorizontal({ data: copy, width: size, height: size });
  return copy;
}

function augment(overrides: Partial<AugmentConfig>): AugmentConfig {
  return { ...NO_AUGMENT, ...overrides };
}

const train = (a: AugmentConfig | null, imageSize = 32, seed = 7): TransformConfig => ({ imageSize, mode: 'train', augment: a, seed });

test('eval transform: the centre 0.875 of the shorter side, pixel-exact at 1:1 scale', () => {
  // 80x64 source, shorter side 64 → 56-pixel centred box at (12, 4); imageSize 56 means no scaling.
  const source = coordinateImage(80, 64);
  const out = transformSample(source, { imageSize: 56, mode: 'eval', augment: DEFAULT_AUGMENT, seed: 1 }, 0, 0);
  for (const [x, y] of [
    [0, 0],
    [55, 0],
    [0, 55],
    [55, 55],
    [20, 31],
  ] as const) {
    assert.deepEqual(pixel(out, 56, x, y), [x + 12, y + 4, (x + 12 + 3 * (y + 4)) % 256], `output (${x}, ${y})`);
  }
});

test('eval transform ignores the augmentation config and the seed', () => {
  const source = coordinateImage(50, 40);
  const a = transformSample(source, { imageSize: 24, mode: 'eval', augment: DEFAULT_AUGMENT, seed: 1 }, 0, 0);
  const b = transformSample(source, { imageSize: 24, mode: 'eval', augment: null, seed: 99 }, 5, 3);
  assert.deepEqual(a, b);
});

test('downscaling is antialiased and reproduces a linear ramp exactly (symmetric triangle filter)', () => {
  // 128 → 56 from a 112 box at 8: output i samples source centre 9 + 2i, so value 8.5 + 2i.
  const source = coordinateImage(128, 128);
  const out = resampleBox(source, centreCropBox(128, 128, 0.875), 56, 56);
  for (let i = 0; i < 56; i++) {
    assert.ok(Math.abs(pixel(out, 56, i, 10)[0]! - (8.5 + 2 * i)) < 1e-3, `column ${i}`);
    assert.ok(Math.abs(pixel(out, 56, 10, i)[1]! - (8.5 + 2 * i)) < 1e-3, `row ${i}`);
  }
  // A one-pixel checkerboard averages to grey rather than aliasing into stripes.
  const checker = new Uint8Array(64 * 64 * 3).map((_, k) => (((Math.floor(k / 3) % 64) + Math.floor(k / 3 / 64)) % 2 ? 255 : 0));
  const grey = resampleBox({ data: checker, width: 64, height: 64 }, { x: 0, y: 0, width: 64, height: 64 }, 16, 16);
  for (let k = 3 * 17; k < grey.length - 3 * 17; k++) assert.ok(Math.abs(grey[k]! - 127.5) < 1, `value ${grey[k]} at ${k}`);
});

test('upscaling interpolates linearly between pixel centres', () => {
  const source = coordinateImage(10, 10);
  const out = resampleBox(source, { x: 2, y: 2, width: 4, height: 4 }, 8, 8);
  // Output i's centre is at 2 + (i + 0.5)/2 in source units: value centre − 0.5.
  for (let i = 1; i < 7; i++) assert.ok(Math.abs(pixel(out, 8, i, 3)[0]! - (1.5 + (i + 0.5) / 2)) < 1e-4);
});

test('reduceByFactor averages blocks and drops the remainder', () => {
  const source = coordinateImage(5, 4);
  const reduced = reduceByFactor(source, 2);
  assert.equal(reduced.width, 2);
  assert.equal(reduced.height, 2);
  // Block (1,1) covers x 2–3, y 2–3: mean x = 2.5 → rounds to 3 (Math.round), mean y 2.5 → 3.
  assert.deepEqual(pixel(reduced.data, 2, 1, 1).slice(0, 2), [3, 3]);
  assert.deepEqual(pixel(reduced.data, 2, 0, 0).slice(0, 2), [1, 1]);
});

test('random-resized-crop boxes respect the scale and ratio ranges (torchvision get_params)', () => {
  const random = createRandom(3);
  for (let i = 0; i < 500; i++) {
    const box = randomResizedCropBox(300, 200, [0.08, 1], [3 / 4, 4 / 3], random);
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= 300 && box.y + box.height <= 200, JSON.stringify(box));
    const area = (box.width * box.height) / (300 * 200);
    assert.ok(area > 0.07 && area <= 1, `area ${area}`);
    const ratio = box.width / box.height;
    assert.ok(ratio > 0.7 && ratio < 1.42, `ratio ${ratio}`);
  }
  // Impossible requests fall back to the centre crop clamped to the ratio.
  assert.deepEqual(
    randomResizedCropBox(400, 100, [0.99, 1], [1, 1], () => 0.5),
    { x: 150, y: 0, width: 100, height: 100 },
  );
});

test('rotateAboutCentre turns the image counter-clockwise about its centre', () => {
  const data = new Float32Array(9 * 9 * 3);
  data.set([255, 255, 255], (4 * 9 + 8) * 3); // a dot at the middle of the right edge
  const out = rotateAboutCentre({ data, width: 9, height: 9 }, 90, 9, 9);
  assert.ok(Math.abs(pixel(out, 9, 4, 0)[0]! - 255) < 1e-3, 'the dot moved to the top');
  assert.ok(pixel(out, 9, 8, 4)[0]! < 1e-3, 'and left the right edge');
});

test('each augmentation does nothing when off or at strength 0', () => {
  const source = coordinateImage(90, 70);
  const off = transformSample(source, train(NO_AUGMENT), 0, 4);
  const evalOut = transformSample(source, { ...train(null), mode: 'eval' }, 0, 4);
  assert.deepEqual(off, evalOut, 'train with everything off equals eval');
  const cases: [string, AugmentConfig][] = [
    ['flip strength 0', augment({ flip: { enabled: true, strength: 0 } })],
    ['rotation strength 0', augment({ rotation: { enabled: true, strength: 0 } })],
    ['colour jitter strength 0', augment({ colorJitter: { enabled: true, strength: 0 } })],
    ['erasing strength 0', augment({ erasing: { enabled: true, strength: 0 } })],
    [
      'everything disabled but strong',
      augment({ ...NO_AUGMENT, rotation: { enabled: false, strength: 45 }, erasing: { enabled: false, strength: 1 } }),
    ],
  ];
  for (const [name, config] of cases) assert.deepEqual(transformSample(source, train(config), 0, 4), off, name);
});

test('flip mirrors exactly, and leaves the other draws (the crop) unchanged', () => {
  const source = coordinateImage(90, 70);
  const cropped = augment({ crop: DEFAULT_AUGMENT.crop });
  const plain = transformSample(source, train(cropped), 2, 11);
  const flipped = transformSample(source, train({ ...cropped, flip: { enabled: true, strength: 1 } }), 2, 11);
  assert.deepEqual(flipped, mirrored(plain, 32));
  assert.notDeepEqual(flipped, plain);
});

test('rotation rotates about the centre: a radially symmetric image stays the same, stripes do not', () => {
  const size = 48;
  const radial = new Uint8Array(96 * 96 * 3).map((_, k) => {
    const x = (Math.floor(k / 3) % 96) + 0.5 - 48;
    const y = Math.floor(k / 3 / 96) + 0.5 - 48;
    return Math.min(255, Math.round(4 * Math.hypot(x, y)));
  });
  const source = { data: radial, width: 96, height: 96 };
  const rotated = augment({ rotation: { enabled: true, strength: 30 } });
  for (let index = 0; index < 4; index++) {
    const straight = transformSample(source, train(NO_AUGMENT, size), 0, index);
    const turned = transformSample(source, train(rotated, size), 0, index);
    for (let k = 0; k < turned.length; k++) assert.ok(Math.abs(turned[k]! - straight[k]!) < 6, `sample ${index} value ${k}`);
  }
  const stripes = coordinateImage(96, 96);
  assert.notDeepEqual(transformSample(stripes, train(rotated, size), 0, 0), transformSample(stripes, train(NO_AUGMENT, size), 0, 0));
});

test('random erasing changes one rectangle and nothing else', () => {
  const source = coordinateImage(64, 64);
  const config = train(augment({ erasing: { enabled: true, strength: 1 } }), 40);
  for (let index = 0; index < 6; index++) {
    const plain = transformSample(source, train(NO_AUGMENT, 40), 0, index);
    const erased = transformSample(source, config, 0, index);
    let [minX, minY, maxX, maxY, changed] = [40, 40, -1, -1, 0];
    for (let y = 0; y < 40; y++) {
      for (let x = 0; x < 40; x++) {
        if (pixel(erased, 40, x, y).every((v, c) => v === pixel(plain, 40, x, y)[c])) continue;
        [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
        changed++;
      }
    }
    const boxArea = (maxX - minX + 1) * (maxY - minY + 1);
    assert.ok(changed > 0, `sample ${index} was erased`);
    assert.ok(boxArea <= 0.34 * 1600, `sample ${index}: erased area ${boxArea} is at most a third`);
    assert.ok(changed >= boxArea * 0.98, `sample ${index}: the changes fill one rectangle (${changed} of ${boxArea})`);
  }
});

test('randomErasing: probability 0 never erases, 1 always returns the rectangle it filled', () => {
  const image = { data: new Float32Array(30 * 30 * 3).fill(7), width: 30, height: 30 };
  assert.equal(randomErasing(image, 0, createRandom(1)), null);
  assert.ok(image.data.every((v) => v === 7));
  const box = randomErasing(image, 1, createRandom(1))!;
  assert.ok(box);
  const inside = pixel(image.data, 30, box.x, box.y);
  assert.ok(inside.some((v) => v !== 7));
  assert.deepEqual(pixel(image.data, 30, (box.x + box.width) % 30, (box.y + box.height) % 30), [7, 7, 7]);
});

const colourCases: { name: string; op: (image: RgbImage<Float32Array>) => void; input: number[]; expected: number[] }[] = [
  { name: 'brightness 0.5 halves', op: (i) => adjustBrightness(i, 0.5), input: [200, 100, 50], expected: [100, 50, 25] },
  { name: 'brightness 2 clamps at 255', op: (i) => adjustBrightness(i, 2), input: [200, 100, 50], expected: [255, 200, 100] },
  {
    name: 'saturation 0 is greyscale (0.299/0.587/0.114)',
    op: (i) => adjustSaturation(i, 0),
    input: [255, 0, 0],
    expected: [76.245, 76.245, 76.245],
  },
  { name: 'saturation 1 is the identity', op: (i) => adjustSaturation(i, 1), input: [10, 200, 30], expected: [10, 200, 30] },
  { name: 'contrast 0 is the mean grey', op: (i) => adjustContrast(i, 0), input: [0, 0, 255], expected: [29.07, 29.07, 29.07] },
  { name: 'hue +1/3 turn: red → green', op: (i) => adjustHue(i, 1 / 3), input: [255, 0, 0], expected: [0, 255, 0] },
  { name: 'hue 0.5 turn: red → cyan', op: (i) => adjustHue(i, 0.5), input: [200, 0, 0], expected: [0, 200, 200] },
  { name: 'hue −1/6 turn: red → magenta', op: (i) => adjustHue(i, -1 / 6), input: [255, 0, 0], expected: [255, 0, 255] },
  { name: 'hue leaves grey alone', op: (i) => adjustHue(i, 0.3), input: [90, 90, 90], expected: [90, 90, 90] },
];

for (const { name, op, input, expected } of colourCases) {
  test(`colour: ${name}`, () => {
    const image = { data: Float32Array.from(input), width: 1, height: 1 };
    op(image);
    for (let c = 0; c < 3; c++)
      assert.ok(Math.abs(image.data[c]! - expected[c]!) < 1e-3, `channel ${c}: ${image.data[c]} vs ${expected[c]}`);
  });
}

test('colour jitter: strength 0 is the identity; strength 0.4 changes colours and stays in 0–255', () => {
  const base = Float32Array.from({ length: 16 * 16 * 3 }, (_, k) => (k * 37) % 256);
  const same = { data: base.slice(), width: 16, height: 16 };
  colorJitter(same, 0, createRandom(5));
  assert.deepEqual(same.data, base);
  for (let seed = 0; seed < 5; seed++) {
    const jittered = { data: base.slice(), width: 16, height: 16 };
    colorJitter(jittered, 0.4, createRandom(seed));
    assert.notDeepEqual(jittered.data, base);
    assert.ok(jittered.data.every((v) => v >= 0 && v <= 255));
  }
});

test('a sample is a pure function of (seed, epoch, index)', () => {
  const source = coordinateImage(90, 70);
  const config = train(DEFAULT_AUGMENT);
  assert.deepEqual(transformSample(source, config, 3, 5), transformSample(source, config, 3, 5));
  assert.notDeepEqual(transformSample(source, config, 3, 5), transformSample(source, config, 4, 5));
  assert.notDeepEqual(transformSample(source, config, 3, 5), transformSample(source, config, 3, 6));
  assert.notDeepEqual(transformSample(source, config, 3, 5), transformSample(source, { ...config, seed: 8 }, 3, 5));
});

test('a pixel buffer that does not match its size is an error, not garbage', () => {
  assert.throws(() => transformSample({ data: new Uint8Array(10), width: 4, height: 4 }, train(null), 0, 0), /does not hold a 4x4/);
});
