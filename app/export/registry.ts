/**
 * Every export format, in one table (STYLE.md §3). `effnet export --format`, the export worker job
 * and the registry test all read it: a new format is a new entry here, tested without new test code.
 */
import { AppError } from '../common/errors.ts';
import { onnxExporter } from './onnx/onnx-exporter.ts';
import { tfjsExporter } from './tfjs/tfjs-exporter.ts';
import type { ExportFormat, Exporter } from './types.ts';

export const EXPORTERS: readonly Exporter[] = [tfjsExporter, onnxExporter];

export function exporterFor(format: string, exporters: readonly Exporter[] = EXPORTERS): Exporter {
  const exporter = exporters.find((entry) => entry.format === (format as ExportFormat));
  if (!exporter) {
    throw new AppError('export-format', `'${format}' is not an export format.`, {
      hint: `Choose one of: ${exporters.map((entry) => entry.format).join(', ')}.`,
    });
  }
  return exporter;
}
