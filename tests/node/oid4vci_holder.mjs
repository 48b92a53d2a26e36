// An independent OpenID4VCI 1.0 holder: the OpenWallet Foundation's @openid4vc/openid4vci client runs the
// whole pre-authorized flow against our issuer. Called by tests/integration/test_oid4vci_interop.py:
//   node tests/node/oid4vci_holder.mjs '<offer link>' < {"x": ..., "d": ..., "did": ..., "txCode": ...}
// and prints {"credentialResponse": ...} (or {"error": ...} with exit code 1) on stdout.
import crypto from 'node:crypto';
import { clientAuthenticationAnonymous, setGlobalConfig } from '@openid4vc/oauth2';
import { Openid4vciClient } from '@openid4vc/openid4vci';

// the test issuer listens on http://127.0.0.1 (loopback only); production issuers are https
setGlobalConfig({ allowInsecureUrls: true });

const offerUrl = process.argv[2];
const input = JSON.parse(await new Promise((resolve) => {
  let text = '';
  process.stdin.on('data', (chunk) => { text += chunk; });
  process.stdin.on('end', () => resolve(text));
}));
const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: input.x };
const privateKey = crypto.createPrivateKey({ key: { ...publicJwk, d: input.d }, format: 'jwk' });
const b64u = (value) => Buffer.from(value).toString('base64url');

const callbacks = {
  fetch: globalThis.fetch,
  hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
  generateRandom: (length) => new Uint8Array(crypto.randomBytes(length)),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, { header, payload }) => {
    const signingInput = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
    const signature = crypto.sign(null, Buffer.from(signingInput), privateKey);
    return { jwt: `${signingInput}.${b64u(signature)}`, signerJwk: publicJwk };
  },
};

try {
  const client = new Openid4vciClient({ callbacks });
  const credentialOffer = await client.resolveCredentialOffer(offerUrl);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode: input.txCode ?? undefined,
  });
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const credentialConfigurationId = credentialOffer.credential_configuration_ids[0];
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId, nonce, signer: { method: 'did', didUrl: input.did, alg: 'EdDSA' },
  });
  const result = await client.retrieveCredentials({
    issuerMetadata, credentialConfigurationId, accessToken: accessTokenResponse.access_token, proofs: { jwt: [jwt] },
  });
  console.log(JSON.stringify({ version: issuerMetadata.originalDraftVersion, credentialResponse: result.credentialResponse }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.message ?? error), response: error?.errorResponse ?? null }));
  process.exit(1);
}
