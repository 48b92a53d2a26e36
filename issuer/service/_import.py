"""Importing a roster file into a project: check it (issuer/roster.py), add the valid rows, draft.

The page and `workcred issuer import-roster` both call `import_roster`; with `dry_run` it only
reports (what the page shows before the clerk confirms). Re-importing the same file adds nothing
(the participant row hash, `add_participants`), and a row for a person already in the project
with other details (same name and birth date, by their blind indexes) is reported, not added.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

import schemas

from .. import models, roster
from ._base import SYSTEM, Actor, not_found
from ._contracts import ContractsMixin
from ._roster import ParticipantRow

#: rows stored and drafted per transaction
IMPORT_CHUNK = 1000
_CORE = ("employee.name", "employee.birthDate", "employee.phone", "employee.email")


@dataclass(frozen=True)
class RosterImport:
    """The checked file and what importing it did (nothing, on a dry run)."""

    report: roster.RosterReport
    added: tuple[int, ...]  # participant ids
    existing: int  # valid rows already in the project
    drafted: tuple[str, ...]  # contract urns
    draft_failed: tuple[tuple[int, str, str], ...]  # (participant id, reason ko, reason en)
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return self.report.summary() | {
            "added": len(self.added), "existing": self.existing, "drafted": len(self.drafted),
            "draftFailed": [{"participant": p, "reason": {"ko": ko, "en": en}} for p, ko, en in self.draft_failed],
            "dryRun": self.dry_run,
            "issues": [
                {"row": i.row, "column": i.column, "code": i.code, "severity": i.severity,
                 "message": {"ko": i.message_ko, "en": i.message_en}}
                for i in self.report.issues
            ],
        }  # fmt: skip


def participant_row(values: Any) -> ParticipantRow:
    """A checked roster row as the service's ParticipantRow (core fields apart, the rest by path)."""
    return ParticipantRow(
        values["employee.name"], values["employee.birthDate"], values["employee.phone"],
        values.get("employee.email", ""), {k: v for k, v in values.items() if k not in _CORE},
    )  # fmt: skip


class RosterImportMixin(ContractsMixin):
    def roster_key(self) -> bytes:
        """The key of the roster file's own row hashes (duplicates inside one file), from the master key."""
        return self.kek.blind_index("text", "workcred/roster-file-rows/v1").encode()

    def import_roster(
        self,
        project_id: int,
        data: bytes,
        *,
        filename: str = "",
        dry_run: bool = False,
        actor: Actor = SYSTEM,
    ) -> RosterImport:
        with self.tx() as s:
            project = s.get(models.Project, project_id)
            if project is None:
                raise not_found("project", "사업")
            people = set(s.execute(
                select(models.Participant.name_index, models.Participant.birth_date_index)
                .where(models.Participant.project_id == project_id, models.Participant.wrapped_dek.is_not(None))
            ))  # fmt: skip
            variant = project.template_variant
        report = roster.read_roster(data, schemas.template(variant), key=self.roster_key(), filename=filename,
                                    today=self.now().date())  # fmt: skip
        rows: list[ParticipantRow] = []
        kept: list[roster.RosterRow] = []
        issues = list(report.issues)
        hashes = {self._row_hash(participant_row(r.values)): r for r in report.rows}
        with self.tx() as s:
            known: set[str] = set()
            keys = list(hashes)
            for i in range(0, len(keys), 500):
                known.update(s.scalars(select(models.Participant.row_hash).where(
                    models.Participant.project_id == project_id, models.Participant.row_hash.in_(keys[i : i + 500]))))  # fmt: skip
        for h, r in hashes.items():
            if h in known:
                continue  # the same row again: add_participants keeps the one it has
            who = (self.kek.blind_index("name", r.values["employee.name"]),
                   self.kek.blind_index("birth-date", r.values["employee.birthDate"]))  # fmt: skip
            if who in people:
                issues.append(roster.RowIssue(
                    r.row, None, "duplicate-person", "같은 사람(성명·생년월일)이 이미 이 사업 명단에 있습니다",
                    "the same person (name, birth date) is already in this project's roster",
                ))  # fmt: skip
                continue
            kept.append(r)
            rows.append(participant_row(r.values))
        report = dataclasses.replace(report, rows=tuple(kept), issues=tuple(sorted(issues, key=lambda i: i.row)),
                                     already_imported=report.already_imported + len(known & set(hashes)))  # fmt: skip
        if dry_run or not rows:
            return RosterImport(report, (), report.already_imported, (), (), dry_run)
        batch = hashlib.sha256(data).hexdigest()[:16]  # which file a row came from, without its name
        added: list[int] = []
        existing = 0
        drafted: list[str] = []
        failed: list[tuple[int, str, str]] = []
        # chunks bound the memory (a 15,000-row file); stopped midway, the same file again adds the rest
        for i in range(0, len(rows), IMPORT_CHUNK):
            part = self.add_participants(project_id, rows[i : i + IMPORT_CHUNK], batch=batch, actor=actor)
            added.extend(part.created)
            existing += len(part.existing)
            if part.created:
                drafts = self.draft_contracts(project_id, part.created, actor=actor)
                drafted.extend(drafts.created)
                failed.extend((pid, "; ".join(v.message_ko for v in vs), "; ".join(v.message_en for v in vs))
                              for pid, vs in drafts.failed)  # fmt: skip
        return RosterImport(report, tuple(added), report.already_imported + existing, tuple(drafted), tuple(failed), False)
