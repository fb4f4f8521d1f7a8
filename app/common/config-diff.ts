/**
 * Which settings differ between runs, for the compare view: configs are flattened to dotted keys
 * (`optimizer.learningRate`) and only keys whose values are not all equal are returned. Arrays are
 * compared whole (an augmentation list differs or not); object key order never matters.
 */

export interface ConfigDifference {
  /** Dotted path of the setting. */
  readonly key: string;
  /** One value per config, in input order; undefined where that config lacks the key. */
  readonly values: readonly unknown[];
}

export function configDiff(configs: readonly unknown[]): ConfigDifference[] {
  const flat = configs.map((config) => flattenConfig(config));
  const keys = new Set(flat.flatMap((one) => [...one.keys()]));
  const differences: ConfigDifference[] = [];
  for (const key of [...keys].sort()) {
    const values = flat.map((one) => one.get(key));
    const first = canonical(values[0]);
    if (values.some((value) => canonical(value) !== first)) differences.push({ key, values });
  }
  return differences;
}

/** Leaves of a config by dotted key. An empty object is a leaf, so `{}` differs from a missing key. */
export function flattenConfig(config: unknown, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  if (isPlainObject(config) && Object.keys(config).length > 0) {
    for (const [key, value] of Object.entries(config)) flattenConfig(value, prefix === '' ? key : `${prefix}.${key}`, into);
  } else if (prefix !== '') {
    into.set(prefix, config);
  }
  return into;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string equal for equal JSON values whatever the key order; `undefined` stays distinct from null. */
function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_key, inner: unknown) =>
    isPlainObject(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  );
}
