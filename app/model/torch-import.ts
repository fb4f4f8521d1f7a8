import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import { makeSpec, resolveArchitecture, VARIANT_NAMES, type ModelSpecOptions, type VariantName } from '../common/efficientnet/index.ts';
import { findLayer, setLayerWeights, transposeData, type WeightValue } from './assign.ts';
import { parseSafetensors, type SafeTensor } from './safetensors.ts';

/**
 * PyTorch EfficientNet state dicts → the Keras-named tfjs model (efficientnet-facts §3.1, §3.2).
 * torchvision: `features.0.{0,1}` stem, `features.{s}.{j}.block.{i}` blocks (stage-1 blocks have
 * no expand conv, so their indices start one lower), `features.{stages+1}` head, `classifier.1`.
 * timm: `conv_stem`/`bn1`, `blocks.{s-1}.{j}` (DepthwiseSeparableConv in stage 1, InvertedResidual
 * after), `conv_head`/`bn2`, `classifier`. PyTorch layouts are transposed to tfjs'.
 */
export type TorchLayout = 'torchvision' | 'timm';

type Transform = 'conv' | 'depthwise' | 'linear' | 'none';
/** Axis permutations from PyTorch to tfjs: OIHW→HWIO, (C,1,k,k)→(k,k,C,1), (out,in)→(in,out). */
const PERMUTATIONS: Record<Exclude<Transform, 'none'>, number[]> = { conv: [2, 3, 1, 0], depthwise: [2, 3, 0, 1], linear: [1, 0] };
const BN_PARAMS = ['weight', 'bias', 'running_mean', 'running_var'];

interface LayerPlan {
  readonly layer: string;
  readonly sources: readonly { name: string; transform: Transform }[];
}

export interface TorchImportOptions {
  /** Leave `predictions` as built and ignore the file's classifier: for fine-tuning on other classes. */
  readonly ignoreClassifier?: boolean;
  /** Used in messages; defaults to the path. */
  readonly label?: string;
}

export interface TorchImportReport {
  readonly layout: TorchLayout;
  readonly layers: number;
  readonly tensors: number;
}

type TensorSource = string | Uint8Array | Map<string, SafeTensor>;

/** Detects the naming scheme; also strips DataParallel's `module.` prefix. */
export function detectTorchLayout(
  tensors: Map<string, SafeTensor>,
  label = 'the weights file',
): { layout: TorchLayout; tensors: Map<string, SafeTensor> } {
  let named = tensors;
  const names = [...tensors.keys()];
  if (names.length > 0 && names.every((name) => name.startsWith('module.'))) {
    named = new Map([...tensors].map(([name, tensor]) => [name.slice('module.'.length), tensor]));
  }
  if (named.has('features.0.0.weight')) return { layout: 'torchvision', tensors: named };
  if (named.has('conv_stem.weight')) return { layout: 'timm', tensors: named };
  throw new AppError('torch-layout-unknown', `${label} is not a torchvision or timm EfficientNet state dict`, {
    hint: "Expected 'features.0.0.weight' (torchvision) or 'conv_stem.weight' (timm).",
    details: { firstNames: names.slice(0, 8) },
  });
}

/** The file's tensor for every weight of every weighted layer, from the model's own layer names. */
function planImport(model: tf.LayersModel, layout: TorchLayout): LayerPlan[] {
  const names = new Set(model.layers.map((layer) => layer.name));
  const stages = Math.max(0, ...model.layers.map((layer) => Number(/^block(\d+)/.exec(layer.name)?.[1] ?? 0)));
  const plans: LayerPlan[] = [];
  for (const layer of model.layers) {
    if (layer.weights.length === 0 || layer.getClassName() === 'Normalization') continue;
    const module = torchModule(layer.name, layout, stages, names);
    const className = layer.getClassName();
    let sources: LayerPlan['sources'];
    if (className === 'BatchNormalization') {
      sources = BN_PARAMS.map((param) => ({ name: `${module}.${param}`, transform: 'none' as const }));
    } else {
      const transform: Transform = className === 'DepthwiseConv2D' ? 'depthwise' : className === 'Dense' ? 'linear' : 'conv';
      sources = [{ name: `${module}.weight`, transform }];
      if (layer.weights.length === 2) sources = [...sources, { name: `${module}.bias`, transform: 'none' }];
    }
    plans.push({ layer: layer.name, sources });
  }
  return plans;
}

