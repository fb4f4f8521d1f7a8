/**
 * The server's access token: 32 random bytes in the printed URL, required on every request and
 * every event-stream connection. Compared in constant time (both sides hashed first, so neither
 * the length nor a matching prefix leaks through timing).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function createToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokensEqual(expected: string, given: string | undefined | null): boolean {
  if (typeof given !== 'string' || given === '') return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** Where a request may carry the token. API calls use the header only, so a page elsewhere can never forge one. */
export interface TokenSources {
  readonly header: string | undefined;
  readonly query: string | null;
  readonly cookie: string | undefined;
}

export function tokenSources(request: IncomingMessage, url: URL, cookieName: string): TokenSources {
  const authorization = request.headers.authorization;
  const header = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
  return { header, query: url.searchParams.get('token'), cookie: readCookie(request.headers.cookie, cookieName) };
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return undefined;
}

/**
 * Static files need the token too, but a browser does not add a header to `<script src>`: the page
 * opened with `?token=` sets an HttpOnly, SameSite=Strict cookie that its own assets then carry.
 * The name includes the port because cookies are shared between ports of one host.
 */
export function cookieName(port: number): string {
  return `effnet-token-${port}`;
}

export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** Loopback addresses: the default, where only this machine's users can connect. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
