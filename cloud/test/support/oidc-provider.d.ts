// oidc-provider ships no type declarations; the tests use a small part of it as their IdP.
declare module 'oidc-provider';
