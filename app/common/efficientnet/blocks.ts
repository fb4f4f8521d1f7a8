/**
 * EfficientNet-B0's seven stages, as data (Tan & Le 2019, Table 1; keras.applications
 * `DEFAULT_BLOCKS_ARGS`). Every other variant is this table scaled by a row of coefficients:
 * adding a variant is a data change, and the builder is one loop over the resolved table.
 */
export interface StageSpec {
  readonly kernelSize: number;
  readonly repeats: number;
  readonly filtersIn: number;
  readonly filtersOut: number;
  readonly expandRatio: number;
  readonly stride: 1 | 2;
  readonly seRatio: number;
  readonly idSkip: boolean;
}

export const B0_STAGES: readonly StageSpec[] = [
  { kernelSize: 3, repeats: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, stride: 1, seRatio: 0.25, idSkip: true },
  { kernelSize: 3, repeats: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, stride: 2, seRatio: 0.25, idSkip: true },
  { kernelSize: 5, repeats: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, stride: 2, seRatio: 0.25, idSkip: true },
  { kernelSize: 3, repeats: 3, filtersIn: 40, filtersOut: 80, expandRatio: 6, stride: 2, seRatio: 0.25, idSkip: true },
  { kernelSize: 5, repeats: 3, filtersIn: 80, filtersOut: 112, expandRatio: 6, stride: 1, seRatio: 0.25, idSkip: true },
  { kernelSize: 5, repeats: 4, filtersIn: 112, filtersOut: 192, expandRatio: 6, stride: 2, seRatio: 0.25, idSkip: true },
  { kernelSize: 3, repeats: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, stride: 1, seRatio: 0.25, idSkip: true },
];

/** Stem and head widths before width scaling (keras.applications: `round_filters(32)`, `round_filters(1280)`). */
export const STEM_FILTERS = 32;
export const HEAD_FILTERS = 1280;
/** keras.applications `depth_divisor`: channel counts are rounded to multiples of this. */
export const DEPTH_DIVISOR = 8;
/** keras.applications `drop_connect_rate`: the stochastic-depth rate reached by the last block. */
export const DEFAULT_DROP_CONNECT_RATE = 0.2;
