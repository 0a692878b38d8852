/**
 * OpenID Connect sign-in for enterprises (openid-client): authorization code flow with PKCE,
 * state and nonce. Configured by FLEET_OIDC_ISSUER, FLEET_OIDC_CLIENT_ID, FLEET_OIDC_CLIENT_SECRET
 * and FLEET_OIDC_REDIRECT_URI (config.ts; the callback as the browser reaches it, e.g.
 * https://fleet.example.com/api/auth/oidc/callback). The identity provider's verified email
 * picks the user; users are created by an admin here, not on first sign-in.
 *
 * The pending logins (verifier, nonce) live in this process for 10 minutes, keyed by state: run
 * one API process per sticky session, or sign in again if a load balancer switches processes.
 */
import * as client from 'openid-client';
import type pg from 'pg';
import { loginWithVerifiedEmail } from './auth-service.ts';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Where the browser goes once signed in, default "/". */
  afterLogin?: string;
  /** Tests and laptops only: an http:// issuer. */
  allowInsecure?: boolean;
}

const PENDING_TTL_MS = 10 * 60_000;

export class OidcLogin {
  private config: Promise<client.Configuration> | undefined;
  private readonly pending = new Map<string, { verifier: string; nonce: string; at: number }>();

  constructor(
    private readonly settings: OidcSettings,
    private readonly pool: pg.Pool,
  ) {}

  get redirectUri(): string {
    return this.settings.redirectUri;
  }

  private discover(): Promise<client.Configuration> {
    this.config ??= client
      .discovery(
        new URL(this.settings.issuer),
        this.settings.clientId,
        this.settings.clientSecret,
        undefined,
        this.settings.allowInsecure ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.config = undefined; // try discovery again next time
        throw err;
      });
    return this.config;
  }

  /** The identity provider's authorization URL to send the browser to. */
  async start(now = Date.now()): Promise<string> {
    const config = await this.discover();
    for (const [k, v] of this.pending) if (now - v.at > PENDING_TTL_MS) this.pending.delete(k);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    this.pending.set(state, { verifier, nonce, at: now });
    return client
      .buildAuthorizationUrl(config, {
        redirect_uri: this.settings.redirectUri,
        scope: 'openid email',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      })
      .toString();
  }

  /** Completes the flow from the callback URL; a session for the user, or why not. */
  async finish(callbackUrl: URL, now = Date.now()) {
    const state = callbackUrl.searchParams.get('state') ?? '';
    const pending = this.pending.get(state);
    this.pending.delete(state);
    if (!pending || now - pending.at > PENDING_TTL_MS)
      return { ok: false as const, reason: 'unknown or expired sign-in attempt' };
    const config = await this.discover();
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: state,
      expectedNonce: pending.nonce,
    });
    const idClaims = tokens.claims();
    if (!idClaims) return { ok: false as const, reason: 'the identity provider sent no ID token' };
    // Many providers put email only in the UserInfo answer (the spec's default for scope claims).
    const claims =
      typeof idClaims.email === 'string'
        ? idClaims
        : await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    const email = typeof claims.email === 'string' ? claims.email : null;
    if (!email || claims.email_verified !== true)
      return { ok: false as const, reason: 'the identity provider gave no verified email' };
    const session = await loginWithVerifiedEmail(this.pool, email, now);
    if (!session) return { ok: false as const, reason: `no active account for ${email} here` };
    return { ok: true as const, ...session, afterLogin: this.settings.afterLogin ?? '/' };
  }
}
