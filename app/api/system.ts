/** app:info, system:doctor and system:weights: what the Settings and About screen shows. */
import type { ChannelResults, DoctorSummary, WeightsFile } from '../common/ipc/contract.ts';
import { APP_VERSION } from '../common/version.ts';
import { effnetHome } from '../node/paths.ts';
import { entryLabel, fetchCommand, listWeights } from '../weights/index.ts';
import type { ApiContext } from './context.ts';
import { availableFeatures } from './features.ts';

export function systemHandlers(context: ApiContext) {
  return {
    'app:info': async (): Promise<ChannelResults['app:info']> => ({
      version: APP_VERSION,
      dataFolder: effnetHome(context.env),
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
      shell: context.shell,
      features: await availableFeatures(),
    }),

    'system:doctor': async (): Promise<DoctorSummary> => {
      // Loaded on demand: the doctor pulls in TensorFlow.js, which the other screens never need.
      const { runDoctor } = await import('../cli/commands/doctor.ts');
      const result = await runDoctor(context.env);
      const chosen = result.report;
      return {
        ok: result.ok,
        backend: chosen
          ? {
              name: chosen.backend,
              title: chosen.rungs.find((rung) => rung.rung === chosen.rung)?.title ?? chosen.rung,
              device: chosen.device,
              forced: chosen.forced ?? null,
            }
          : null,
        error: result.error ?? null,
        rungs: result.rungs.map((rung) => ({
          rung: rung.rung,
          title: rung.title,
          packageName: rung.packageName,
          status: rung.status,
          reason: rung.status === 'chosen' ? undefined : rung.reason,
          hint: rung.status === 'failed' ? rung.hint : undefined,
          device: rung.status === 'chosen' ? rung.device : undefined,
        })),
        smoke: result.smoke ? { ok: result.smoke.ok, maxError: result.smoke.maxError, timings: result.smoke.timings } : null,
        gpu: { verdict: result.gpu.verdict, summary: result.gpu.summary, advice: result.gpu.advice, gpus: result.gpu.gpus },
        system: result.system,
        versions: { node: result.versions.node, tfjs: result.versions.tfjs, electron: result.versions.electron },
        dataFolder: result.dataFolder,
      };
    },

    'system:weights': async (): Promise<ChannelResults['system:weights']> => {
      const listing = await listWeights(context.env);
      return {
        folder: listing.folder,
        catalogue: listing.catalogue.map((entry): WeightsFile => ({
          label: entryLabel(entry),
          variant: entry.variant,
          top: entry.top,
          fileName: entry.fileName,
          cached: entry.cached,
          bytes: entry.bytes ?? null,
          approxBytes: entry.approxBytes,
          fetchCommand: fetchCommand(entry),
        })),
        imported: listing.imported.map((file) => ({
          name: file.name,
          kind: file.kind,
          bytes: file.bytes,
          present: file.present,
          source: file.source,
        })),
      };
    },
  };
}
