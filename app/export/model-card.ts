/**
 * The model card shipped with every export (`model-card.json` + `model-card.md`): what the model
 * is, exactly what its input must look like, what its outputs mean, where it came from, and the
 * proof that the artifact matches the trained model. A self-describing package is what users ask
 * for and no anchor tool ships (product-landscape §4.8); wrong preprocessing is the usual reason an
 * exported model "behaves differently from the app" (§3.2.1).
 */
import { modelFacts } from '../common/efficientnet/index.ts';
import { APP_VERSION } from '../common/version.ts';
import { EVAL_CROP_FRACTION } from '../dataset/pipeline/config.ts';
import { ALPHA_BACKGROUND } from '../image/decode.ts';
import type { ModelMetadata } from '../model/model-format.ts';
import type { ExportedFile } from './files.ts';
import type { Quantization } from './quantize.ts';
import type { ExportFormat } from './types.ts';
import type { VerificationReport } from './verify.ts';

export interface DeploymentPreprocessing {
  readonly input: {
    readonly layout: 'NHWC';
    readonly dtype: 'float32';
    readonly channels: 'RGB';
    readonly range: readonly [number, number] | null;
    readonly size: readonly [number, number];
  };
  readonly decode: string;
  /** Evaluation resize: the shorter side to `resizeShorterSideTo`, then a centred `cropSize` square. */
  readonly resizeShorterSideTo: number;
  readonly cropSize: number;
  readonly cropFraction: number;
  readonly resampling: string;
  /** Normalisation the model applies itself (mean/std on 0–1 pixels), or null when the caller must. */
  readonly normalizationInsideModel: { readonly mean: readonly number[]; readonly std: readonly number[] } | null;
}

/** What the app's evaluation does to an image before the model sees it (app/dataset/pipeline). */
export function deploymentPreprocessing(metadata: ModelMetadata): DeploymentPreprocessing {
  const size = metadata.spec.resolution;
  const { preprocessing } = metadata;
  return {
    input: { layout: 'NHWC', dtype: 'float32', channels: 'RGB', range: preprocessing.inputRange ?? null, size: [size, size] },
    decode: `8-bit sRGB; EXIF orientation applied; transparency composited onto grey ${ALPHA_BACKGROUND}; first frame of animations`,
    resizeShorterSideTo: Math.round(size / EVAL_CROP_FRACTION),
    cropSize: size,
    cropFraction: EVAL_CROP_FRACTION,
    resampling: 'antialiased bilinear (triangle filter, as PIL/torchvision antialias=True)',
    normalizationInsideModel: preprocessing.mean && preprocessing.std ? { mean: preprocessing.mean, std: preprocessing.std } : null,
  };
}

export interface ModelCard {
  readonly cardVersion: 1;
  readonly name: string;
  readonly format: ExportFormat;
  readonly artifact: string;
  readonly quantization: Quantization;
  readonly createdAt: string;
  readonly producer: string;
  readonly model: {
    readonly architecture: string;
    readonly variant: string;
    readonly width: number;
    readonly depth: number;
    readonly resolution: number;
    readonly coefficients: { readonly alpha: number; readonly beta: number; readonly gamma: number } | null;
    readonly dropout: number;
    readonly padding: string;
    readonly bnEpsilon: number;
    readonly classifierActivation: string;
    readonly parameters: { readonly total: number; readonly trainable: number; readonly nonTrainable: number };
    readonly macs: number;
  };
  readonly preprocessing: DeploymentPreprocessing;
  readonly outputs: string;
  /** Class names in output order (index = class id). */
  readonly labels: readonly string[];
  readonly training: {
    readonly runId: string | null;
    readonly datasetFingerprint: string | null;
    readonly source: string | null;
    readonly savedAt: string;
  };
  readonly metrics: Readonly<Record<string, number | null>> | null;
  readonly verification: Pick<VerificationReport, 'passed' | 'criterion' | 'overall' | 'failures' | 'runtime'>;
  readonly files: readonly ExportedFile[];
}

export interface CardInput {
  readonly metadata: ModelMetadata;
  readonly format: ExportFormat;
  readonly artifact: string;
  readonly quantization: Quantization;
  readonly metrics?: Readonly<Record<string, number | null>>;
  readonly verification: VerificationReport;
  readonly files: readonly ExportedFile[];
}

