"""Signed contracts in bulk for the bulk-job tests and the benchmark, and a bulk runner in its own process.

project_id, workers = signed_project(svc, city, 200)     # imported, drafted, offered, signed
python -m tests.helpers_bulk <issuer db> <registry url> <keystore dir> <job id> [batch]
    runs the job (the same `issuer.jobs.run_job` the console's button starts), printing one line
    per batch, so a test can kill -9 it at any moment and start another.
"""

from __future__ import annotations

import sys
from typing import Any

from agents import contract
from agents.keys import Ed25519KeyPair
from issuer import jobs
from issuer.service import SYSTEM, IssuerService

#: the key store's master key in tests/helpers_city.py (EncryptedFileKeyStore(tmp / "city-keys", ...))
KEYSTORE_KEY = b"\x07" * 32


def roster_csv(n: int, start: int = 0) -> bytes:
    """A CP949 roster of `n` distinct participants, as Korean Excel saves it."""
    lines = ["성명,생년월일,연락처,이메일"]
    lines += [
        f"참여자{i},{1970 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d},010-{2000 + i // 10000:04d}-{i % 10000:04d},p{i}@example.kr"
        for i in range(start, start + n)
    ]
    return "\r\n".join(lines).encode("cp949")


def sign_all(
    svc: IssuerService, project_id: int, *, cryptosuite: str | None = None
) -> dict[int, Ed25519KeyPair]:
    """Every offered contract of the project signed by its worker with a fresh did:key (what each
    worker's wallet does: bind the DID, read the draft, sign it, post the acceptance)."""
    from issuer import models

    workers: dict[int, Ed25519KeyPair] = {}
    offered = svc.contracts(project_id=project_id, states=(models.OFFERED,), limit=10_000)
    while offered:
        for c in offered:
            key = Ed25519KeyPair.generate()
            auth = svc.worker(svc.bind_holder(c.participant_id, key.public.did_key, actor=SYSTEM))
            view = svc.worker_contract(auth, c.urn)
            assert view.draft is not None
            assertion = {"type": "WebAuthnAssertion", "challenge": view.draft_digest}
            kw: dict[str, Any] = {"cryptosuite": cryptosuite} if cryptosuite else {}
            svc.accept(
                auth, c.urn, contract.accept_contract(view.draft, key, passkey_assertion=assertion, **kw)
            )
            workers[c.participant_id] = key
        offered = svc.contracts(project_id=project_id, states=(models.OFFERED,), limit=10_000)
    return workers


def signed_project(svc: IssuerService, city: Any, n: int, *, slug: str = "seoul-jobs") -> int:
    """A department and project with `n` contracts signed by their workers; the project id."""
    from tests.helpers_issuer import demo_project

    _, project = demo_project(svc, slug, city=city)
    imported = svc.import_roster(project.id, roster_csv(n))
    assert len(imported.drafted) == n, imported.to_json()
    offer = jobs.start_job(svc, "offer-all", project.id)
    assert jobs.run_job(svc, offer.id).done == n
    sign_all(svc, project.id)
    return project.id


def open_service(db_url: str, registry_url: str, keystore_dir: str) -> IssuerService:
    """The issuer service of tests/helpers_issuer.py, rebuilt in another process (real clock)."""
    import httpx

    from agents.keystore import EncryptedFileKeyStore
    from agents.registry_client import RegistryClient
    from tests.helpers_city import TOKEN
    from tests.helpers_issuer import MASTER, WALLET_URL
    from web import db
    from web.envelope import MasterKey

    registry = RegistryClient(registry_url, TOKEN, httpx.Client(timeout=30, trust_env=False))
    return IssuerService(db.session_factory(db.make_engine(db_url)), MasterKey(MASTER, "issuer"),
                         EncryptedFileKeyStore(keystore_dir, KEYSTORE_KEY), registry, wallet_url=WALLET_URL)  # fmt: skip


def _main(argv: list[str]) -> int:
    db_url, registry_url, keystore_dir, job_id = argv[:4]
    batch = int(argv[4]) if len(argv) > 4 else 10
    svc = open_service(db_url, registry_url, keystore_dir)
    print("started", flush=True)

    def show(p: jobs.JobProgress) -> None:
        print(f"progress {p.done} {p.failed} {p.total}", flush=True)

    final = jobs.run_job(svc, int(job_id), batch=batch, on_progress=show)
    print(f"finished {final.state} {final.done} {final.failed}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
