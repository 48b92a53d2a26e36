"""A real city for tests: a registry app served over HTTP on a free loopback port, departments with
did:web keys it hosts, status lists, a signed trust list, and credentials signed with `agents/` and
logged, each with its receipt. Used by the verifier tests (API, OpenID4VP, verdicts) and the UI ones.

    with start_city(tmp_path) as city:
        dept = city.department("seoul-digital-policy", "서울시 디지털정책과", "Digital Policy Division")
        worker = Ed25519KeyPair.generate()
        contract = city.issue_contract(dept, worker)   # Issued(vc, receipt, status)
        city.revoke(contract)
        config = city.verifier_config(db_url)          # a RoleConfig for verifier.app.create_app
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

import schemas
from agents import contract, dataintegrity, merkle, statuslist
from agents.keys import Ed25519KeyPair, Signer
from agents.keystore import EncryptedFileKeyStore
from agents.registry_client import RegistryClient
from web.config import RoleConfig

REGISTRY_KEY = Ed25519KeyPair.from_seed(b"\x5e" * 32)
ORIGIN = "registry.workcred.test/log"
TOKEN = "city-test-token"
REVOCATION, SUSPENSION = "rev-1", "sus-1"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # keep test output readable
        pass


def serve(app: Any) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve a WSGI app on a free loopback port in a daemon thread (call server.shutdown() to stop)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()
    return server, thread


@dataclass
class Department:
    name: str
    did: str
    label_ko: str
    label_en: str

    def signer(self, city: City, key_id: str | None = None) -> Signer:
        return city.keystore.signer(self.name, key_id)


@dataclass
class Issued:
    """A credential as the wallet would hold it: the signed document, its receipt, its status indexes."""

    vc: dict[str, Any]
    receipt: dict[str, Any]
    department: Department
    status: dict[str, int] = field(default_factory=dict)  # list id -> index

    @property
    def id(self) -> str:
        return str(self.vc["id"])


class City:
    """The registry side and the issuing side of the city, in one test process."""

    def __init__(self, tmp: Path, db_url: str) -> None:
        from registry.app import create_app

        self._box: dict[str, Any] = {}
        # bind first, so the DIDs can name the real port; the app is plugged in right after
        self.server, self.thread = serve(lambda env, sr: self._box["app"](env, sr))
        self.port = self.server.server_port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        config = RoleConfig(
            "registry", port=self.port, base_url=self.base_url, database_url=db_url, secret_key="test", dev=True,
            extra={"key": REGISTRY_KEY.secret_multibase, "origin": ORIGIN, "api_tokens": TOKEN, "background": "0", "checkpoint_every": "1"},
        )  # fmt: skip
        self.app = create_app(config)
        self._box["app"] = self.app
        self.client = RegistryClient(self.base_url, TOKEN, httpx.Client(timeout=10, trust_env=False))
        self.keystore = EncryptedFileKeyStore(tmp / "city-keys", b"\x07" * 32)
        self.registry_key = REGISTRY_KEY
        self.origin = ORIGIN
        self.now = datetime.now(UTC).replace(microsecond=0)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client._http.close()
        self.app.extensions["registry"].close()

    # -- registry side ---------------------------------------------------------------------------

    @property
    def log(self) -> Any:
        return self.app.extensions["registry"].log

    def checkpoint(self) -> None:
        self.log.checkpoint()

    def accredit(self, dept: Department) -> None:
        from registry.vdr_trust import accredit, update_trust_list

        ctx = self.app.extensions["registry"]
        change = accredit(dept.name, dept.did, label_ko=dept.label_ko, label_en=dept.label_en, at=self.now)
        update_trust_list(ctx.session_factory, ctx.log, REGISTRY_KEY, self.base_url, change, at=self.now)

    # -- issuing side ------------------------------------------------------------------------------

    def department(self, name: str, label_ko: str = "", label_en: str = "", *, accredited: bool = True) -> Department:
        """The department's key, did:web document and two status lists (the issuer's code); accredit it."""
        from issuer.service import publish_department

        did = publish_department(self.client, self.keystore, name, at=self.now, revocation=REVOCATION, suspension=SUSPENSION)
        dept = Department(name, did, label_ko or name, label_en or name)
        if accredited:
            self.accredit(dept)
        return dept

    def rotate_key(self, dept: Department) -> str:
        """Rotate the department key (new DID version signed by old and new key); re-sign its status lists."""
        from issuer.service import rotate_department_key

        return rotate_department_key(self.client, self.keystore, dept.name, (REVOCATION, SUSPENSION), at=self.now)

    def _status_entries(self, dept: Department) -> tuple[list[dict[str, Any]], dict[str, int]]:
        entries, indexes = [], {}
        for list_id, purpose in ((REVOCATION, "revocation"), (SUSPENSION, "suspension")):
            index = self.client.allocate_status(dept.name, list_id)
            indexes[list_id] = index
            entries.append(statuslist.status_entry(self.client.status_list_url(dept.name, list_id), index, purpose))
        return entries, indexes

    def register(self, vc: dict[str, Any]) -> dict[str, Any]:
        """Log the credential's digest and return its receipt (after a checkpoint covering it)."""
        index = self.client.append("credential", merkle.document_digest(vc))["index"]
        self.checkpoint()
        receipt = self.client.receipt(index)
        assert receipt is not None
        return receipt.to_json()

    def _base(self, example: str, dept: Department, worker_did: str, valid_from: datetime, valid_until: datetime | None) -> tuple[dict[str, Any], dict[str, int]]:
        vc = copy.deepcopy(schemas.example(example))
        vc["id"] = f"urn:uuid:{uuid.uuid4()}"
        vc["issuer"] = dept.did
        vc["validFrom"] = dataintegrity.now_iso(valid_from)
        if valid_until is not None:
            vc["validUntil"] = dataintegrity.now_iso(valid_until)
        vc["credentialSubject"]["id"] = worker_did
        vc["credentialSubject"]["employer"]["id"] = dept.did
        entries, indexes = self._status_entries(dept)
        vc["credentialStatus"] = entries
        return vc, indexes

    def issue_contract(
        self, dept: Department, worker: Ed25519KeyPair, *, signer: Signer | None = None,
        valid_from: datetime | None = None, valid_until: datetime | None = None, register: bool = True,
        form: str = "evidence",
    ) -> Issued:  # fmt: skip
        """A LaborContractCredential signed by the worker, then by the city.

        form="evidence" (what the issuer produces): the worker's acceptance inside `evidence`, under the
        city's single proof (agents/contract.py); form="chain": the W3C proof chain (previousProof).
        """
        vc, indexes = self._base("labor-contract-part-time", dept, worker.public.did_key, valid_from or self.now - timedelta(days=30), valid_until)
        if form == "evidence":
            acceptance = contract.accept_contract(vc, worker, at=self.now)
            vc = contract.countersign(vc, acceptance, signer or dept.signer(self), at=self.now)
            return Issued(vc, self.register(vc) if register else {}, dept, indexes)
        worker_proof = f"urn:uuid:{uuid.uuid4()}"
        vc = dataintegrity.sign(vc, worker, options={"id": worker_proof, "proofPurpose": "authentication"}, at=self.now)
        vc = dataintegrity.sign(vc, signer or dept.signer(self), options={"id": f"urn:uuid:{uuid.uuid4()}", "previousProof": worker_proof}, at=self.now)
        return Issued(vc, self.register(vc) if register else {}, dept, indexes)

    def issue_career(
        self, dept: Department, worker: Ed25519KeyPair, *, signer: Signer | None = None, cryptosuite: str = dataintegrity.RDFC,
        valid_from: datetime | None = None, valid_until: datetime | None = None, end_date: str | None = None,
    ) -> Issued:  # fmt: skip
        """A CareerRecordCredential signed by the department."""
        vc, indexes = self._base("career-record", dept, worker.public.did_key, valid_from or self.now - timedelta(days=1), valid_until)
        if end_date:
            vc["credentialSubject"]["employmentPeriod"]["endDate"] = end_date
        vc = dataintegrity.sign(vc, signer or dept.signer(self), cryptosuite=cryptosuite, at=self.now)
        return Issued(vc, self.register(vc), dept, indexes)

    def set_status(self, issued: Issued, list_id: str, value: bool) -> None:
        d = issued.department
        self.client.set_status(d.name, list_id, issued.status[list_id], value, self.keystore.signer(d.name), at=self.now)

    def revoke(self, issued: Issued) -> None:
        self.set_status(issued, REVOCATION, True)

    def suspend(self, issued: Issued) -> None:
        self.set_status(issued, SUSPENSION, True)

    def reinstate(self, issued: Issued) -> None:
        self.set_status(issued, SUSPENSION, False)

    # -- the verifier's configuration ----------------------------------------------------------------

    def verifier_config(self, db_url: str, *, base_url: str = "http://verifier.test", **extra: str) -> RoleConfig:
        """A verifier trusting this city: its registry URL and pinned key, its host allow-listed."""
        settings = {
            "registry_url": self.base_url, "registry_key": REGISTRY_KEY.public.multibase,
            "registry_origin": ORIGIN, "background": "0",
        }  # fmt: skip
        settings.update(extra)
        return RoleConfig("verifier", port=8703, base_url=base_url, database_url=db_url, secret_key="test", dev=True, extra=settings)


@contextmanager
def start_city(tmp: Path, db_url: str | None = None) -> Iterator[City]:
    """A running city registry (SQLite in `tmp` unless `db_url`); shut down on exit."""
    city = City(tmp, db_url or f"sqlite:///{tmp / 'city-registry.sqlite3'}")
    try:
        yield city
    finally:
        city.close()