export function buildModelCard(input: CardInput): ModelCard {
  const { spec, labels, provenance } = input.metadata;
  const facts = modelFacts(spec);
  const { passed, criterion, overall, failures, runtime } = input.verification;
  return {
    cardVersion: 1,
    name: `efficientnet-${spec.variant}-${labels.length}-classes`,
    format: input.format,
    artifact: input.artifact,
    quantization: input.quantization,
    createdAt: new Date().toISOString(),
    producer: `EffNet Studio ${APP_VERSION}`,
    model: {
      architecture: 'EfficientNet (Tan & Le 2019), keras.applications layer names',
      variant: spec.variant,
      width: spec.width,
      depth: spec.depth,
      resolution: spec.resolution,
      coefficients: spec.coefficients ?? null,
      dropout: spec.dropout,
      padding: spec.padding,
      bnEpsilon: spec.bnEpsilon,
      classifierActivation: spec.classifierActivation,
      parameters: { total: facts.totalParams, trainable: facts.trainableParams, nonTrainable: facts.nonTrainableParams },
      macs: facts.macs,
    },
    preprocessing: deploymentPreprocessing(input.metadata),
    outputs:
      input.format === 'onnx'
        ? '`probabilities` (softmax) and `logits`, [batch, classes]'
        : spec.classifierActivation === 'softmax'
          ? 'probabilities (softmax), [batch, classes]'
          : 'logits (apply softmax for probabilities), [batch, classes]',
    labels,
    training: {
      runId: provenance?.runId ?? null,
      datasetFingerprint: provenance?.datasetFingerprint ?? null,
      source: provenance?.source ?? null,
      savedAt: input.metadata.createdAt,
    },
    metrics: input.metrics ?? null,
    verification: { passed, criterion, overall, failures, runtime },
    files: input.files,
  };
}

export function renderModelCard(card: ModelCard, usage: string): string {
  const { model, preprocessing: pre } = card;
  const count = (n: number) => n.toLocaleString('en-US');
  const percent = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(2)} %`);
  const normalization = pre.normalizationInsideModel
    ? `inside the model: (x / 255 − mean) / std with mean ${fmt(pre.normalizationInsideModel.mean)} and std ${fmt(pre.normalizationInsideModel.std)}`
    : 'none inside the model: normalise the input as the model was trained';
  const v = card.verification;
  return `# ${card.name} (${card.format}${card.quantization === 'none' ? '' : `, ${card.quantization}`})

Exported by ${card.producer} on ${card.createdAt}. Artifact: \`${card.artifact}\`.

**Verification: ${v.passed ? 'PASSED' : 'FAILED'}** — ${v.overall.inputs} inputs through this artifact (${v.runtime}) and the trained model:
max |Δ probability| ${v.overall.maxAbsDiff.toExponential(2)}, top-1 agreement ${percent(v.overall.top1Agreement)}
(criterion: ${v.criterion.metric} ${v.criterion.metric === 'maxAbsDiff' ? '≤' : '≥'} ${v.criterion.threshold}). Details: \`verification.json\`.
${v.failures.map((failure) => `\n- ${failure}`).join('')}

## Model

| | |
|---|---|
| Architecture | ${model.architecture} |
| Variant | ${model.variant} (width ${model.width}, depth ${model.depth}, resolution ${model.resolution}${model.coefficients ? `; α ${model.coefficients.alpha}, β ${model.coefficients.beta}, γ ${model.coefficients.gamma}` : ''}) |
| Parameters | ${count(model.parameters.total)} (${count(model.parameters.trainable)} trainable) |
| MACs per image | ${count(model.macs)} |
| Padding / BN ε | ${model.padding} / ${model.bnEpsilon} |
| Outputs | ${card.outputs} |
| Quantization | ${card.quantization} |

## Input and preprocessing

1. Decode: ${pre.decode}.
2. Resize the shorter side to ${pre.resizeShorterSideTo} px (${pre.resampling}), then crop the centre ${pre.cropSize}×${pre.cropSize} (crop fraction ${pre.cropFraction}).
3. Feed NHWC float32 RGB${pre.input.range ? ` in ${pre.input.range[0]}–${pre.input.range[1]}` : ''}, shape [batch, ${pre.input.size[0]}, ${pre.input.size[1]}, 3].
4. Normalisation: ${normalization}.

## Classes (output order)

${card.labels.map((label, i) => `${i}. ${label}`).join('\n')}

## Training

- Run: ${card.training.runId ?? '—'}
- Dataset fingerprint: ${card.training.datasetFingerprint ?? '—'}
- Starting weights: ${card.training.source ?? '—'}
- Model saved: ${card.training.savedAt}
${
  card.metrics
    ? `\n| Metric | Value |\n|---|---|\n${Object.entries(card.metrics)
        .map(([name, value]) => `| ${name} | ${value === null ? '—' : value} |`)
        .join('\n')}\n`
    : ''
}
## How to use it

${usage}

## Files

${card.files.map((file) => `- \`${file.name}\` (${count(file.bytes)} bytes, sha256 \`${file.sha256}\`)`).join('\n')}
`;
}

function fmt(values: readonly number[]): string {
  return `[${values.map((v) => Number(v.toPrecision(4))).join(', ')}]`;
}
