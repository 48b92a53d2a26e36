// A real OpenID Connect provider for the wallet's OIDC login tests (node_modules/oidc-provider),
// standing in for the city's identity provider (e.g. Seoul Pass):
//   node tests/oidc_provider.mjs <port> <redirect_uri> <client_id> <client_secret>
// One confidential client (authorization code + PKCE), accounts whose ID tokens carry `name` and
// `birthdate`; the provider's own development login and consent pages (any password) sign them in.
// Prints "ready <issuer>" once listening.
import Provider from "oidc-provider";

const [port, redirectUri, clientId, clientSecret] = process.argv.slice(2);
const issuer = `http://localhost:${port}`;
const accounts = {
  "kim": { name: "김서울", birthdate: "1990-05-01" },
  "stranger": { name: "홍길동", birthdate: "1970-01-01" },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ["code"],
    grant_types: ["authorization_code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  claims: { openid: ["sub"], profile: ["name", "birthdate"] },
  // the claims the wallet needs go into the ID token itself (not only the userinfo endpoint)
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ["workcred-test-cookie-key"] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const person = accounts[id];
    if (!person) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...person }; } };
  },
});

provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
