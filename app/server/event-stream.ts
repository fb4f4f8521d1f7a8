/**
 * Live events as server-sent events: one `data:` line of JSON per AppEvent, a `hello` event on
 * connect, and a comment every few seconds so proxies and idle timers keep the connection open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus } from '../api/context.ts';
import type { AppEvent } from '../common/ipc/events.ts';

const HEARTBEAT_MS = 15_000;

export function openEventStream(
  request: IncomingMessage,
  response: ServerResponse,
  events: EventBus,
  connections: Set<ServerResponse>,
): void {
  response.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    // Disables response buffering in nginx, for people who put the server behind one.
    'X-Accel-Buffering': 'no',
  });
  const send = (event: AppEvent) => response.write(`data: ${JSON.stringify(event)}\n\n`);
  send({ type: 'hello', time: Date.now() });
  const unsubscribe = events.subscribe(send);
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  connections.add(response);
  const close = () => {
    clearInterval(heartbeat);
    unsubscribe();
    connections.delete(response);
  };
  request.on('close', close);
  response.on('close', close);
}
