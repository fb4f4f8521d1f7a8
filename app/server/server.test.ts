import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createApiContext } from '../api/handlers.ts';
import { openStore } from '../store/index.ts';
import { CONTENT_SECURITY_POLICY } from '../common/ipc/csp.ts';
import { tokensEqual } from './auth.ts';
import { startServer } from './server.ts';

const home = mkdtempSync(path.join(os.tmpdir(), 'effnet-serve-'));
const renderer = path.join(home, 'renderer');
mkdirSync(path.join(renderer, 'assets'), { recursive: true });
writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>EffNet Studio</title>');
writeFileSync(path.join(renderer, 'assets', 'index-AbCdEf12.js'), 'console.log(1)');
writeFileSync(path.join(renderer, 'assets', 'style-AbCdEf12.css'), 'body{}');
writeFileSync(path.join(home, 'secret.txt'), 'outside the renderer folder');
symlinkSync(path.join(home, 'secret.txt'), path.join(renderer, 'link.txt'));

const context = createApiContext({
  env: { EFFNET_HOME: home },
  shell: 'browser',
  openStore: () => openStore(path.join(home, 'effnet.sqlite')),
});
const server = await startServer({ context, port: 0, rendererFolder: renderer });
const { token, port } = server;
after(async () => {
  await server.close();
  context.close();
  rmSync(home, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request, so paths like /../ reach the server exactly as written. */
function request(method: string, target: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
const bearer = (value: string) => ({ Authorization: `Bearer ${value}`, 'Content-Type': 'application/json' });

test('the printed URL is loopback, carries the token, and the token is long and random', () => {
  assert.equal(server.url, `http://127.0.0.1:${port}/?token=${token}`);
  assert.ok(token.length >= 40);
  assert.ok(tokensEqual(token, token));
  assert.ok(!tokensEqual(token, `${token}x`) && !tokensEqual(token, '') && !tokensEqual(token, undefined));
});

test('every route answers 401 without the token or with a wrong one', async () => {
  const cases: [string, string, Record<string, string>][] = [
    ['POST', '/api/app:info', {}],
    ['POST', '/api/app:info', bearer('wrong')],
    ['POST', `/api/app:info?token=${token}`, {}], // API calls take the header only
    ['POST', '/api/app:info', { Cookie: `effnet-token-${port}=${token}` }], // …never the cookie
    ['GET', '/api/events', {}],
    ['GET', '/api/events?token=wrong', {}],
    ['GET', '/', {}],
    ['GET', '/?token=wrong', {}],
    ['GET', '/assets/index-AbCdEf12.js', {}],
    ['GET', '/assets/index-AbCdEf12.js', { Cookie: `effnet-token-${port}=wrong` }],
  ];
  for (const [method, target, headers] of cases) {
    const reply = await request(method, target, { headers, body: method === 'POST' ? '[]' : undefined });
    assert.equal(reply.status, 401, `${method} ${target} ${JSON.stringify(headers)}`);
  }
  const json = JSON.parse((await request('POST', '/api/app:info', { headers: bearer('wrong'), body: '[]' })).body);
  assert.equal(json.error.code, 'unauthorized');
  assert.match(json.error.hint, /\?token=/);
});

test('an API call round-trips through the contract: values, validation errors and unknown channels', async () => {
  const info = await request('POST', '/api/app:info', { headers: bearer(token), body: '[]' });
  assert.equal(info.status, 200);
  assert.equal(info.headers['content-type'], 'application/json; charset=utf-8');
  const value = JSON.parse(info.body);
  assert.equal(value.ok, true);
  assert.equal(value.value.dataFolder, home);
  assert.equal(value.value.shell, 'browser');

  const variants = JSON.parse((await request('POST', '/api/models:variants', { headers: bearer(token) })).body);
  assert.equal(variants.value[0].totalParams, 5_330_571);

  const bad = await request('POST', '/api/runs:get', { headers: bearer(token), body: '["seven"]' });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).error.message, /Invalid arguments for runs:get/);
  const unknown = await request('POST', '/api/shell:exec', { headers: bearer(token), body: '["rm -rf /"]' });
  assert.equal(unknown.status, 400);
  const notJson = await request('POST', '/api/app:info', { headers: bearer(token), body: '{' });
  assert.equal(notJson.status, 400);
  const missing = await request('POST', '/api/runs:get', { headers: bearer(token), body: '[999]' });
  assert.equal(missing.status, 200);
  assert.equal(JSON.parse(missing.body).ok, false);
  assert.equal((await request('GET', '/api/app:info', { headers: bearer(token) })).status, 405);
  assert.equal(
    (await request('POST', '/api/app:info', { headers: { ...bearer(token), 'Content-Length': String(5 * 1024 * 1024) } })).status,
    413,
  );
});

test('static files: the token in the URL sets a strict cookie, assets have content types, CSP and no-sniff', async () => {
  const index = await request('GET', `/?token=${token}`);
  assert.equal(index.status, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(index.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.equal(index.headers['x-content-type-options'], 'nosniff');
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  const cookie = index.headers['set-cookie']![0]!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const jar = { Cookie: cookie.split(';')[0]! };
  const expected: [string, string][] = [
    ['/assets/index-AbCdEf12.js', 'text/javascript; charset=utf-8'],
    ['/assets/style-AbCdEf12.css', 'text/css; charset=utf-8'],
    ['/index.html', 'text/html; charset=utf-8'],
  ];
  for (const [target, type] of expected) {
    const reply = await request('GET', target, { headers: jar });
    assert.equal(reply.status, 200, target);
    assert.equal(reply.headers['content-type'], type, target);
  }
  assert.equal((await request('GET', '/assets/nothing.js', { headers: jar })).status, 404);
  assert.equal((await request('GET', '/assets', { headers: jar })).status, 404, 'no directory listing');
});

test('directory traversal is refused however it is spelled', async () => {
  const jar = { Cookie: `effnet-token-${port}=${token}` };
  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/assets/%2E%2E/%2E%2E/secret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/%00index.html',
    '/link.txt',
    '/%',
  ];
  for (const target of attempts) {
    const reply = await request('GET', target, { headers: jar });
    assert.ok([403, 404].includes(reply.status), `${target} → ${reply.status}`);
    assert.doesNotMatch(reply.body, /outside the renderer folder/, target);
  }
});

test('a loopback server refuses other Host names (DNS rebinding)', async () => {
  const reply = await request('POST', '/api/app:info', { headers: { ...bearer(token), Host: `evil.example:${port}` }, body: '[]' });
  assert.equal(reply.status, 403);
  assert.equal(
    (await request('POST', '/api/app:info', { headers: { ...bearer(token), Host: `localhost:${port}` }, body: '[]' })).status,
    200,
  );
});

test('server-sent events: hello on connect, then events the core publishes', async () => {
  const received: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/api/events?token=${token}` }, (res) => {
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (message.startsWith('data: ')) received.push(JSON.parse(message.slice(6)));
          if (received.length === 1) context.events.publish({ type: 'runs:changed', runId: 42 });
          if (received.length === 2) {
            req.destroy();
            resolve();
          }
        }
      });
    });
    req.on('error', (error) => (received.length === 2 ? resolve() : reject(error)));
  });
  assert.equal((received[0] as { type: string }).type, 'hello');
  assert.deepEqual(received[1], { type: 'runs:changed', runId: 42 });
  // The closed connection unsubscribes: nothing is left listening.
  for (let i = 0; i < 50 && context.events.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(context.events.size, 0);
});

test('without a built renderer the page says how to build it', async () => {
  const bare = await startServer({
    context,
    port: 0,
    rendererFolder: path.join(home, 'no-such-folder'),
    token: 'fixed-token-for-this-test',
  });
  try {
    const reply = await new Promise<Reply>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: bare.port, path: '/?token=fixed-token-for-this-test' }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject);
    });
    assert.equal(reply.status, 503);
    assert.match(reply.body, /npm run build/);
  } finally {
    await bare.close();
  }
});
