"""Verify credentials and presentations: run every check, keep a frozen report, raise unless valid.

The core checks (well-formedness, contexts, each proof, the proof chain, the issuer's own proof, the
worker's acceptance on a contract, the validity period, the schema) always run. What needs the
outside world (the trust list, status lists, the registry, the EVM chain) comes in as policies:
objects with `checks(credential, context) -> list[Check]`, combined with `AllOf` (the trust list is
`agents.policies.TrustedIssuers`; no policy at all is `policy=None`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from typing import Any, Protocol

from . import contract
from . import dataintegrity as di

# Credential, Presentation and parse_datetime stay importable from here (the apps and tests use this path)
from .document import Credential as Credential
from .document import Presentation as Presentation
from .document import as_list
from .document import parse as document_parse
from .document import parse_datetime as parse_datetime
from .errors import Error, VerificationError
from .keys import Signer
from .report import Check, Outcome, Report, Verdict, failed, passed, skipped

schemas: ModuleType | None
try:
    import schemas
except ImportError:  # pragma: no cover - schemas ships with agents
    schemas = None

VC_TYPE = "VerifiableCredential"
VP_TYPE = "VerifiablePresentation"
CONTRACT_TYPE = "LaborContractCredential"
WORKCRED_TYPES = {CONTRACT_TYPE, "CareerRecordCredential", "CareerCertificateCredential"}


# --- the typed documents (parsed at the boundary: agents.document) ---------------------------------

_as_list = as_list


# --- policies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyContext:
    at: datetime
    proofs: tuple[di.ProofOutcome, ...]
    options: Mapping[str, Any] = field(default_factory=dict)
    #: work one policy did for this credential that the next may reuse (the verified receipt: each once)
    memo: dict[Any, Any] = field(default_factory=dict, compare=False)


class Policy(Protocol):
    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]: ...


@dataclass(frozen=True)
class AllOf:
    """Run every policy; their checks are all kept."""

    policies: Sequence[Policy]

    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]:
        out: list[Check] = []
        for p in self.policies:
            out.extend(p.checks(credential, context))
        return out


# --- the checks ------------------------------------------------------------------------------------

T_WELLFORMED = ("형식", "Well-formed credential")
T_CONTEXT = ("JSON-LD 컨텍스트", "JSON-LD contexts")
T_PROOF_CHAIN = ("서명 순서 (증명 체인)", "Proof chain order")
T_ISSUER = ("발급기관 서명", "Issuer's signature")
T_WORKER = ("근로자 서명", "Worker's signature")
T_VALIDITY = ("유효기간", "Validity period")
T_SCHEMA = ("필수 기재사항 (스키마)", "Required items (schema)")


def _proof_title(o: di.ProofOutcome, credential_issuer: str | None) -> tuple[str, str]:
    who_ko, who_en = "서명", "Signature"
    if o.controller and o.controller == credential_issuer:
        who_ko, who_en = "발급기관 서명", "Issuer signature"
    elif o.proof_purpose == "authentication":
        who_ko, who_en = "근로자(소지자) 서명", "Worker (holder) signature"
    return f"{who_ko} #{o.index + 1}", f"{who_en} #{o.index + 1}"


_PLAIN_PROOF_FAILURE = {
    Verdict.TAMPERED: ("서명 뒤에 내용이 바뀌었습니다. 위조되었거나 변조된 문서입니다", "The content changed after it was signed: the document is forged or altered."),
    Verdict.MALFORMED: ("서명의 형식이 잘못되어 확인할 수 없습니다", "The signature is malformed and cannot be checked."),
    Verdict.INVALID: ("서명한 사람의 키를 찾지 못해 서명을 확인할 수 없습니다", "The signer's key could not be found, so the signature cannot be checked."),
}


def proof_checks(outcomes: Sequence[di.ProofOutcome], issuer: str | None, prefix: str = "proof") -> list[Check]:
    out = []
    for o in outcomes:
        title = _proof_title(o, issuer)
        details = o.to_json()
        if o.ok:
            out.append(Check(f"{prefix}[{o.index}]", Outcome.PASS, *title, "서명이 문서와 일치하고 키가 해당 용도로 등록되어 있습니다", "Signature matches and the key is authorised for its purpose", details=details))
        else:
            kind = Verdict.TAMPERED if not o.signature_ok else Verdict.INVALID
            if o.extra.get("error"):  # not a signature mismatch: malformed, or the key was not found
                kind = Verdict.MALFORMED if o.extra.get("malformed") else Verdict.INVALID
            plain = _PLAIN_PROOF_FAILURE[kind] if kind in _PLAIN_PROOF_FAILURE else (o.reason_ko, o.reason)
            if o.signature_ok and not o.purpose_ok:
                plain = ("이 서명에 쓰인 키는 이런 서명을 할 권한이 없습니다", "the key behind this signature is not allowed to make it")
            technical = (f"{o.reason_ko} (키: {o.verification_method}, 용도: {o.proof_purpose})", f"{o.reason} (key {o.verification_method}, purpose {o.proof_purpose})")
            out.append(failed(f"{prefix}[{o.index}]", *title, *plain, kind, detail=technical, **details))
    return out


def _context_check(outcomes: Sequence[di.ProofOutcome]) -> Check:
    """Every context is bundled (the parse step refused any other); RDFC proofs expanded the document strictly."""
    if any(o.type == di.ED25519_2020 or o.cryptosuite == di.RDFC for o in outcomes):
        return _CONTEXT_EXPANDED
    return _CONTEXT_BUNDLED


_KST = timezone(timedelta(hours=9))


def _day(when: datetime) -> str:
    """A date as an employer in Seoul reads it (2027-03-01), in Korea's time."""
    return when.astimezone(_KST).date().isoformat()


