/**
 * A worker thread that decodes and augments samples, started by worker-pool.ts: through
 * sample-worker.mjs from the sources, as dist/workers/pipeline-thread.mjs (main/build.ts) from a build.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorData } from '../../common/errors.ts';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './messages.ts';
import { SampleProcessor } from './sample.ts';

const port = parentPort;
if (!port) throw new Error('sample-worker.ts must run in a worker thread');
const setup = workerData as WorkerSetup;
const processor = new SampleProcessor(setup.transform, setup.cacheBytes);

function reply(message: WorkerReply): void {
  port!.postMessage(message, message.type === 'sample' ? [message.image.buffer as ArrayBuffer] : []);
}

async function handle(message: WorkerRequest): Promise<void> {
  switch (message.type) {
    case 'sample': {
      const { task } = message;
      try {
        const outcome = await processor.process(task);
        if (outcome.kind === 'sample') reply({ type: 'sample', id: task.id, image: outcome.image, cache: processor.cacheStats() });
        else reply({ type: 'skipped', id: task.id, error: outcome.error, cache: processor.cacheStats() });
      } catch (error) {
        reply({ type: 'failed', id: task.id, error: toErrorData(error) });
      }
      return;
    }
    default: {
      const unknown = message as { type?: unknown; task?: { id?: unknown } };
      const id = typeof unknown.task?.id === 'number' ? unknown.task.id : -1;
      reply({ type: 'failed', id, error: { code: 'internal', message: `unknown worker message type '${String(unknown.type)}'` } });
    }
  }
}

port.on('message', (message: WorkerRequest) => void handle(message));
