/**
 * The core's implementation of the UI contract (app/common/ipc/contract.ts), composed from one
 * small file per domain. The Electron main process and the headless server both serve exactly this.
 */
import { AppError, fail, ok, type Result } from '../common/errors.ts';
import { parseCall, type ApiHandlers, type Channel, type ChannelResults } from '../common/ipc/contract.ts';
import { classifyHandlers } from './classify.ts';
import type { ApiContext } from './context.ts';
import { datasetHandlers } from './datasets.ts';
import { exportHandlers } from './exports.ts';
import { modelHandlers } from './models.ts';
import { runHandlers } from './runs.ts';
import { scalingHandlers } from './scaling.ts';
import { systemHandlers } from './system.ts';
import { trainingHandlers } from './training.ts';

export { createApiContext, EventBus, type ApiContext } from './context.ts';

export function createApiHandlers(context: ApiContext): ApiHandlers {
  return {
    ...systemHandlers(context),
    ...modelHandlers(context),
    ...datasetHandlers(context),
    ...runHandlers(context),
    ...trainingHandlers(context),
    ...exportHandlers(context),
    ...classifyHandlers(context),
    ...scalingHandlers(context),
  } satisfies ApiHandlers;
}

/** Validates and dispatches one call; every outcome, failures included, comes back as a Result. */
export async function dispatch(handlers: ApiHandlers, channel: unknown, args: unknown): Promise<Result<ChannelResults[Channel]>> {
  let call: { channel: Channel; args: unknown[] };
  try {
    call = parseCall(channel, args);
  } catch (error) {
    return fail(new AppError('invalid-request', error instanceof Error ? error.message : String(error)));
  }
  try {
    const handler = handlers[call.channel] as (...a: unknown[]) => Promise<ChannelResults[Channel]>;
    return ok(await handler(...call.args));
  } catch (error) {
    return fail(error);
  }
}
