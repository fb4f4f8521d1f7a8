import { z } from 'zod';
import type { Result } from '../errors.ts';

/**
 * The one contract between the UI and the app core, shared by the Electron main process, the
 * preload and the headless server (STYLE.md §5–6). Each channel is `domain:verb`, has a zod
 * schema for its arguments (checked on arrival, never trusted from the renderer) and a result type.
 */
export const CHANNEL_ARGS = {
  'app:info': z.tuple([]),
  'models:variants': z.tuple([]),
} as const;

export type Channel = keyof typeof CHANNEL_ARGS;
export const CHANNELS = Object.keys(CHANNEL_ARGS) as Channel[];

export interface AppInfo {
  readonly version: string;
  readonly dataFolder: string;
  readonly platform: string;
  readonly node: string;
}

export interface VariantSummary {
  readonly name: string;
  readonly phi: number;
  readonly width: number;
  readonly depth: number;
  readonly resolution: number;
  readonly dropout: number;
  readonly totalParams: number;
  readonly macs: number;
  readonly paperTop1: number;
}

/** What each channel resolves to. */
export interface ChannelResults {
  'app:info': AppInfo;
  'models:variants': VariantSummary[];
}

export type ChannelArgs<K extends Channel> = z.infer<(typeof CHANNEL_ARGS)[K]>;

/** The API as the core implements it. */
export type ApiHandlers = { [K in Channel]: (...args: ChannelArgs<K>) => Promise<ChannelResults[K]> };

/** The API as the renderer sees it: every call returns a Result (errors are data across the boundary). */
export type ApiTransport = <K extends Channel>(channel: K, ...args: ChannelArgs<K>) => Promise<Result<ChannelResults[K]>>;

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && Object.hasOwn(CHANNEL_ARGS, value);
}

/** Validates a call's channel and arguments; the message names what is wrong. */
export function parseCall(channel: unknown, args: unknown[]): { channel: Channel; args: unknown[] } {
  if (!isChannel(channel)) throw new Error(`Unknown API channel '${String(channel)}'`);
  const parsed = CHANNEL_ARGS[channel].safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid arguments for ${channel}: ${issue ? `${issue.path.join('.') || 'arguments'}: ${issue.message}` : 'rejected'}`);
  }
  return { channel, args: parsed.data as unknown[] };
}
