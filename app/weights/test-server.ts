import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the test server answers one path. */
export interface Route {
  readonly body?: Buffer;
  /** Close the connection after this many body bytes, for the first `cutTimes` requests (default 1). */
  readonly cutAfter?: number;
  readonly cutTimes?: number;
  /** Answer 200 with the whole body even when asked for a Range (a server without range support). */
  readonly ignoreRange?: boolean;
  readonly status?: number;
  readonly redirectTo?: string;
  /** Send the headers and this many bytes, then nothing (for timeouts and Ctrl-C). */
  readonly stallAfter?: number;
}

export interface SeenRequest {
  readonly path: string;
  readonly range: string | undefined;
}

export interface TestServer {
  readonly baseUrl: string;
  readonly requests: SeenRequest[];
  route(path: string, route: Route): void;
  close(): Promise<void>;
}

/** A weights server on 127.0.0.1 that supports Range like storage.googleapis.com, and can misbehave. */
export async function startTestServer(): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const cutsDone = new Map<string, number>();
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const range = req.headers.range;
    requests.push({ path, range });
    const route = routes.get(path);
    if (!route) {
      res.writeHead(404, 'Not Found').end('no such file');
      return;
    }
    if (route.redirectTo) {
      res.writeHead(302, { Location: route.redirectTo }).end();
      return;
    }
    if (route.status) {
      res.writeHead(route.status).end('server error');
      return;
    }
    const body = route.body ?? Buffer.alloc(0);
    let slice = body;
    const match = /^bytes=(\d+)-$/.exec(range ?? '');
    if (match && !route.ignoreRange) {
      const from = Number(match[1]);
      if (from >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      slice = body.subarray(from);
      res.writeHead(206, { 'Content-Length': slice.length, 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
    }
    const cuts = cutsDone.get(path) ?? 0;
    if (route.cutAfter !== undefined && cuts < (route.cutTimes ?? 1)) {
      cutsDone.set(path, cuts + 1);
      res.write(slice.subarray(0, route.cutAfter), () => res.socket?.destroy());
      return;
    }
    if (route.stallAfter !== undefined) {
      res.write(slice.subarray(0, route.stallAfter));
      return;
    }
    res.end(slice);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    requests,
    route: (path, route) => routes.set(path, route),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Deterministic bytes that look like a small Keras file: the HDF5 signature, then noise. */
export function fakeH5(bytes: number, seed = 1): Buffer {
  const buffer = Buffer.alloc(bytes);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    buffer[i] = state >>> 24;
  }
  Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(buffer, 0);
  return buffer;
}

export function md5(buffer: Buffer): string {
  return createHash('md5').update(buffer).digest('hex');
}