def _validity_check(c: Credential, at: datetime) -> Check:
    if c.valid_from and at < c.valid_from:
        return failed("validity", *T_VALIDITY, f"{_day(c.valid_from)}부터 유효한 증명서로, 아직 효력이 없습니다", f"Valid only from {_day(c.valid_from)}: not in force yet.", Verdict.NOT_YET_VALID,
                      detail=(f"validFrom {c.valid_from.isoformat()}", f"validFrom {c.valid_from.isoformat()}"))  # fmt: skip
    if c.valid_until and at > c.valid_until:
        return failed("validity", *T_VALIDITY, f"{_day(c.valid_until)}에 유효기간이 끝났습니다", f"Its validity ended on {_day(c.valid_until)}.", Verdict.EXPIRED,
                      detail=(f"validUntil {c.valid_until.isoformat()}", f"validUntil {c.valid_until.isoformat()}"))  # fmt: skip
    return Check("validity", Outcome.PASS, *T_VALIDITY, "확인 시점에 유효기간 안에 있습니다", "within its validity period at the time of checking", details={"at": at.isoformat()})


def _schema_check(c: Credential) -> Check:
    if schemas is None:  # pragma: no cover - schemas ships with agents
        return skipped("schema", *T_SCHEMA, "스키마 패키지가 없습니다", "schemas package not installed")
    if WORKCRED_TYPES.isdisjoint(c.types):
        return skipped("schema", *T_SCHEMA, "이 유형에는 workcred 스키마가 없습니다", "no workcred schema for this type")
    errors = schemas.schema_errors(c.raw)
    if errors:
        return failed("schema", *T_SCHEMA, "; ".join(errors[:5]), "; ".join(errors[:5]), Verdict.MALFORMED, errors=errors[:20])
    return _SCHEMA_CONTRACT if CONTRACT_TYPE in c.types else _SCHEMA_CAREER


# the passing checks that say the same every time (a Check is immutable: one instance serves all reports)
_WELL_FORMED_V2 = passed("well-formed", *T_WELLFORMED, "W3C 자격증명 형식입니다", "a W3C VCDM 2.0 credential")
_WELL_FORMED_V1 = passed("well-formed", *T_WELLFORMED, "W3C 자격증명 형식입니다", "a W3C VCDM 1.1 credential")
_CONTEXT_EXPANDED = passed("context", *T_CONTEXT, "모든 항목이 내장된 표준 정의(컨텍스트)로 해석되어 서명에 포함됩니다", "Every property is defined by a bundled context and covered by the signature")
_CONTEXT_BUNDLED = passed("context", *T_CONTEXT, "내장된 표준 정의(컨텍스트)만 사용합니다 (JCS 서명은 문서 전체를 덮습니다)", "Only bundled contexts (a JCS signature covers the JSON as it is)")
_ISSUER_OK = passed("issuer-signature", *T_ISSUER, "발급자 본인의 키로 서명되었습니다", "signed by the issuer's own assertion key")
_SCHEMA_CONTRACT = passed("schema", *T_SCHEMA, "근로기준법 제17조의 필수 기재사항을 모두 갖추었습니다", "all items the Labor Standards Act art. 17 requires are present")
_SCHEMA_CAREER = passed("schema", *T_SCHEMA, "경력 증명에 필요한 항목을 모두 갖추었습니다 (근로기준법 제39조)", "all items of a career record are present (Labor Standards Act art. 39)")


