import fs from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../common/random.ts';

/**
 * Test helpers for keras-h5: an HDF5 writer that mimics what h5py does under Keras'
 * `save_weights` (written independently of keras-h5-file.ts, so the reader is not only tested
 * against our own writer), and the Keras B0 layout parsed from efficientnet-b0-layers.md.
 */

export interface LayoutDataset {
  /** As in `weight_names`, relative to the layer's group: `stem_conv/kernel:0`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export interface KerasLayout {
  /** The root `layer_names` attribute, weightless layers included. */
  readonly layerNames: readonly string[];
  /** Weights of the layers that have some, by layer name. */
  readonly weights: ReadonlyMap<string, readonly LayoutDataset[]>;
}

/** Writes `layout` as h5py would under Keras: fixed-length byte-string attributes, `[]` as an empty float64 array. */
export async function writeKerasLayout(file: string, layout: KerasLayout, options: { layerNameChunks?: number } = {}): Promise<void> {
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const f = new h5.File(file, 'w');
  const strings = (group: InstanceType<typeof h5.Group>, name: string, values: readonly string[]) => {
    if (values.length === 0) return group.create_attribute(name, new Float64Array(0), [0], '<d');
    const width = Math.max(...values.map((v) => v.length));
    group.create_attribute(name, [...values], [values.length], `S${width}`);
  };
  const chunks = options.layerNameChunks ?? 1;
  if (chunks === 1) strings(f, 'layer_names', layout.layerNames);
  else {
    const size = Math.ceil(layout.layerNames.length / chunks);
    for (let c = 0; c < chunks; c++) strings(f, `layer_names${c}`, layout.layerNames.slice(c * size, (c + 1) * size));
  }
  f.create_attribute('backend', 'tensorflow', null, 'S10');
  f.create_attribute('keras_version', '2.9.0', null, 'S5');
  for (const layerName of layout.layerNames) {
    const group = f.create_group(layerName);
    const datasets = layout.weights.get(layerName) ?? [];
    strings(
      group,
      'weight_names',
      datasets.map((d) => d.name),
    );
    for (const dataset of datasets) {
      const [inner, leaf] = dataset.name.split('/') as [string, string];
      const parent = (group.get(inner) as InstanceType<typeof h5.Group> | null) ?? group.create_group(inner);
      parent.create_dataset({
        name: leaf,
        data: dataset.data,
        shape: [...dataset.shape],
        dtype: dataset.data instanceof BigInt64Array ? '<q' : '<f',
      });
    }
  }
  f.close();
}

/** A model's weights in Keras' layout (names `<layer>/<weight>:0`, Normalization count as int64). */
export async function modelLayout(model: tf.LayersModel): Promise<{ layerNames: string[]; weights: Map<string, LayoutDataset[]> }> {
  const weights = new Map<string, LayoutDataset[]>();
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const datasets: LayoutDataset[] = [];
    for (const weight of layer.weights) {
      const base = weight.originalName.split('/').at(-1)!;
      const values = Float32Array.from(await weight.read().data());
      const data = base === 'count' ? BigInt64Array.from(values, (v) => BigInt(Math.round(v))) : values;
      datasets.push({ name: `${layer.name}/${base}:0`, shape: weight.shape as number[], data });
    }
    weights.set(layer.name, datasets);
  }
  return { layerNames: model.layers.map((layer) => layer.name), weights };
}

/** Sets every weight to seeded random values (variances positive), so two models predict differently. */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  const random = createRandom(seed);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((weight) => {
      const size = weight.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      const positive = /variance|count/.test(weight.originalName);
      const data = Float32Array.from({ length: size }, () => (positive ? 0.5 + random() : (random() - 0.5) * 0.6));
      return tf.tensor(data, weight.shape as number[]);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

export interface ReferenceLayer {
  readonly name: string;
  readonly className: string;
  readonly weights: readonly { readonly name: string; readonly shape: number[] }[];
}

/**
 * The 241 Keras B0 layers of efficientnet-b0-layers.md (a reference listing, not our code): name,
 * class, and each weight's `weight_names` entry (its dataset path minus the group) with its shape.
 */
export async function readReferenceLayers(markdownFile: string): Promise<ReferenceLayer[]> {
  const text = await fs.readFile(markdownFile, 'utf8');
  const rows = text.split('\n').filter((line) => /^\| \d+ \| `/.test(line));
  return rows.map((row) => {
    const cells = row.split('|').map((cell) => cell.trim());
    const name = cells[2]!.replace(/`/g, '');
    const shapes = [...cells[4]!.matchAll(/(\w+)\[([\d, ]*)\]/g)].map((m) => (m[2]!.trim() === '' ? [] : m[2]!.split(',').map(Number)));
    const paths = cells[5] === '—' ? [] : cells[5]!.split('<br>').map((p) => p.replace(/`/g, ''));
    if (paths.length !== shapes.length)
      throw new Error(`efficientnet-b0-layers.md: row '${name}' lists ${shapes.length} weights and ${paths.length} paths`);
    return {
      name,
      className: cells[3]!,
      weights: paths.map((p, i) => ({ name: p.slice(name.length + 1), shape: shapes[i]! })),
    };
  });
}
