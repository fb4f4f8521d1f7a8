/**
 * The renderer's Content-Security-Policy, the same for Electron (a response header set by the
 * session) and `effnet serve` (a header on every response): scripts only from the app itself, no
 * inline script, no remote anything. Svelte sets inline style attributes for bars and charts, so
 * styles allow 'unsafe-inline'; thumbnails and the augmentation preview arrive as data: URLs.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
