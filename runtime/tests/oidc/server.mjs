// A real OAuth 2.0 / OpenID authorization server for wharf's tests:
// oidc-provider (npm) over TLS with PKCE required, refresh-token rotation,
// revocation, introspection, device flow and client credentials. Written
// here; oidc-provider itself is installed from npm by scripts/install-oidc.sh.
//
// usage: node server.mjs CERT.pem KEY.pem PORT '{"accessTtl":3600,"autoConsent":true}'
// Prints "READY <issuer>" when listening, then one "EVENT <name> <json>" line
// per provider event the tests count (refreshes, revocations, errors).

import Provider from 'oidc-provider';
import https from 'node:https';
import fs from 'node:fs';

const [certFile, keyFile, port, optsJson] = process.argv.slice(2);
const opts = JSON.parse(optsJson || '{}');
const issuer = `https://localhost:${port}`;

const configuration = {
  clients: [
    {
      client_id: 'cli',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
    },
    {
      client_id: 'service',
      client_secret: 'service-secret-for-tests',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'offline_access', 'repo', 'read', 'write'],
  features: {
    devInteractions: { enabled: !opts.autoConsent },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  rotateRefreshToken: true,
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: {
    AccessToken: opts.accessTtl ?? 3600,
    ClientCredentials: 600,
    RefreshToken: 86400,
    DeviceCode: 600,
    Interaction: 3600,
    Session: 3600,
    Grant: 86400,
  },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
  cookies: { keys: ['wharf-test-cookie-key-not-a-secret'] },
};

const provider = new Provider(issuer, configuration);
provider.proxy = false;

// Auto-consent: log the user in and grant what was asked, no pages.
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/[^/]+$/);
  if (!opts.autoConsent || !m || ctx.method !== 'GET') {
    return next();
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId: 'wharf-user' } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    result = { consent: { grantId: await grant.save() } };
  }
  const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.redirect(redirectTo);
});

const say = (line) => process.stdout.write(`${line}\n`);
for (const name of [
  'grant.success',
  'grant.error',
  'grant.revoked',
  'refresh_token.consumed',
  'refresh_token.destroyed',
  'access_token.destroyed',
  'server_error',
]) {
  provider.on(name, (...args) => {
    const detail = name === 'grant.error' || name === 'server_error'
      ? { error: args[1]?.error || args[1]?.message || String(args[1]) }
      : {};
    say(`EVENT ${name} ${JSON.stringify(detail)}`);
  });
}

const server = https.createServer(
  { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) },
  provider.callback(),
);
server.listen(Number(port), '127.0.0.1', () => say(`READY ${issuer}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
