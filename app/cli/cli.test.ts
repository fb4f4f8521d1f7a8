import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { COMMANDS } from './commands/index.ts';
import { PROJECT_ROOT, sharedPath } from '../node/shared-path.ts';
import { runCli } from './test-support.ts';

const run = promisify(execFile);
const BIN = path.join(PROJECT_ROOT, 'app', 'cli', 'effnet.mjs');

test('the real `effnet variants --json` binary matches the torchvision/Keras fixture exactly', async () => {
  const { stdout } = await run(process.execPath, [BIN, 'variants', '--json']);
  const variants = JSON.parse(stdout) as { name: string; totalParams: number; trainableParams: number; macs: number; resolution: number }[];
  const fixture = JSON.parse(readFileSync(sharedPath('fixtures/efficientnet-variants.json'), 'utf8')) as {
    variant: string;
    keras_total_params: number;
    trainable_params: number;
    macs: number;
    resolution: number;
  }[];
  assert.deepEqual(
    variants.map((v) => [v.name, v.totalParams, v.trainableParams, v.macs, v.resolution]),
    fixture.map((f) => [f.variant, f.keras_total_params, f.trainable_params, f.macs, f.resolution]),
  );
});

test('the table lists B0–B7 with the paper top-1', async () => {
  const { code, stdout } = await runCli(['variants']);
  assert.equal(code, 0);
  for (const name of ['B0', 'B7', '77.3%', '84.4%', '5.33M', '37.75B']) assert.match(stdout, new RegExp(name.replace('.', '\\.')));
});

for (const command of COMMANDS) {
  test(`\`effnet ${command.name} --help\` prints its usage and exits 0`, async () => {
    const { code, stdout } = await runCli([...command.name.split(' '), '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /Usage: effnet/);
    assert.ok(stdout.includes(command.summary));
  });
}

test('`effnet --help` lists every command', async () => {
  const { code, stdout } = await runCli(['--help']);
  assert.equal(code, 0);
  for (const command of COMMANDS) assert.ok(stdout.includes(command.name), command.name);
});

test('an unknown command or option exits 2 with a sentence saying what to do', async () => {
  const unknown = await runCli(['trian']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'trian'.*--help/);
  const badOption = await runCli(['variants', '--jsn']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /--jsn/);
});

test('`effnet scale --phi -1` describes a variant smaller than B0 that satisfies the constraint', async () => {
  const { code, stdout } = await runCli(['scale', '--phi', '-1', '--json']);
  assert.equal(code, 0);
  const result = JSON.parse(stdout);
  assert.equal(result.resolution, 192);
  assert.ok(result.totalParams < 5_330_571);
  assert.equal(result.stages.length, 7);
  assert.equal(result.constraint.satisfied, true);
  assert.ok(Math.abs(result.constraint.value - 1.9203) < 1e-3);
});

test('`effnet scale` reports coefficients that break α·β²·γ² ≈ 2', async () => {
  const { code, stdout } = await runCli(['scale', '--phi', '1', '--alpha', '1.4', '--beta', '1.4', '--gamma', '1.4']);
  assert.equal(code, 0);
  assert.match(stdout, /α·β²·γ² = 5\.3782 .*NOT satisfied/);
});

test('`effnet scale` without --phi or with a bad number names the option', async () => {
  assert.match((await runCli(['scale'])).stderr, /--phi is required/);
  const bad = await runCli(['scale', '--phi', '1', '--beta', '-2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--beta must be a positive number, got '-2'/);
});

test('`effnet --version` prints the version in package.json', async () => {
  const { stdout } = await runCli(['--version']);
  const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(stdout.trim(), pkg.version);
});
