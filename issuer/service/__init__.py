"""The issuer's service: departments, projects, rosters, contracts and their lifecycle, below the views.

No Flask here: the console, the bulk engine, the CLI and the protocol endpoints all call
`IssuerService` (one object per process, built by `IssuerService.from_config`). Errors are
`agents.errors.Error` subclasses with Korean and English text; personal data is sealed at rest
(`web.envelope`), and every change writes its audit event in the same transaction.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from agents.keystore import open_keystore
from agents.registry_client import RegistryClient
from web import db, envelope
from web.config import RoleConfig, peer_url

from ._base import SYSTEM, Actor, digest
from ._contracts import ContractView, DraftResult, OfferResult
from ._departments import (
    REVOCATION,
    SUSPENSION,
    DepartmentsMixin,
    DepartmentView,
    publish_department,
    rotate_department_key,
)
from ._import import RosterImport, RosterImportMixin
from ._issuing import REINSTATE, REVOKE, SUPERSEDED, SUSPEND, IssueResult
from ._outbox import DbOutbox, Message, Outbox, Sender
from ._projects import ProjectView, compose_subject
from ._records import CERTIFICATE_ITEMS, AuditView, ReadyCredential, RecordsMixin
from ._roster import AddResult, ParticipantDetails, ParticipantRow, ParticipantView, mask_phone
from ._wallet import Bound, CodeSent, InvitationLocked, WalletContract, WorkerAuth

__all__ = [
    "CERTIFICATE_ITEMS", "REINSTATE", "REVOKE", "SUPERSEDED", "SUSPEND", "AuditView", "Bound", "CodeSent",
    "InvitationLocked", "IssueResult", "ReadyCredential", "WalletContract", "WorkerAuth",
    "REVOCATION", "SUSPENSION", "SYSTEM", "Actor", "AddResult", "ContractView", "DbOutbox", "DepartmentView",
    "DraftResult", "IssuerService", "Message", "OfferResult", "Outbox", "ParticipantDetails", "ParticipantRow",
    "ParticipantView", "ProjectView", "RosterImport", "Sender", "compose_subject", "digest", "mask_phone", "publish_department",
    "rotate_department_key",
]  # fmt: skip


class IssuerService(DepartmentsMixin, RosterImportMixin, RecordsMixin):
    """Everything the issuer does, as typed calls (see the mixins for each part)."""

    @classmethod
    def from_config(cls, config: RoleConfig, *, session_factory: sessionmaker[Session] | None = None) -> IssuerService:
        """Built from WORKCRED_ISSUER_* and the shared settings: the database (migrated), the master key
        (WORKCRED_ISSUER_MASTER_KEY[_FILE]), the key store (WORKCRED_KEYSTORE_DIR, default
        <data dir>/keystore), the registry (its URL and WORKCRED_REGISTRY_API_TOKEN) and the wallet's URL."""
        data_dir = Path(os.environ.get("WORKCRED_DATA_DIR") or db.DEFAULT_DATA_DIR)
        if session_factory is None:
            url = config.database_url or db.database_url("issuer")
            db.migrate("issuer", url)
            session_factory = db.session_factory(db.make_engine(url))
        kek = envelope.load_master_key("issuer", dev=config.dev, data_dir=data_dir)
        keys = open_keystore(os.environ.get("WORKCRED_KEYSTORE_DIR") or data_dir / "keystore", dev=config.dev)
        registry_url = config.extra.get("registry_url") or peer_url(config, "registry")
        token = os.environ.get("WORKCRED_REGISTRY_API_TOKEN")
        registry = RegistryClient(registry_url, token, httpx.Client(timeout=20, trust_env=False))
        return cls(session_factory, kek, keys, registry, wallet_url=peer_url(config, "wallet"), issuer_url=config.base_url)
