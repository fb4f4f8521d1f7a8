/**
 * Worker: one training run (app/train), its events forwarded to the job manager as protocol
 * messages. Cancel stops after the current optimizer step and writes a checkpoint; pause holds
 * before the next step. The summary is app/train's TrainSummary.
 */
import type { WorkerEventInput } from '../app/common/protocol.ts';
import type { TrainEvent } from '../app/common/train-types.ts';
import { train } from '../app/train/train.ts';
import { runWorker } from './runtime.ts';

/** app/train's events are the protocol's, except `started`, whose training facts travel as details. */
export function toMessage(event: TrainEvent): WorkerEventInput {
  switch (event.type) {
    case 'started': {
      const { type, backend, device, ...details } = event;
      return { type, backend, device, details };
    }
    case 'progress':
    case 'epoch':
    case 'checkpoint':
    case 'log':
    case 'warning':
      return event;
  }
}

runWorker({
  kind: 'train',
  run: (payload, context) =>
    train(
      payload.config,
      { onEvent: (event) => context.emit(toMessage(event)), signal: context.signal, pauseGate: context.pauseGate },
      {
        runDir: payload.runDir,
        resumeFrom: payload.resumeFrom,
        env: process.env,
        ...(payload.runId === undefined ? {} : { runId: String(payload.runId) }),
      },
    ),
});
