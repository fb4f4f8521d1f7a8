/**
 * `effnet serve`: the renderer and the same API the Electron main process serves, over HTTP.
 *   POST /api/<channel>   JSON array of arguments → JSON Result (validated by the contract's schemas)
 *   GET  /api/events      server-sent events (AppEvent JSON)
 *   GET  /…               the built renderer (dist/renderer)
 * Every request needs the access token; loopback only unless another host is asked for.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiHandlers, dispatch, type ApiContext } from '../api/handlers.ts';
import type { ErrorData } from '../common/errors.ts';
import type { ApiHandlers } from '../common/ipc/contract.ts';
import { CONTENT_SECURITY_POLICY } from '../common/ipc/csp.ts';
import { distPath } from '../node/resources.ts';
import { cookieName, createToken, isLoopback, tokenCookie, tokenSources, tokensEqual } from './auth.ts';
import { openEventStream } from './event-stream.ts';
import { lookupStatic, sendFile } from './static.ts';

export const DEFAULT_RENDERER_FOLDER = distPath('renderer');
/** Thumbnail and preview requests are small; nothing legitimate comes near this. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  readonly context: ApiContext;
  readonly host?: string;
  /** 0: any free port. */
  readonly port?: number;
  readonly rendererFolder?: string;
  /** Tests may fix the token; the app always makes a new random one. */
  readonly token?: string;
  readonly handlers?: ApiHandlers;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** The URL to open: it carries the token. */
  readonly url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  // The URL carries the token: never send it on as a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? createToken();
  const rendererFolder = options.rendererFolder ?? DEFAULT_RENDERER_FOLDER;
  const handlers = options.handlers ?? createApiHandlers(options.context);
  const streams = new Set<ServerResponse>();
  let port = 0;

  const server: Server = createServer((request, response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    handle(request, response).catch((error: unknown) => {
      console.error(`effnet serve: ${request.method} ${request.url} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!response.headersSent)
        sendJson(response, 500, { ok: false, error: { code: 'internal', message: 'The server failed on this request; see its console.' } });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const isApi = url.pathname === '/api' || url.pathname.startsWith('/api/');
    // A loopback server answers only to loopback host names: a DNS-rebinding page cannot reach it.
    if (isLoopback(host) && !isLoopback(hostName(request.headers.host))) {
      return refuse(response, isApi, 403, 'forbidden-host', `Host '${request.headers.host ?? ''}' is not this server`);
    }
    const sources = tokenSources(request, url, cookieName(port));
    if (url.pathname === '/api/events') {
      if (!tokensEqual(token, sources.header ?? sources.query)) return unauthorized(response, true);
      if (request.method !== 'GET') return refuse(response, true, 405, 'method', 'Use GET for /api/events');
      return openEventStream(request, response, options.context.events, streams);
    }
    if (isApi) {
      if (!tokensEqual(token, sources.header)) return unauthorized(response, true);
      if (request.method !== 'POST') return refuse(response, true, 405, 'method', `Use POST for ${url.pathname}`);
      const channel = decodeURIComponent(url.pathname.slice('/api/'.length));
      const args = await readJson(request);
      if (!args.ok) {
        // The unread rest of a refused body must not be taken for the next request on this connection.
        if (args.status === 413) response.setHeader('Connection', 'close');
        return sendJson(response, args.status, { ok: false, error: args.error });
      }
      const result = await dispatch(handlers, channel, args.value);
      return sendJson(response, !result.ok && result.error.code === 'invalid-request' ? 400 : 200, result);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, false, 405, 'method', 'Only GET and HEAD');
    const fromQuery = tokensEqual(token, sources.query);
    if (!fromQuery && !tokensEqual(token, sources.cookie)) return unauthorized(response, false);
    if (fromQuery) response.setHeader('Set-Cookie', tokenCookie(port, token));
    const found = await lookupStatic(rendererFolder, url.pathname);
    if (found.kind === 'forbidden') return refuse(response, false, 403, 'forbidden', 'Forbidden path');
    if (found.kind === 'missing') {
      if (url.pathname === '/' || url.pathname === '/index.html') return notBuilt(response, rendererFolder);
      return refuse(response, false, 404, 'not-found', `No such file: ${url.pathname}`);
    }
    sendFile(response, found, request.method === 'HEAD');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    host,
    port,
    token,
    url: `http://${shownHost}:${port}/?token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  return header.split(':')[0]!;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

function refuse(response: ServerResponse, json: boolean, status: number, code: string, message: string, hint?: string): void {
  if (json) return sendJson(response, status, { ok: false, error: { code, message, hint } satisfies ErrorData });
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`${message}${hint ? `\n${hint}` : ''}\n`);
}

function unauthorized(response: ServerResponse, json: boolean): void {
  refuse(
    response,
    json,
    401,
    'unauthorized',
    'Missing or wrong access token.',
    'Open the exact URL that `effnet serve` printed (it ends in ?token=…).',
  );
}

function notBuilt(response: ServerResponse, folder: string): void {
  response.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(
    `<!doctype html><meta charset="utf-8"><title>EffNet Studio</title><h1>The user interface is not built</h1>` +
      `<p>${escapeHtml(folder)} has no index.html. In the project folder run <code>npm run build</code>, then reload this page.</p>`,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; error: ErrorData };

async function readJson(request: IncomingMessage): Promise<JsonBody> {
  const tooLarge: JsonBody = {
    ok: false,
    status: 413,
    error: { code: 'too-large', message: `The request body is over ${MAX_BODY_BYTES} bytes` },
  };
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    request.resume();
    return tooLarge;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      // A chunked body that never said its length: stop reading (the connection closes).
      request.destroy();
      return tooLarge;
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: [] };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      status: 400,
      error: { code: 'invalid-request', message: `The request body is not JSON: ${(error as Error).message}` },
    };
  }
}
