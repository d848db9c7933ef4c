/**
 * The dashboard page's files, served by the admin server from the package itself (`assets/` next
 * to this module, copied there by the build): no build step for the user and nothing fetched from
 * elsewhere. Only the files named here are served, each with a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import type { Reply } from '../admin-http.js';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
};

/** The files of the page, by the name they are served under (`/dashboard/<name>`; `/` is the page). */
export const ASSET_NAMES = [
  'index.html',
  'dashboard.css',
  'dashboard.js',
  'charts.js',
  'format.js',
  'icon.svg',
] as const;

/**
 * Everything from this origin only: no inline script or style, no frames, no form posts, no base
 * tag; `connect-src 'self'` lets the page call the API and open its event stream and nothing else.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

const cache = new Map<string, string>();

function read(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** The reply serving asset `name`, or undefined when there is no such asset. */
export function assetReply(name: string): Reply | undefined {
  if (!(ASSET_NAMES as readonly string[]).includes(name)) return undefined;
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return {
    status: 200,
    body: read(name),
    contentType: TYPES[ext],
    headers: {
      'Content-Security-Policy': DASHBOARD_CSP,
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    },
  };
}
