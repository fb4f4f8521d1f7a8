/**
 * Child process for crash.test.ts: `write FILE` records epochs in a loop, printing each committed
 * epoch, until it is killed.
 */
import { writeSync } from 'node:fs';
import { openStore } from './store.ts';

const [mode, file] = process.argv.slice(2);
if (mode === 'write') {
  const store = openStore(file!);
  const run = store.runs.create({ name: 'killed mid-training', config: { epochs: 1e9 } });
  store.runs.start(run.id, { backend: 'cpu', device: 'cpu' });
  writeSync(1, `run ${run.id}\n`);
  for (let epoch = 1; ; epoch++) {
    // One transaction per epoch, as the app records an `epoch` event with its metrics.
    store.transaction(() => {
      store.events.append(run.id, { type: 'epoch', payload: { epoch } });
      store.metrics.recordEpoch(run.id, epoch, {
        loss: 1 / epoch,
        accuracy: 1 - 1 / epoch,
        val_loss: 1.1 / epoch,
        val_accuracy: 1 - 1.1 / epoch,
        top5: 1,
        learning_rate: 0.001,
        seconds: 2,
        images_per_second: 40,
      });
      store.steps.append(run.id, [{ step: epoch, values: { loss: 1 / epoch } }]);
    });
    // Written synchronously after the commit: the parent knows epoch N is durable when it reads it.
    writeSync(1, `committed ${epoch}\n`);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
