/**
 * Worker: exports a run or saved model to tfjs or ONNX and verifies the export against the trained
 * model (app/export). Loading both runtimes and running the parity images takes seconds to
 * minutes, so the desktop app and the server run it here, never in their own process. The
 * summary is the export's folder, files and verification report.
 */
import os from 'node:os';
import { exportFromSource } from '../app/export/export-source.ts';
import { runWorker } from './runtime.ts';

/** At most this many progress events a second. */
const PROGRESS_INTERVAL_MS = 200;

runWorker({
  kind: 'export',
  async run(payload, context) {
    context.emit({ type: 'started', backend: payload.format, device: `CPU (${os.availableParallelism()} cores)` });
    let last = 0;
    const result = await exportFromSource(payload, {
      cwd: process.cwd(),
      env: process.env,
      signal: context.signal,
      onWarning: (message) => context.emit({ type: 'warning', code: 'verification-images', message }),
      onProgress: (progress) => {
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS && progress.total !== null && progress.done < progress.total) return;
        last = now;
        context.emit({ type: 'progress', phase: progress.phase, step: progress.done, steps: progress.total, message: progress.message });
      },
    });
    return {
      outDir: result.outDir,
      format: result.format,
      quantization: result.quantization,
      passed: result.passed,
      artifact: result.artifact,
      files: result.files,
      verification: result.verification,
      runId: result.runId,
    };
  },
});