const TORCHVISION_PARTS: Record<string, string> = {
  expand_conv: '0.0',
  expand_bn: '0.1',
  dwconv: '1.0',
  bn: '1.1',
  se_reduce: '2.fc1',
  se_expand: '2.fc2',
  project_conv: '3.0',
  project_bn: '3.1',
};
const TIMM_PARTS: Record<string, string> = {
  expand_conv: 'conv_pw',
  expand_bn: 'bn1',
  dwconv: 'conv_dw',
  bn: 'bn2',
  se_reduce: 'se.conv_reduce',
  se_expand: 'se.conv_expand',
  project_conv: 'conv_pwl',
  project_bn: 'bn3',
};
/** timm's DepthwiseSeparableConv (blocks without expansion) names its layers differently. */
const TIMM_DS_PARTS: Record<string, string> = {
  dwconv: 'conv_dw',
  bn: 'bn1',
  se_reduce: 'se.conv_reduce',
  se_expand: 'se.conv_expand',
  project_conv: 'conv_pw',
  project_bn: 'bn2',
};

/** The PyTorch module path that holds a Keras-named layer's weights. */
function torchModule(layerName: string, layout: TorchLayout, stages: number, layerNames: Set<string>): string {
  const fixed: Record<string, [string, string]> = {
    stem_conv: ['features.0.0', 'conv_stem'],
    stem_bn: ['features.0.1', 'bn1'],
    top_conv: [`features.${stages + 1}.0`, 'conv_head'],
    top_bn: [`features.${stages + 1}.1`, 'bn2'],
    predictions: ['classifier.1', 'classifier'],
  };
  const pair = fixed[layerName];
  if (pair) return layout === 'torchvision' ? pair[0] : pair[1];
  const match = /^block(\d+)(.)_(.+)$/.exec(layerName);
  if (match) {
    const [, stage, letter, part] = match as unknown as [string, string, string, string];
    const index = letter.charCodeAt(0) - 97;
    const expands = layerNames.has(`block${stage}${letter}_expand_conv`);
    if (layout === 'torchvision') {
      const path = TORCHVISION_PARTS[part];
      if (path) {
        // Without an expand conv every module index moves down by one.
        const [first, rest] = [Number(path.split('.')[0]), path.slice(path.indexOf('.') + 1)];
        return `features.${stage}.${index}.block.${expands ? first : first - 1}.${rest}`;
      }
    } else {
      const path = (expands ? TIMM_PARTS : TIMM_DS_PARTS)[part];
      if (path) return `blocks.${Number(stage) - 1}.${index}.${path}`;
    }
  }
  throw new AppError('torch-import-unsupported-layer', `Layer '${layerName}' has weights but no ${layout} counterpart`, {
    hint: 'Only models built by buildEfficientNet can take PyTorch EfficientNet weights.',
  });
}

const list = (names: string[]) => names.slice(0, 12).join(', ') + (names.length > 12 ? `, … (${names.length} in all)` : '');
const isClassifier = (name: string) => name.startsWith('classifier.');

/**
 * Loads a torchvision or timm EfficientNet state dict (safetensors path, bytes or parsed map) into
 * a model built by buildEfficientNet, layout detected from the names. Every model weight must come
 * from the file and every file tensor must be used (BN `num_batches_tracked` aside); otherwise an
 * AppError lists the missing and unexpected names and nothing is written. The preprocessing layer
 * keeps its ImageNet statistics, which is what these models expect as input normalisation.
 */
