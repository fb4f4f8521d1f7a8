import path from 'node:path';
import {
  catalogueEntry,
  entryLabel,
  fetchWeights,
  importWeightsFile,
  listWeights,
  loadCatalogue,
  parseWeightsVariant,
  type CatalogueStatus,
  type DownloadProgress,
} from '../../weights/index.ts';
import { parseOptions, UsageError, writeJson, type CliIo, type Command } from '../command.ts';
import { formatBytes, formatTable, ProgressBar } from '../terminal.ts';

function sizeCell(entry: CatalogueStatus): string {
  return entry.bytes !== undefined ? formatBytes(entry.bytes) : `~${formatBytes(entry.approxBytes)}`;
}

function stateCell(entry: CatalogueStatus): string {
  if (entry.cached) return 'cached';
  if (entry.partialBytes !== undefined) return `partial ${formatBytes(entry.partialBytes)}`;
  return '-';
}

export const weightsListCommand: Command = {
  name: 'weights list',
  summary: 'The Keras ImageNet weights B0–B7 (top and notop) and which are in the local cache.',
  usage: `Usage: effnet weights list [--json]

  --json   { folder, catalogue: [...], imported: [...] }: every catalogue file with url, md5,
           approxBytes, path, cached, bytes, partialBytes; every imported file from index.json

Sizes marked ~ are approximate (float32 × parameters + HDF5 overhead); the MD5 is what verifies a file.
The cache is EFFNET_HOME/weights, shared by the CLI, the server and the desktop app.`,
  async run(args, io) {
    const { values } = parseOptions(args, { json: { type: 'boolean' } }, false);
    const listing = await listWeights(io.env);
    if (values.json) {
      writeJson(io, listing);
      return 0;
    }
    io.stdout.write(`Weights folder: ${listing.folder}\n\n`);
    io.stdout.write(
      formatTable(
        ['variant', 'top', 'state', 'size', 'path'],
        listing.catalogue.map((entry) => [
          entry.variant.toUpperCase(),
          entry.top ? 'top' : 'notop',
          stateCell(entry),
          sizeCell(entry),
          entry.cached ? entry.path : entry.fileName,
        ]),
        [false, false, false, true, false],
      ),
    );
    io.stdout.write(`\n~ ${loadCatalogue().approxBytesNote}.\n`);
    if (listing.imported.length > 0) {
      io.stdout.write('\nImported:\n');
      io.stdout.write(
        formatTable(
          ['file', 'kind', 'size', 'md5', 'from'],
          listing.imported.map((record) => [
            record.present ? record.name : `${record.name} (missing)`,
            record.kind,
            formatBytes(record.bytes),
            record.md5,
            record.source,
          ]),
          [false, false, true, false, false],
        ),
      );
    }
    return 0;
  },
};

export const weightsFetchCommand: Command = {
  name: 'weights fetch',
  summary: 'Download the Keras ImageNet weights of one variant into the cache (resumable, MD5-verified).',
  usage: `Usage: effnet weights fetch VARIANT [--notop] [--json]

  VARIANT  b0 … b7
  --notop  the feature extractor without the 1000-class classifier (for fine-tuning)
  --json   { variant, top, path, bytes, md5, status, resumedFrom }

An interrupted download (lost connection, Ctrl-C) keeps its .part file and the next fetch resumes it.
Set EFFNET_WEIGHTS_BASE_URL to download from a mirror. Offline: \`effnet weights import FILE\`.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { notop: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError(`give exactly one VARIANT (b0 … b7), got ${positionals.length}`);
    const variant = parseWeightsVariant(positionals[0]!);
    const top = !values.notop;
    const progress = progressReporter(io, catalogueEntry(variant, top, io.env).fileName);
    const result = await fetchWeights(variant, { top, env: io.env, signal: io.signal, onProgress: progress.update }).catch((error) => {
      progress.abandon();
      throw error;
    });
    progress.finish();
    if (values.json) {
      writeJson(io, {
        variant,
        top,
        path: result.path,
        bytes: result.bytes,
        md5: result.md5,
        status: result.status,
        resumedFrom: result.resumedFrom,
      });
      return 0;
    }
    if (result.replacedCorrupt) io.stdout.write(`The cached ${result.entry.fileName} had a wrong MD5 and was downloaded again.\n`);
    if (result.status === 'cached') {
      io.stdout.write(`${result.entry.fileName} is already cached (MD5 ${result.md5} verified): ${result.path}\n`);
    } else {
      const resumed = result.resumedFrom > 0 ? `, resumed from ${formatBytes(result.resumedFrom)}` : '';
      io.stdout.write(
        `Downloaded ${result.entry.fileName} (${formatBytes(result.bytes)}${resumed}), MD5 ${result.md5} verified: ${result.path}\n`,
      );
    }
    return 0;
  },
};

/** A progress bar on stderr, created once the server says how big the file is. */
function progressReporter(io: CliIo, label: string) {
  let bar: ProgressBar | undefined;
  let last: DownloadProgress | undefined;
  return {
    update(progress: DownloadProgress) {
      last = progress;
      if (progress.total === undefined) return;
      bar ??= new ProgressBar(io.stderr, label, progress.total, formatBytes);
      bar.update(progress.received, progress.resumedFrom > 0 ? '(resumed)' : '');
    },
    finish() {
      if (bar && last) bar.done(last.resumedFrom > 0 ? '(resumed)' : '');
    },
    /** End the redrawn line so the error message starts on its own. */
    abandon() {
      if (bar && io.stderr.isTTY) io.stderr.write('\n');
    },
  };
}

export const weightsImportCommand: Command = {
  name: 'weights import',
  summary: 'Add a local Keras .h5 or torchvision/timm .safetensors weights file to the cache (offline).',
  usage: `Usage: effnet weights import FILE [--json]

  FILE     a Keras .h5 (HDF5) or .safetensors file; the content is checked, not the extension
  --json   { path, kind, md5, sha256, bytes, catalogue, alreadyPresent }

A file whose MD5 matches a catalogue entry (see \`effnet weights list\`) is filed under that entry's
name, as if it had been fetched. Any other file is copied to imported/ and recorded in weights/index.json.`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError(`give exactly one FILE, got ${positionals.length}`);
    const result = await importWeightsFile(path.resolve(io.cwd, positionals[0]!), { env: io.env });
    if (values.json) {
      writeJson(io, {
        path: result.path,
        kind: result.kind,
        md5: result.md5,
        sha256: result.sha256,
        bytes: result.bytes,
        catalogue: result.entry?.fileName ?? null,
        alreadyPresent: result.alreadyPresent,
      });
      return 0;
    }
    const what = result.entry ? `the ImageNet weights ${entryLabel(result.entry)} (${result.entry.fileName}, MD5 matches)` : result.kind;
    const verb = result.alreadyPresent ? 'Already in the cache' : 'Imported';
    io.stdout.write(`${verb}: ${what}, ${formatBytes(result.bytes)}, md5 ${result.md5}\n  ${result.path}\n`);
    return 0;
  },
};