def credential_checks(c: Credential, outcomes: Sequence[di.ProofOutcome], at: datetime, resolve: di.KeyResolver) -> list[Check]:
    checks = [_WELL_FORMED_V2 if c.version == 2 else _WELL_FORMED_V1]
    checks.append(_context_check(outcomes))
    checks.extend(proof_checks(outcomes, c.issuer))
    try:
        di.check_chain(c.raw)
        if any(o.previous for o in outcomes):
            checks.append(passed("proof-chain", *T_PROOF_CHAIN, "근로자 서명 뒤에 발급기관이 이어서 서명했습니다", "each chained proof covers the proofs before it"))
    except Error as e:
        checks.append(failed("proof-chain", *T_PROOF_CHAIN, "서명들의 순서가 맞지 않습니다. 서명 뒤에 서명이 바뀌었거나 빠졌습니다",
                             "The signatures are not in order: one was changed or removed after signing.", Verdict.TAMPERED,
                             detail=(e.diagnostics("ko"), e.diagnostics("en"))))  # fmt: skip
    issuer_ok = [o for o in outcomes if o.ok and o.proof_purpose == "assertionMethod" and o.controller == c.issuer]
    if issuer_ok:
        checks.append(_ISSUER_OK)
    else:
        checks.append(failed(
            "issuer-signature", *T_ISSUER,
            "발급기관 본인의 올바른 서명이 없습니다", "There is no valid signature by the issuer itself.", Verdict.INVALID,
            detail=(f"발급기관 {c.issuer}의 assertionMethod 키로 된 유효한 증명이 없습니다", f"no valid assertionMethod proof by a key of the issuer {c.issuer}"),
        ))  # fmt: skip
    if CONTRACT_TYPE in c.types:
        # a matter of signatures: a key lacking its purpose is the issuer check's failure, not tampering
        issuer_signed = [o for o in outcomes if o.signature_ok and o.proof_purpose == "assertionMethod" and o.controller == c.issuer]
        checks.append(_worker_check(c, outcomes, issuer_signed, resolve))
    checks.append(_validity_check(c, at))
    checks.append(_schema_check(c))
    return checks


def _worker_check(c: Credential, outcomes: Sequence[di.ProofOutcome], issuer_signed: Sequence[di.ProofOutcome], resolve: di.KeyResolver) -> Check:
    """The worker accepted this very contract before the city signed it (see agents/contract.py)."""
    entries = contract.acceptances(c.raw)
    if entries:
        for entry in entries:
            try:
                o = contract.verify_acceptance(c.raw, entry, resolve)
            except Error as e:
                return failed("worker-signature", *T_WORKER, "근로자의 동의 서명 형식이 잘못되어 확인할 수 없습니다", "The worker's acceptance is malformed and cannot be checked.",
                              Verdict.MALFORMED, detail=(e.diagnostics("ko"), e.diagnostics("en")))  # fmt: skip
            if o.ok and o.proof_purpose == "authentication" and o.controller in c.subject_ids:
                if not issuer_signed:
                    break
                return passed("worker-signature", *T_WORKER, "근로자가 이 계약서에 먼저 서명했고, 발급기관의 서명이 근로자의 서명까지 덮습니다", "the worker signed this contract; the issuer's signature covers the worker's", proof=o.to_json())
            reason = o.reason or "the acceptance is not signed by the worker named in the contract"
            reason_ko = o.reason_ko or "동의 서명이 계약서의 근로자 본인 것이 아닙니다"
            return failed("worker-signature", *T_WORKER, reason_ko, reason, Verdict.TAMPERED, proof=o.to_json())
        return failed("worker-signature", *T_WORKER, "발급기관의 서명이 근로자 서명을 덮지 않습니다", "no issuer signature covers the worker's acceptance", Verdict.INVALID)
    # the W3C proof-chain form: the worker's authentication proof, the issuer's chained to it
    worker = [o for o in outcomes if o.ok and o.proof_purpose == "authentication" and o.controller in c.subject_ids]
    chained = [o for o in issuer_signed if any(w.id and w.id in o.previous for w in worker)]
    if worker and chained:
        return passed("worker-signature", *T_WORKER, "근로자가 먼저 서명하고 발급기관이 이어서 서명했습니다", "the worker signed first; the issuer's proof chains to it")
    return failed("worker-signature", *T_WORKER, "근로자 서명이 없거나 발급기관 서명이 근로자 서명을 덮지 않습니다", "the worker's signature is missing or the issuer's proof does not cover it", Verdict.TAMPERED)


