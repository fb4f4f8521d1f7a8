/** Per-class precision, recall and F1 from a confusion matrix (rows: true class, columns: predicted). */
export interface ClassScores {
  readonly name: string;
  readonly support: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
}

export function classScores(classes: readonly string[], matrix: readonly (readonly number[])[]): ClassScores[] {
  return classes.map((name, k) => {
    const truePositive = matrix[k]?.[k] ?? 0;
    const support = (matrix[k] ?? []).reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((sum, row) => sum + (row[k] ?? 0), 0);
    // Undefined (no images, or never predicted) is shown as such, not as 0: it is not a bad score.
    const precision = predicted === 0 ? null : truePositive / predicted;
    const recall = support === 0 ? null : truePositive / support;
    const f1 =
      precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { name, support, precision, recall, f1 };
  });
}

export function accuracy(matrix: readonly (readonly number[])[]): number | null {
  const total = matrix.flat().reduce((a, b) => a + b, 0);
  return total === 0 ? null : matrix.reduce((sum, row, k) => sum + (row[k] ?? 0), 0) / total;
}
