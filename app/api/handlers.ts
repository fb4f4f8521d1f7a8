import { makeSpec, modelFacts, VARIANT_NAMES, VARIANTS } from '../common/efficientnet/index.ts';
import { AppError, fail, ok, type Result } from '../common/errors.ts';
import { parseCall, type ApiHandlers, type Channel, type ChannelResults } from '../common/ipc/contract.ts';
import { effnetHome } from '../node/paths.ts';
import { APP_VERSION } from '../common/version.ts';

export interface ApiContext {
  readonly env: NodeJS.ProcessEnv;
}

/** The core's implementation of the UI contract; the Electron main process and the headless server both serve it. */
export function createApiHandlers(context: ApiContext): ApiHandlers {
  return {
    'app:info': async () => ({
      version: APP_VERSION,
      dataFolder: effnetHome(context.env),
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
    }),
    'models:variants': async () =>
      VARIANT_NAMES.map((name) => {
        const row = VARIANTS[name];
        const facts = modelFacts(makeSpec(name));
        return {
          name,
          phi: row.phi,
          width: row.width,
          depth: row.depth,
          resolution: row.resolution,
          dropout: row.dropout,
          totalParams: facts.totalParams,
          macs: facts.macs,
          paperTop1: row.paperTop1,
        };
      }),
  };
}

/** Validates and dispatches one call; every outcome, failures included, comes back as a Result. */
export async function dispatch(handlers: ApiHandlers, channel: unknown, args: unknown[]): Promise<Result<ChannelResults[Channel]>> {
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