def _now(at: datetime | None) -> datetime:
    return (at or datetime.now(UTC)).astimezone(UTC)


_resolver_fn = di.key_resolver  # the old name (one adapter: agents.dataintegrity.key_resolver)


def check_credential(
    document: Any,
    *,
    resolve: Any,
    at: datetime | None = None,
    policy: Policy | None = None,
    options: Mapping[str, Any] | None = None,
) -> Report:
    """Run every check and return the report (never raises for a bad credential, only for bad input).

    `document` is a `Credential` from the parse step (`agents.document.parse`); anything else goes
    through that step here, the same one door."""
    if not isinstance(document, Credential):
        parsed = document_parse(document, expect="credential", wrapper=False).document
        assert isinstance(parsed, Credential)
        document = parsed
    return _check_credential(document, resolve=resolve, at=at, policy=policy, options=options)


def _check_credential(
    c: Credential,
    *,
    resolve: Any,
    at: datetime | None,
    policy: Policy | None,
    options: Mapping[str, Any] | None,
) -> Report:
    """`check_credential` on a parsed credential (on its own, or one of a presentation's)."""
    when = _now(at)
    resolver = _resolver_fn(resolve)
    outcomes = tuple(di.verify_proofs(c.raw, resolver))
    checks = credential_checks(c, outcomes, when, resolver)
    if policy is not None:
        checks.extend(policy.checks(c, VerifyContext(when, outcomes, options or {})))
    return Report("credential", tuple(checks), c.summary(), checked_at=when.isoformat())


def verify_credential(document: Any, *, resolve: Any, at: datetime | None = None, policy: Policy | None = None, options: Mapping[str, Any] | None = None) -> Report:
    """Verify; raise VerificationError carrying the report unless the verdict is valid."""
    report = check_credential(document, resolve=resolve, at=at, policy=policy, options=options)
    if not report.verified:
        raise VerificationError(f"credential not verified: {report.verdict.value}", message_ko=report.summary("ko"), report=report)
    return report


# --- presentations ---------------------------------------------------------------------------------

T_HOLDER = ("소지자 확인", "Holder binding")
T_REPLAY = ("재전송 방지 (challenge·domain)", "Replay protection (challenge, domain)")
T_VP_PROOF = ("제출 서명", "Presentation signature")


