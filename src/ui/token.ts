import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { forbidden } from './http-error.ts';

export const TOKEN_COOKIE = 'graft_ui';

/** A token as Jupyter makes them: 24 random bytes, URL-safe. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function queryToken(url: string): string | null {
  const q = url.indexOf('?');
  return q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('token');
}

/**
 * Every request, static files included, carries the token: as `?token=` (the printed URL; the
 * answer then sets the cookie, so the app's own requests need not repeat it), the cookie, or
 * `Authorization: Bearer`. Anything else is answered 403 before a route runs.
 */
export function requireToken(app: FastifyInstance, token: string): void {
  const expected = Buffer.from(token);
  const matches = (given: string | null) => {
    if (given === null) return false;
    const g = Buffer.from(given);
    return g.length === expected.length && timingSafeEqual(g, expected);
  };
  app.addHook('onRequest', async (request, reply) => {
    const fromQuery = queryToken(request.url);
    if (matches(fromQuery)) {
      reply.header('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
      return;
    }
    const auth = request.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
    if (matches(bearer) || matches(cookieValue(request.headers.cookie, TOKEN_COOKIE))) return;
    throw forbidden('this server requires its token: open the URL it printed (with ?token=...), or send "Authorization: Bearer <token>"');
  });
}
