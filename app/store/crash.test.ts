/** Crash safety with a real process killed mid-write (the child costs a tsx start-up). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../node/shared-path.ts';
import { currentOwner } from './owner.ts';
import { openStore } from './store.ts';
import { temporaryFolder } from './test-support.ts';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crash-writer.fixture.ts');

function child(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

function collect(stream: NodeJS.ReadableStream): { text: () => string } {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  return { text: () => text };
}

test('a writer SIGKILLed mid-training loses no committed epoch and leaves no half-written one', async (t) => {
  const temp = temporaryFolder();
  t.after(temp.remove);
  const file = temp.file('effnet.sqlite');
  const writer = child(['write', file]);
  const output = collect(writer.stdout);
  const errors = collect(writer.stderr);
  // 'close' comes after the exit and after stdout has delivered everything the writer printed.
  const closed = new Promise<NodeJS.Signals | null>((resolve) => writer.once('close', (_code, signal) => resolve(signal)));
  // Kill at an arbitrary moment once it is well into its loop.
  await new Promise<void>((resolve, reject) => {
    const poll = setInterval(() => {
      if ((output.text().match(/committed/g) ?? []).length >= 150) {
        clearInterval(poll);
        writer.kill('SIGKILL');
        resolve();
      }
    }, 5);
    writer.once('exit', () => {
      clearInterval(poll);
      reject(new Error(`writer exited early: ${errors.text()}`));
    });
  });
  assert.equal(await closed, 'SIGKILL');

  const lines = output.text().trim().split('\n');
  const runId = Number(lines[0]!.split(' ')[1]);
  const lastReported = Number(lines.at(-1)!.match(/^committed (\d+)$/)?.[1] ?? NaN);
  assert.ok(lastReported >= 150, `the writer reported ${lastReported} commits`);

  const store = openStore(file);
  t.after(() => store.close());
  assert.equal(store.integrityCheck(), 'ok');
  const run = store.runs.require(runId);
  // Committed but not yet reported: at most the one epoch between COMMIT and the print.
  assert.ok(run.epochsDone === lastReported || run.epochsDone === lastReported + 1, `epochs ${run.epochsDone}, reported ${lastReported}`);
  // Whole transactions only: every epoch has its event, 8 metrics and its step point.
  const count = (sql: string) => store.db.prepare(sql).pluck().get(runId) as number;
  assert.equal(count('SELECT count(*) FROM run_events WHERE run_id = ?'), run.epochsDone);
  assert.equal(count('SELECT count(*) FROM metrics WHERE run_id = ?'), run.epochsDone * 8);
  assert.equal(store.steps.series(runId).loss!.steps.length, run.epochsDone);
  assert.equal(run.finalValAccuracy, 1 - 1.1 / run.epochsDone, 'the summary was committed with its metrics');

  // The next start finds the run left `running` by a dead process.
  assert.equal(run.status, 'running');
  assert.deepEqual(store.runs.markStaleRunsInterrupted('killed', currentOwner()), [runId]);
  assert.equal(store.runs.require(runId).status, 'interrupted');
});
