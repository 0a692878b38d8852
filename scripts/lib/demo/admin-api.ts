/**
 * The cloud's tRPC API over HTTP, as the dashboard calls it (POST /trpc/<procedure> with a JSON
 * body, the session cookie from auth.login), so the demo fleet is made by the same procedures,
 * permission checks and audit entries as an administrator's clicks. Typed by the server's own
 * router: a procedure renamed or an input changed breaks the typecheck, not the Quick start.
 */
import type { createCaller } from '../../../cloud/src/api/root.ts';

type Caller = ReturnType<typeof createCaller>;
/** A procedure's input and output, from the server's caller: `In<Caller['groups']['create']>`. */
export type In<F> = F extends (input: infer I, ...rest: never[]) => Promise<unknown> ? I : never;
export type Out<F> = F extends (...args: never[]) => Promise<infer O> ? O : never;

export class AdminApiError extends Error {
  constructor(
    readonly procedure: string,
    readonly status: number,
    message: string,
  ) {
    super(`${procedure}: ${message} (HTTP ${status})`);
  }
}

export class AdminApi {
  private cookie: string | null = null;

  private constructor(private readonly apiUrl: string) {}

  /** Signs in with a password (auth.login) and keeps the session cookie for the next calls. */
  static async signIn(apiUrl: string, email: string, password: string): Promise<AdminApi> {
    const api = new AdminApi(apiUrl);
    await api.mutate('auth', 'login', { email, password });
    return api;
  }

  /** A caller without a session, for the public procedures (auth.acceptInvite). */
  static anonymous(apiUrl: string): AdminApi {
    return new AdminApi(apiUrl);
  }

  async mutate<R extends keyof Caller, P extends keyof Caller[R] & string>(
    router: R,
    procedure: P,
    input: In<Caller[R][P]>,
  ): Promise<Out<Caller[R][P]>> {
    return this.call(`${router}.${procedure}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
    });
  }

  async query<R extends keyof Caller, P extends keyof Caller[R] & string>(
    router: R,
    procedure: P,
    input: In<Caller[R][P]>,
  ): Promise<Out<Caller[R][P]>> {
    const q = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.call(`${router}.${procedure}`, { method: 'GET' }, q);
  }

  private async call<T>(path: string, init: RequestInit, query = ''): Promise<T> {
    const res = await fetch(`${this.apiUrl}/trpc/${path}${query}`, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string>),
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
    });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('fleet_session='));
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await res.text();
    let body: { result?: { data?: unknown }; error?: { message?: string } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new AdminApiError(path, res.status, `not a tRPC answer: ${text.slice(0, 200)}`);
    }
    if (!res.ok || body.error)
      throw new AdminApiError(path, res.status, body.error?.message ?? text.slice(0, 200));
    return body.result?.data as T;
  }
}