export function importTorchWeights(model: tf.LayersModel, source: TensorSource, options: TorchImportOptions = {}): TorchImportReport {
  const label = options.label ?? (typeof source === 'string' ? source : 'the weights file');
  const parsed = source instanceof Map ? source : parseSafetensors(source, label).tensors;
  const { layout, tensors } = detectTorchLayout(parsed, label);
  const plans = planImport(model, layout).filter((plan) => !(options.ignoreClassifier && plan.layer === 'predictions'));

  const wanted = new Set(plans.flatMap((plan) => plan.sources.map((s) => s.name)));
  const missing = [...wanted].filter((name) => !tensors.has(name));
  const unexpected = [...tensors.keys()].filter(
    (name) => !wanted.has(name) && !name.endsWith('num_batches_tracked') && !(options.ignoreClassifier && isClassifier(name)),
  );
  if (missing.length > 0 || unexpected.length > 0) {
    const parts = [
      missing.length > 0 ? `missing ${missing.length} tensor(s): ${list(missing)}` : '',
      unexpected.length > 0 ? `${unexpected.length} unexpected tensor(s): ${list(unexpected)}` : '',
    ].filter(Boolean);
    const classifierOnly = [...missing, ...unexpected].every(isClassifier);
    throw new AppError('torch-weights-mismatch', `${label} (${layout} layout) does not fit model '${model.name}': ${parts.join('; ')}`, {
      hint: classifierOnly
        ? 'Only the classifier differs: import with ignoreClassifier to fine-tune on your own classes.'
        : 'The file was made for another variant (width/depth): build the model with the variant the weights were trained as.',
      details: { missing, unexpected, layout },
    });
  }

  // Check every shape before writing anything, so a bad file leaves the model untouched.
  const converted = (plan: LayerPlan): WeightValue[] =>
    plan.sources.map(({ name, transform }) => {
      const tensor = tensors.get(name)!;
      return transform === 'none'
        ? { shape: tensor.shape, data: tensor.data }
        : transposeData(tensor.data, tensor.shape, PERMUTATIONS[transform]);
    });
  for (const plan of plans) {
    const weights = findLayer(model, plan.layer).weights;
    plan.sources.forEach(({ name, transform }, index) => {
      const shape = tensors.get(name)!.shape;
      const target = transform === 'none' ? shape : PERMUTATIONS[transform].map((axis) => shape[axis]!);
      const expected = weights[index]!.shape;
      if (target.length !== expected.length || target.some((d, i) => d !== expected[i])) {
        throw new AppError(
          'weights-shape-mismatch',
          `Layer '${plan.layer}' weight ${index} has shape [${expected.join(', ')}] but '${name}' in ${label} has shape [${shape.join(', ')}] (→ [${target.join(', ')}])`,
          {
            hint: isClassifier(name)
              ? 'The classifier has another number of classes: import with ignoreClassifier to fine-tune, or build with the file’s class count.'
              : 'The file was made for another variant (width/depth): build the model with the variant the weights were trained as.',
            details: { layer: plan.layer, tensor: name, expected, got: shape },
          },
        );
      }
    });
  }
  for (const plan of plans) setLayerWeights(model, plan.layer, converted(plan));
  return { layout, layers: plans.length, tensors: wanted.size };
}

export interface TorchWeightsInfo {
  readonly layout: TorchLayout;
  readonly stemFilters: number;
  readonly headFilters: number;
  readonly stageRepeats: readonly number[];
  readonly stageFilters: readonly number[];
  /** null when the file has no classifier. */
  readonly numClasses: number | null;
  /** The B0–B7 table row these widths and repeats are, or null for a custom width/depth. */
  readonly variant: VariantName | null;
}

