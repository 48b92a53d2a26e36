"""Departments: each an issuer with its key in the key store, a did:web document and two status lists.

`publish_department` and `rotate_department_key` need only the key store and the registry (the demo
and the test city call them); `DepartmentsMixin.create_department` also keeps the department's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from agents import dataintegrity, didhistory, statuslist
from agents.errors import Conflict, InvalidInput, NotFound
from agents.keystore import KeyStore
from agents.registry_client import RegistryClient

from .. import models
from ._base import SYSTEM, Actor, ServiceBase, not_found

REVOCATION, SUSPENSION = "revocation-1", "suspension-1"


def _records(keys: KeyStore, key_name: str) -> list[didhistory.KeyRecord]:
    return [didhistory.KeyRecord(k.key_id, k.public, k.current) for k in keys.public_keys(key_name)]


def publish_department(
    client: RegistryClient, keys: KeyStore, slug: str, *, at: datetime,
    revocation: str = REVOCATION, suspension: str = SUSPENSION,
) -> str:  # fmt: skip
    """The department's key, did:web document and revocation + suspension lists, each only if missing
    (idempotent); returns its DID. The registry publishes them and never sees the key."""
    did = didhistory.department_did(client.base_url, slug)
    if slug not in keys.names():
        keys.create(slug, controller=did)
    if client.did_document(slug) is None:
        doc = didhistory.build_did_document(did, _records(keys, slug))
        client.publish_did_document(slug, didhistory.sign_did_document(doc, [keys.signer(slug)]))
    try:
        existing = set(client.status_lists(slug))
    except NotFound:
        existing = set()
    for list_id, purpose in ((revocation, "revocation"), (suspension, "suspension")):
        if list_id not in existing:
            client.create_status_list(slug, list_id, purpose, keys.signer(slug), issuer=did, at=at)
    return did


def rotate_department_key(
    client: RegistryClient, keys: KeyStore, slug: str, list_ids: tuple[str, ...], *, at: datetime
) -> str:
    """A new current key: the next DID document version signed by the old and the new key, and the
    status lists signed again under the new one. Returns the new key id."""
    old = keys.signer(slug)
    new_id = keys.rotate(slug)
    previous = client.did_document(slug)
    did = didhistory.department_did(client.base_url, slug)
    doc = didhistory.build_did_document(did, _records(keys, slug), previous=previous)
    client.publish_did_document(slug, didhistory.sign_did_document(doc, [keys.signer(slug), old]))
    for list_id in list_ids:
        current = client.get_status_list(slug, list_id)
        purpose, bits = statuslist.decode_list_credential(current)
        vc = statuslist.status_list_credential(client.status_list_url(slug, list_id), did, purpose, bits, at)
        client.publish_status_list(slug, list_id, dataintegrity.sign(vc, keys.signer(slug), at=at))
    return new_id


@dataclass(frozen=True)
class DepartmentView:
    id: int
    slug: str
    name_ko: str
    name_en: str
    did: str
    revocation_list: str
    suspension_list: str
    representative: str
    business_number: str
    address: str
    phone: str

    def name(self, lang: str = "ko") -> str:
        return self.name_en if lang == "en" else self.name_ko

    @classmethod
    def of(cls, d: models.Department) -> DepartmentView:
        return cls(d.id, d.slug, d.name_ko, d.name_en, d.did, d.revocation_list, d.suspension_list,
                   d.representative, d.business_number, d.address, d.phone)  # fmt: skip


class DepartmentsMixin(ServiceBase):
    def create_department(
        self, slug: str, name_ko: str, name_en: str = "", *, representative: str = "", business_number: str = "",
        address: str = "", phone: str = "", actor: Actor = SYSTEM,
    ) -> DepartmentView:  # fmt: skip
        """Register a department: key, did:web document and status lists at the registry, then its row.
        Idempotent for the same slug (the registry side is completed if it was left half done)."""
        if not name_ko.strip():
            raise InvalidInput("a department needs a Korean name", message_ko="부서의 한국어 이름을 입력하세요")
        did = publish_department(self.registry, self.keys, slug, at=self.now())
        with self.tx() as s:
            row = s.scalar(select(models.Department).where(models.Department.slug == slug))
            if row is not None:
                if row.did != did:
                    raise Conflict("the department exists with another DID", message_ko="같은 이름의 부서가 다른 DID로 있습니다")
                return DepartmentView.of(row)
            row = models.Department(
                slug=slug, name_ko=name_ko.strip(), name_en=(name_en or name_ko).strip(), did=did, key_name=slug,
                revocation_list=REVOCATION, suspension_list=SUSPENSION, representative=representative,
                business_number=business_number, address=address, phone=phone,
            )  # fmt: skip
            s.add(row)
            s.flush()
            self.audit(s, actor, "department.create", "department", row.id, department_id=row.id, slug=slug)
            return DepartmentView.of(row)

    def department(self, ref: int | str) -> DepartmentView:
        """A department by id or slug."""
        with self.tx() as s:
            col = models.Department.id if isinstance(ref, int) else models.Department.slug
            row = s.scalar(select(models.Department).where(col == ref))
            if row is None:
                raise not_found("department", "부서")
            return DepartmentView.of(row)

    def departments(self) -> list[DepartmentView]:
        with self.tx() as s:
            return [DepartmentView.of(d) for d in s.scalars(select(models.Department).order_by(models.Department.slug))]

    def rotate_key(self, department_id: int, *, actor: Actor = SYSTEM) -> str:
        """Rotate the department's signing key (old credentials stay verifiable under the retired key)."""
        dept = self.department(department_id)
        self._signers.clear()
        key_id = rotate_department_key(
            self.registry, self.keys, dept.slug, (dept.revocation_list, dept.suspension_list), at=self.now()
        )
        with self.tx() as s:
            self.audit(s, actor, "department.rotate-key", "department", dept.id, department_id=dept.id, keyId=key_id)
        return key_id
