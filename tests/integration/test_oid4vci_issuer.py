"""OpenID4VCI 1.0 over HTTP between the real issuer and our holder client, with every negative case of issue 13."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents import oid4vci
from agents.did import Resolver
from agents.keys import Ed25519KeyPair
from agents.oid4vci import ProtocolError
from agents.verify import check_credential
from tests.helpers_issuer import IssuerUnderTest, last_code, receive, start_issuer


@pytest.fixture
def iss(tmp_path: Path, db_url: str) -> Any:
    with start_issuer(tmp_path, db_url) as issuer:
        yield issuer


def _resolver(iss: IssuerUnderTest) -> Resolver:
    dept = iss.department
    return Resolver(static={dept.did: iss.city.client.did_document(dept.name)})


def _steps(iss: IssuerUnderTest, url: str, tx_code: str | None = None) -> tuple[httpx.Client, oid4vci.IssuerMetadata, oid4vci.CredentialOffer, str]:
    http = iss.holder_http()
    offer = oid4vci.resolve_offer(url, http)
    meta = oid4vci.fetch_metadata(offer.credential_issuer, http)
    return http, meta, offer, oid4vci.request_token(meta, offer, http, tx_code=tx_code)


def test_metadata_names_the_three_configurations_in_ldp_vc(iss: IssuerUnderTest) -> None:
    with iss.holder_http() as http:
        meta = oid4vci.fetch_metadata(iss.base_url, http)
    assert meta.token_endpoint == iss.base_url + "/oid4vci/token"
    assert set(meta.configurations) == set(oid4vci.CONFIGURATION_IDS)
    config = meta.configurations["LaborContractCredential"]
    assert config["format"] == "ldp_vc" and config["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["EdDSA"]
    assert config["credential_definition"]["type"] == ["VerifiableCredential", "LaborContractCredential"]


@pytest.mark.parametrize("proof_type", ["jwt", "di_vp"])
def test_the_worker_receives_the_contract_with_its_receipt(iss: IssuerUnderTest, proof_type: str) -> None:
    worker = Ed25519KeyPair.generate()
    urn = iss.active_contract(worker)
    [ready] = iss.svc.credentials_ready_for(worker.public.did_key, [urn])
    offer = iss.offer(urn)
    assert offer.url.startswith("openid-credential-offer://?credential_offer_uri=")
    (got,) = receive(iss, offer.url, worker, proof_type=proof_type)
    assert got.credential == ready.credential and got.receipt == ready.receipt is not None
    report = check_credential(got.credential, resolve=_resolver(iss))
    proofs = [c for c in report.checks if c.id.startswith("proof")]
    assert proofs and not any(c.failed for c in proofs)


def test_activation_and_completion_make_offers_the_wallet_receives(iss: IssuerUnderTest) -> None:
    from issuer.protocol_models import CredentialOfferRow

    worker = Ed25519KeyPair.generate()
    urn = iss.active_contract(worker)
    # countersigning made an offer (the engine's after-issue hook); completing makes one for the career record
    [record_urn] = iss.svc.complete([urn]).issued
    with iss.ctx.tx() as s:
        made = {r.credential_urn: r.configuration_id for r in s.query(CredentialOfferRow)}
    assert made == {urn: "LaborContractCredential", record_urn: "CareerRecordCredential"}
    offer = iss.offer(record_urn)
    (got,) = receive(iss, offer.url, worker)
    assert got.credential["type"] == ["VerifiableCredential", "CareerRecordCredential"] and got.credential["id"] == record_urn


def test_the_pre_authorized_code_is_single_use(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    offer = iss.offer(iss.active_contract(worker))
    http, meta, parsed, _ = _steps(iss, offer.url)
    with pytest.raises(ProtocolError, match="invalid_grant") as e:
        oid4vci.request_token(meta, parsed, http)
    assert e.value.error == "invalid_grant"
    # and the offer document is gone once redeemed
    with pytest.raises(ProtocolError, match="404"):
        oid4vci.resolve_offer(offer.url, http)


def test_tx_code_wrong_missing_locks_and_is_rate_limited(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    offer = iss.offer(iss.active_contract(worker), out_of_band=True)
    assert offer.tx_code is not None and len(offer.tx_code) == 6
    assert last_code(iss.svc, "offer") == offer.tx_code  # sent to the worker's phone through the outbox
    with iss.holder_http() as http:
        parsed = oid4vci.resolve_offer(offer.url, http)
        assert parsed.tx_code == oid4vci.TxCode(6, "numeric", parsed.tx_code.description)
        meta = oid4vci.fetch_metadata(parsed.credential_issuer, http)
        with pytest.raises(ProtocolError, match="transaction code"):
            oid4vci.request_token(meta, parsed, http)  # refused by the client before asking
        form = {"grant_type": oid4vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": parsed.pre_authorized_code}
        missing = http.post(meta.token_endpoint, data=form)
        assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
        wrong = "000000" if offer.tx_code != "000000" else "111111"
        for _ in range(4):
            assert http.post(meta.token_endpoint, data={**form, "tx_code": wrong}).json()["error"] == "invalid_grant"
        # the fifth wrong code in all locks the offer: even the right code is refused now
        locked = http.post(meta.token_endpoint, data={**form, "tx_code": offer.tx_code})
        assert locked.status_code == 400 and "locked" in locked.json()["error_description"]
        # a client guessing across offers is slowed down (10 tries per 5 minutes)
        answers = [http.post(meta.token_endpoint, data={**form, "tx_code": wrong}).status_code for _ in range(6)]
        assert answers[-1] == 429


def test_the_right_tx_code_gives_the_credential(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    offer = iss.offer(iss.active_contract(worker), out_of_band=True)
    (got,) = receive(iss, offer.url, worker, tx_code=offer.tx_code)
    assert got.credential["credentialSubject"]["id"] == worker.public.did_key


def _credential_request(http: httpx.Client, meta: oid4vci.IssuerMetadata, token: str, body: dict[str, Any]) -> httpx.Response:
    return http.post(meta.credential_endpoint, json=body, headers={"Authorization": f"Bearer {token}"})


def test_nonce_reused_or_expired_is_refused(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    http, meta, _, token = _steps(iss, iss.offer(iss.active_contract(worker)).url)
    nonce = oid4vci.request_nonce(meta, http)
    body = {"credential_configuration_id": "LaborContractCredential", "proofs": {"jwt": [oid4vci.jwt_proof(worker, audience=iss.base_url, nonce="made-up")]}}
    assert _credential_request(http, meta, token, body).json()["error"] == "invalid_nonce"
    # expired: the issuer's clock moves past the nonce's five minutes
    real = iss.ctx.clock
    iss.ctx.clock = lambda: real() + timedelta(minutes=6)
    try:
        proof = oid4vci.jwt_proof(worker, audience=iss.base_url, nonce=nonce, at=iss.ctx.clock())
        answer = _credential_request(http, meta, token, {**body, "proofs": {"jwt": [proof]}})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_nonce"
    finally:
        iss.ctx.clock = real
    # reused: a nonce spent on a delivered credential does not work again
    nonce = oid4vci.request_nonce(meta, http)
    proof = oid4vci.jwt_proof(worker, audience=iss.base_url, nonce=nonce)
    assert _credential_request(http, meta, token, {**body, "proofs": {"jwt": [proof]}}).status_code == 200
    http2, meta2, _, token2 = _steps(iss, iss.offer(iss.active_contract(worker)).url)
    answer = _credential_request(http2, meta2, token2, {**body, "proofs": {"jwt": [proof]}})
    assert answer.json()["error"] == "invalid_nonce"


def test_bad_proofs_wrong_configuration_and_someone_elses_contract(iss: IssuerUnderTest) -> None:
    worker, other = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    http, meta, _, token = _steps(iss, iss.offer(iss.active_contract(worker)).url)

    def ask(proof: Any, config: str = "LaborContractCredential", proof_type: str = "jwt") -> dict[str, Any]:
        answer = _credential_request(http, meta, token, {"credential_configuration_id": config, "proofs": {proof_type: [proof]}})
        assert answer.status_code == 400, answer.text
        return dict(answer.json())

    def fresh() -> str:
        return oid4vci.request_nonce(meta, http)

    # a proof whose kid names the worker but is signed by another key
    good = oid4vci.jwt_proof(worker, audience=iss.base_url, nonce=fresh())
    forged_sig = oid4vci.jwt_proof(other, audience=iss.base_url, nonce=fresh()).split(".")[2]
    assert ask(".".join(good.split(".")[:2] + [forged_sig]))["error"] == "invalid_proof"
    # made for another issuer
    assert ask(oid4vci.jwt_proof(worker, audience="https://other-issuer.example", nonce=fresh()))["error"] == "invalid_proof"
    # a configuration this token was not offered
    assert ask(oid4vci.jwt_proof(worker, audience=iss.base_url, nonce=fresh()), "CareerRecordCredential")["error"] == "unknown_credential_configuration"
    # someone else (a valid proof by another DID) asking for this worker's contract
    refused = ask(oid4vci.jwt_proof(other, audience=iss.base_url, nonce=fresh()))
    assert refused["error"] == "credential_request_denied" and "worker" in refused["error_description"]
    # di_vp for another domain
    assert ask(oid4vci.di_vp_proof(worker, audience="https://other-issuer.example", nonce=fresh()), proof_type="di_vp")["error"] == "invalid_proof"
    # and after all that the worker still gets it
    ok = _credential_request(http, meta, token, {"credential_configuration_id": "LaborContractCredential", "proofs": {"jwt": [oid4vci.jwt_proof(worker, audience=iss.base_url, nonce=fresh())]}})
    assert ok.status_code == 200 and ok.json()["credentials"][0]["credential"]["credentialSubject"]["id"] == worker.public.did_key


def test_tokens_are_checked(iss: IssuerUnderTest) -> None:
    with iss.holder_http() as http:
        for header in ({}, {"Authorization": "Bearer wc1.e30.AAAA"}, {"Authorization": "Basic eDp5"}):
            answer = http.post(iss.base_url + "/oid4vci/credential", json={}, headers=header)
            assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert http.post(iss.base_url + "/oid4vci/token", data={"grant_type": "password"}).json()["error"] == "unsupported_grant_type"
        assert http.get(iss.base_url + "/oid4vci/offers/nope").status_code == 404


def test_the_wallet_api_lists_one_offer_per_issued_contract(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    urn = iss.active_contract(worker)

    def listed() -> str:
        answer = iss.http.get(iss.base_url + "/api/wallet/contracts", headers={"Authorization": f"Bearer {iss.worker_token}"})
        assert answer.status_code == 200, answer.text
        [item] = [c for c in answer.json() if c["id"] == urn] if isinstance(answer.json(), list) else [c for c in answer.json()["contracts"] if c["id"] == urn]
        return str(item["offer"])

    link = listed()
    assert link.startswith("openid-credential-offer://") and listed() == link  # reused, not made at each listing
    (got,) = receive(iss, link, worker)
    assert got.credential["id"] == urn and got.receipt is not None
    assert listed() != link  # the old one is spent: a fresh offer (a restored wallet can take it again)


def test_an_expired_offer_gives_no_token(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    offer = iss.offer(iss.active_contract(worker))
    with iss.holder_http() as http:
        parsed = oid4vci.resolve_offer(offer.url, http)
        meta = oid4vci.fetch_metadata(parsed.credential_issuer, http)
        real = iss.ctx.clock
        iss.ctx.clock = lambda: real() + iss.ctx.offer_ttl + timedelta(seconds=1)
        try:
            with pytest.raises(ProtocolError, match="expired") as e:
                oid4vci.request_token(meta, parsed, http)
            assert e.value.error == "invalid_grant"
        finally:
            iss.ctx.clock = real


def test_the_clerk_shows_an_offer_qr_and_the_code_goes_to_the_phone(iss: IssuerUnderTest) -> None:
    from issuer.console import ADMIN, Accounts
    from issuer.service import SYSTEM
    from tests.helpers_console import CSRF, PASSWORD, sign_in

    worker = Ed25519KeyPair.generate()
    urn = iss.active_contract(worker)
    admin = Accounts(iss.svc).create_staff("admin", "관리자", ADMIN, password=PASSWORD, actor=SYSTEM).id
    client = iss.app.test_client()
    sign_in(client, admin)
    assert "다른 전자지갑으로 보내기" in client.get(f"/console/contracts/{urn}").get_data(as_text=True)
    page = client.post(f"/console/contracts/{urn}/credential_offer", data={"csrf_token": CSRF})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'src="data:image/svg+xml' in html and "전자증명서 받기 QR" in html
    link = html.split('href="openid-credential-offer://', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    code = last_code(iss.svc, "offer")  # the tx_code went to the worker's phone, not onto the page
    assert f"{code}<" not in html and f" {code} " not in html
    (got,) = receive(iss, "openid-credential-offer://" + link, worker, tx_code=code)
    assert got.credential["id"] == urn