/** The architecture a state dict holds, read from its names and shapes. */
export function describeTorchWeights(source: TensorSource, label?: string): TorchWeightsInfo {
  const parsed = source instanceof Map ? source : parseSafetensors(source, label).tensors;
  const { layout, tensors } = detectTorchLayout(parsed, label);
  const shapeOf = (name: string) => tensors.get(name)?.shape;
  const blockPattern = layout === 'torchvision' ? /^features\.(\d+)\.(\d+)\.block\./ : /^blocks\.(\d+)\.(\d+)\./;
  const stageOffset = layout === 'torchvision' ? 1 : 0;
  const counts: number[] = [];
  for (const name of tensors.keys()) {
    const match = blockPattern.exec(name);
    if (!match) continue;
    const stage = Number(match[1]) - stageOffset;
    counts[stage] = Math.max(counts[stage] ?? 0, Number(match[2]) + 1);
  }
  const stageRepeats = Array.from(counts, (n) => n ?? 0);
  const stages = stageRepeats.length;
  // Output channels of each stage: the first block's projection BN.
  const stageFilters = stageRepeats.map((_, s) => {
    const prefix = layout === 'torchvision' ? `features.${s + 1}.0.block.` : `blocks.${s}.0.`;
    const candidates =
      layout === 'torchvision' ? [`${prefix}3.1.weight`, `${prefix}2.1.weight`] : [`${prefix}bn3.weight`, `${prefix}bn2.weight`];
    // For torchvision's expandless blocks index 2.1 is the projection BN; with expansion 3.1 is.
    const found = candidates.map(shapeOf).find((shape) => shape !== undefined);
    return found?.[0] ?? 0;
  });
  const stem = shapeOf(layout === 'torchvision' ? 'features.0.0.weight' : 'conv_stem.weight');
  const head = shapeOf(layout === 'torchvision' ? `features.${stages + 1}.0.weight` : 'conv_head.weight');
  const classifier = shapeOf(layout === 'torchvision' ? 'classifier.1.weight' : 'classifier.weight');
  const info = {
    layout,
    stemFilters: stem?.[0] ?? 0,
    headFilters: head?.[0] ?? 0,
    stageRepeats,
    stageFilters,
    numClasses: classifier ? classifier[0]! : null,
  };
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const variant =
    VARIANT_NAMES.find((name) => {
      const arch = resolveArchitecture(makeSpec(name));
      return (
        arch.stemFilters === info.stemFilters &&
        arch.headFilters === info.headFilters &&
        same(arch.stageRepeats, stageRepeats) &&
        same(arch.stageFilters, stageFilters)
      );
    }) ?? null;
  return { ...info, variant };
}

export interface InferredTorchSpec {
  readonly info: TorchWeightsInfo;
  /** `b0`…`b7`, or null when the width/depth are not a table row (pass them yourself). */
  readonly variant: VariantName | null;
  readonly options: ModelSpecOptions;
  /** What could not be read from the file and was assumed. */
  readonly notes: readonly string[];
}

/**
 * The spec options the weights were trained with, which the tensors alone do not say:
 * - timm `tf_efficientnet_bX` (ported TF checkpoints): `same` padding, BN epsilon 1e-3.
 * - timm `efficientnet_bX` (trained in PyTorch): `symmetric` padding, epsilon 1e-5.
 * - torchvision `efficientnet_b0`–`b4`: `symmetric`, 1e-5; `b5`–`b7` use BatchNorm2d(eps=1e-3).
 * `modelName` (a timm model id or the file name) decides `tf_`; without it PyTorch-trained is assumed.
 * Inputs are RGB 0–255 normalised with ImageNet mean/std inside the model (`preprocessing:
 * 'imagenet'`); timm's AdvProp weights (`.ap_in1k`) expect mean = std = 0.5 instead.
 */
export function inferTorchSpecOptions(source: TensorSource, modelName?: string, label?: string): InferredTorchSpec {
  const info = describeTorchWeights(source, label);
  const notes: string[] = [];
  const tfPort = modelName !== undefined && /(^|[\\/_.-])tf_/.test(modelName.toLowerCase());
  if (modelName === undefined) notes.push('No model name: assumed PyTorch-trained weights (symmetric padding), not a tf_ port.');
  let bnEpsilon = 1e-5;
  if (tfPort) bnEpsilon = 1e-3;
  else if (info.layout === 'torchvision' && (info.variant === 'b5' || info.variant === 'b6' || info.variant === 'b7')) bnEpsilon = 1e-3;
  if (info.variant === null) notes.push('The widths and repeats are not a B0–B7 row: give width and depth yourself.');
  if (modelName !== undefined && /ap_in1k|advprop/i.test(modelName)) {
    notes.push('AdvProp weights expect inputs normalised with mean = std = 0.5, not ImageNet statistics.');
  }
  const options: ModelSpecOptions = {
    padding: tfPort ? 'same' : 'symmetric',
    bnEpsilon,
    includeTop: info.numClasses !== null,
    preprocessing: 'imagenet',
    ...(info.numClasses !== null ? { numClasses: info.numClasses } : {}),
  };
  return { info, variant: info.variant, options, notes };
}