def create_presentation(
    credentials: Sequence[Mapping[str, Any]],
    holder: Signer,
    *,
    challenge: str,
    domain: str,
    cryptosuite: str = di.RDFC,
    at: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A VerifiablePresentation signed by the holder (authentication purpose, challenge and domain)."""
    holder_did = holder.verification_method.split("#", 1)[0]
    vp: dict[str, Any] = {
        "@context": [di.VC_V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": [VP_TYPE],
        "holder": holder_did,
        "verifiableCredential": [dict(c) for c in credentials],
    }
    if extra:
        vp.update(extra)
    return di.sign(vp, holder, cryptosuite=cryptosuite, options={"proofPurpose": "authentication", "challenge": challenge, "domain": domain}, at=at)


def check_presentation(
    document: Any,
    *,
    resolve: Any,
    challenge: str | None,
    domain: str | None,
    at: datetime | None = None,
    policy: Policy | None = None,
    options: Mapping[str, Any] | None = None,
    holder_binding: bool = True,
) -> Report:
    """Check the holder's proof, replay protection, holder binding, then every credential inside.

    `holder_binding` (the presenter is the subject of each credential, and there is at least one) is a
    policy, not a rule of the data model: the city profile and OpenID4VP requests switch it on; the core
    profile (the W3C test suites) verifies a presentation with no credential when its proof holds.
    `document` is a `Presentation` from the parse step; anything else goes through that step here."""
    when = _now(at)
    if not isinstance(document, Presentation):
        parsed = document_parse(document, expect="presentation", wrapper=False).document
        assert isinstance(parsed, Presentation)
        document = parsed
    vp = document
    vcs = [v for v in vp.credential_documents if isinstance(v, dict)]
    holder = vp.holder
    resolver = _resolver_fn(resolve)
    outcomes = tuple(di.verify_proofs(vp.raw, resolver))
    checks = [_context_check(outcomes)]
    checks.extend(proof_checks(outcomes, None, prefix="presentation-proof"))
    auth = [o for o in outcomes if o.ok and o.proof_purpose == "authentication"]
    proofs = [p for p in _as_list(vp.raw.get("proof")) if isinstance(p, dict)]
    # replay: the proof must carry the verifier's nonce as challenge and its client id as domain
    if challenge is None and domain is None:
        checks.append(skipped("replay", *T_REPLAY, "요청 없이 제출되어 challenge를 확인하지 않았습니다", "no request: challenge not checked"))
    else:
        good = [o for o in auth if _proof_by_index(proofs, o.index).get("challenge") == challenge and (domain is None or _domain_matches(_proof_by_index(proofs, o.index).get("domain"), domain))]
        if good:
            checks.append(passed("replay", *T_REPLAY, "이 요청을 위해 서명된 제출입니다", "signed for this request (challenge and domain match)"))
        else:
            checks.append(failed("replay", *T_REPLAY, "challenge 또는 domain이 이 요청과 다릅니다 (재전송 또는 다른 검증자용)", "challenge or domain does not match this request (replayed, or meant for another verifier)"))
    # holder binding: the presentation is signed by the DID each credential is about
    signer_dids = {o.controller for o in auth if o.controller}
    if not holder_binding:
        pass  # the presentation's own proofs are checked above; who presents is not a data-model rule
    elif not auth:
        checks.append(failed("holder-binding", *T_HOLDER, "소지자의 유효한 제출 서명이 없습니다", "no valid authentication proof by the holder"))
    else:
        bad = []
        for v in vcs:
            subs = {s.get("id") for s in _as_list(v.get("credentialSubject")) if isinstance(s, dict)}
            if not subs & signer_dids:
                bad.append(v.get("id"))
        if holder and holder not in signer_dids:
            checks.append(failed("holder-binding", *T_HOLDER, "제출 서명자가 holder와 다릅니다", "the presentation is not signed by its holder"))
        elif bad:
            checks.append(failed("holder-binding", *T_HOLDER, "다른 사람의 자격증명이 포함되어 있습니다", "a credential is about someone other than the presenter", credentials=[b for b in bad if isinstance(b, str)]))
        else:
            checks.append(passed("holder-binding", *T_HOLDER, "자격증명의 주체 본인이 제출했습니다", "presented by the subject of every credential"))
    if not vcs and holder_binding:
        checks.append(failed("credentials", "자격증명", "Credentials", "제출된 자격증명이 없습니다", "the presentation holds no credential"))
    reports = []
    for parsed_vc in vp.credentials:
        if isinstance(parsed_vc, Credential):
            reports.append(_check_credential(parsed_vc, resolve=resolver, at=when, policy=policy, options=options))
        else:
            reports.append(Report("credential", (failed("well-formed", *T_WELLFORMED, parsed_vc.diagnostics("ko"), parsed_vc.diagnostics("en"), Verdict.MALFORMED),), {"id": None}, checked_at=when.isoformat()))
    return Report("presentation", tuple(checks), vp.summary(), tuple(reports), when.isoformat())


def verify_presentation(document: Any, *, resolve: Any, challenge: str | None, domain: str | None, at: datetime | None = None, policy: Policy | None = None, options: Mapping[str, Any] | None = None, holder_binding: bool = True) -> Report:
    report = check_presentation(document, resolve=resolve, challenge=challenge, domain=domain, at=at, policy=policy, options=options, holder_binding=holder_binding)
    if not report.verified:
        raise VerificationError(f"presentation not verified: {report.verdict.value}", message_ko=report.summary("ko"), report=report)
    return report


def _proof_by_index(proofs: list[dict[str, Any]], i: int) -> dict[str, Any]:
    return proofs[i] if i < len(proofs) else {}


def _domain_matches(actual: Any, expected: str) -> bool:
    return actual == expected or (isinstance(actual, list) and expected in actual)
