"""The verifier's service layer: composes the resolver and the registry policies from configuration,
verifies credentials and presentations, and runs OpenID4VP requests (single-use nonces, expiry,
purge of personal data, audit rows with verdict and hashes only). Views call this and nothing below.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from agents import loader, oid4vp, policies
from agents.checkpoint import RetiredKey, Verifiers, merge_verifiers, parse_verifier_keys
from agents.did import Resolver
from agents.document import Credential, Presentation, Submission, from_parsed, parse
from agents.errors import Error, InvalidInput, NotFound, RegistryError
from agents.fetcher import Fetcher
from agents.keys import Ed25519PublicMultikey
from agents.receipts import CheckpointMemory, InMemoryCheckpointMemory, RegistryView
from agents.report import Check, Report, Verdict, failed, passed, skipped
from agents.verify import AllOf, Policy, check_credential, check_presentation
from web import metrics
from web.db import transaction

from .audit import AuditWriter
from .models import PresentationRequest, VerificationAudit

# the settings moved to verifier/settings.py; these names stay importable from here
from .settings import DEFAULT_ORIGIN as DEFAULT_ORIGIN
from .settings import VerifierSettings as VerifierSettings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CreatedRequest:
    """A new OpenID4VP request: what the employer's page shows and polls."""

    id: str
    url: str  # openid4vp://?client_id=...&request_uri=... (the QR code)
    request_uri: str
    status_url: str  # carries the status token: only the page that made the request can read the answer
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "authorizationRequest": self.url,
            "requestUri": self.request_uri,
            "statusUrl": self.status_url,
            "expiresAt": self.expires_at.isoformat(),
        }


class VerifierService:
    """Verification and OpenID4VP for one verifier deployment."""

    def __init__(
        self,
        settings: VerifierSettings,
        session_factory: sessionmaker[Session] | None = None,
        *,
        clock: Clock = _utcnow,
        fetcher: Fetcher | None = None,
        memory: CheckpointMemory | None = None,
        anchor: policies.Anchor | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._sf = session_factory
        self._clock: Clock = lambda: clock().astimezone(UTC)
        self.fetcher = fetcher or Fetcher(settings.allow_hosts, allow_http_loopback=settings.allow_http_loopback)
        self.resolver = Resolver(fetcher=self.fetcher)
        self._memory = memory if memory is not None else InMemoryCheckpointMemory()
        self._anchor = anchor
        self._keys: dict[str, Ed25519PublicMultikey] = dict(settings.registry_keys)
        self._retired: dict[str, tuple[RetiredKey, ...]] = dict(settings.retired_registry_keys)
        self._lock = threading.Lock()
        self._policy: Policy | None = None
        self._resolve: Any = self.resolver
        self._audit = AuditWriter(engine) if engine is not None and session_factory is not None else None

    def close(self) -> None:
        """Write the queued audit rows; release the fetcher's connections and the database engine."""
        if self._audit is not None:
            self._audit.close()
        self.fetcher.close()
        if self._engine is not None:
            self._engine.dispose()

    @property
    def client_id(self) -> str:
        return oid4vp.CLIENT_ID_PREFIX + self.response_uri

    @property
    def response_uri(self) -> str:
        return f"{self.settings.base_url}/requests/response"

    # -- composition ------------------------------------------------------------------------------

    def registry_keys(self) -> dict[str, Ed25519PublicMultikey]:
        """The pinned current registry keys (origin -> key); in development, taken once from the registry
        (with its retired keys, from `verifierKeys`). The trust list is checked with these only."""
        with self._lock:
            if not self._keys and self.settings.trust_on_first_use and self.settings.registry_url:
                data = self.fetcher.get_json(f"{self.settings.registry_url}/log/key")
                origin, key = data.get("origin"), data.get("publicKeyMultibase")
                if not isinstance(origin, str) or not isinstance(key, str):
                    raise RegistryError("the registry key document is malformed", message_ko="등록소 키 정보가 잘못되었습니다")
                published = data.get("verifierKeys")
                if isinstance(published, list) and all(isinstance(k, str) for k in published):
                    retired = parse_verifier_keys(",".join(published)).get(origin, ())
                    self._retired[origin] = tuple(k for k in retired if isinstance(k, RetiredKey))
                self._keys[origin] = Ed25519PublicMultikey.from_multibase(key)
            return dict(self._keys)

    def checkpoint_keys(self) -> Verifiers:
        """The keys a registry checkpoint may be signed with (origin -> current key and retired keys):
        a retired key counts only for checkpoints up to its last size (`agents.checkpoint.RetiredKey`)."""
        current = self.registry_keys()
        with self._lock:
            return merge_verifiers(current, self._retired)

    def _compose(self) -> tuple[Policy | None, Any]:
        if self.settings.profile == "core" or not self.settings.registry_url:
            return None, self.resolver
        if self._policy is not None:
            return self._policy, self._resolve
        keys = self.registry_keys()
        if not keys:
            raise RegistryError("no registry key is configured (WORKCRED_VERIFIER_REGISTRY_KEY)", message_ko="등록소 키가 설정되지 않았습니다 (WORKCRED_VERIFIER_REGISTRY_KEY)")
        registry = str(self.settings.registry_url)
        fetch = self.fetcher.get_json
        signers = self.checkpoint_keys()  # every registry checkpoint: current and retired keys
        histories = policies.CachedHistories(fetch, registry, signers)
        registry_key = next(iter(keys.values()))  # the trust list: the current key only
        policy = AllOf([
            policies.TrustedIssuers(lambda: fetch(f"{registry}/trust-list"), registry_key),
            policies.StatusNotRevoked(fetch, self.resolver),
            policies.AnchoredInRegistry(signers, self._registry_view(signers, registry)),
            policies.KeyValidAtSigning(histories, signers),
            policies.OnChain(self._anchor, signers),
        ])  # fmt: skip
        with self._lock:
            self._policy, self._resolve = policy, policies.HistoryAwareResolver(self.resolver, histories)
        return self._policy, self._resolve

    def _registry_view(self, keys: Verifiers, registry: str) -> RegistryView:
        """The verifier's own view of the log: GET /log/checkpoint on its schedule, proofs between sizes it chose."""
        origins = dict.fromkeys(keys, registry)
        return RegistryView(
            keys, self._memory, policies.checkpoint_fetcher(self.fetcher.get_text, origins),
            policies.consistency_fetcher(self.fetcher.get_json, origins), reveal_older=self.settings.reveal_checkpoints,
        )  # fmt: skip

    def _profile_check(self) -> list[Check]:
        if self.settings.profile == "core" or not self.settings.registry_url:
            return [_CORE_PROFILE]
        return []

    # -- verification -----------------------------------------------------------------------------

    def verify(self, submission: Submission, *, holder_binding: bool | None = None) -> Report:
        """Every check on what came in through the one parse step (`agents.document.parse`): a credential,
        or a presentation and each credential in it. Receipts come with it (options, `workcredReceipts`)."""
        opts = parse_options(submission.options)
        if submission.receipts:
            opts["receipts"] = {**submission.receipts, **opts.get("receipts", {})}
        policy, resolve = self._compose()
        document = submission.document
        if isinstance(document, Presentation):
            report = check_presentation(
                document, resolve=resolve, challenge=opts.get("challenge"), domain=opts.get("domain"),
                at=self._clock(), policy=policy, options=opts,
                # holder binding is the city profile's policy (and every OpenID4VP request's), not a data-model rule
                holder_binding=self.settings.profile == "city" if holder_binding is None else holder_binding,
            )  # fmt: skip
        else:
            report = check_credential(document, resolve=resolve, at=self._clock(), policy=policy, options=opts)
        return _with(report, self._profile_check())

    def verify_credential(self, document: Any, options: Mapping[str, Any] | None = None) -> Report:
        """`verify` on one credential (a `Credential`, or raw input for the parse step)."""
        return self.verify(_submission(document, "credential", options))

    def verify_presentation(self, document: Any, options: Mapping[str, Any] | None = None, *, holder_binding: bool | None = None) -> Report:
        """`verify` on a presentation (a `Presentation`, or raw input for the parse step)."""
        return self.verify(_submission(document, "presentation", options), holder_binding=holder_binding)

    # -- OpenID4VP ----------------------------------------------------------------------------------

    def _factory(self) -> sessionmaker[Session]:
        if self._sf is None:
            raise NotFound("presentation requests need a database", message_ko="요청 저장소가 설정되지 않았습니다")
        return self._sf

    def create_request(self, *, years: int = 3, purpose: str = "", query: Mapping[str, Any] | None = None) -> CreatedRequest:
        """A new request for career records of the last `years` years (or a given DCQL query)."""
        if not isinstance(years, int) or isinstance(years, bool) or not 0 <= years <= 50:
            raise InvalidInput("years must be between 0 and 50", message_ko="기간(년)은 0~50 사이여야 합니다")
        dcql = oid4vp.check_dcql(query) if query is not None else oid4vp.career_query()
        now = self._clock()
        self.purge_expired()
        request_id, token = secrets.token_urlsafe(18), secrets.token_urlsafe(24)
        meta = {"dcql": dcql, "since": (now.date() - timedelta(days=365 * years)).isoformat() if years else None}
        with transaction(self._factory()) as s:
            s.add(PresentationRequest(
                id=request_id, nonce=secrets.token_urlsafe(24), status_token_hash=_sha256(token.encode()),
                query=json.dumps(meta), purpose=purpose[:200], created_at=now,
                expires_at=now + self.settings.request_lifetime,
            ))  # fmt: skip
        base = self.settings.base_url
        request_uri = f"{base}/requests/{request_id}/object"
        return CreatedRequest(
            request_id, oid4vp.request_url(self.client_id, request_uri), request_uri,
            f"{base}/requests/{request_id}/status?token={token}", now + self.settings.request_lifetime,
        )  # fmt: skip

    def request_object(self, request_id: str) -> dict[str, Any]:
        """The Request Object served at `request_uri` (404 once expired: the nonce is no longer usable)."""
        row = self._live(request_id)
        meta = json.loads(row.query)
        out: dict[str, Any] = {
            "client_id": self.client_id,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": self.response_uri,
            "nonce": row.nonce,
            "state": row.id,
            "dcql_query": meta["dcql"],
            "client_metadata": {
                "vp_formats_supported": {
                    oid4vp.FORMAT: {"proof_type_values": ["DataIntegrityProof"], "cryptosuite_values": ["eddsa-rdfc-2022", "eddsa-jcs-2022"]}
                }
            },
            "aud": "https://self-issued.me/v2",
            "iat": int(row.created_at.timestamp()),
            "exp": int(_aware(row.expires_at).timestamp()),
        }
        if meta.get("since"):
            out[oid4vp.SINCE] = meta["since"]
        return out

    def _live(self, request_id: str) -> PresentationRequest:
        with self._factory()() as s:
            row = s.get(PresentationRequest, request_id) if isinstance(request_id, str) and len(request_id) <= 64 else None
        if row is None or _aware(row.expires_at) <= self._clock():
            raise NotFound("no such request, or it has expired", message_ko="요청이 없거나 유효시간이 지났습니다")
        return row

    def receive_response(self, vp_token: str, state: str) -> Report:
        """direct_post: verify the answer to request `state` once; the nonce is consumed by the first
        well-formed answer. Raises `Error` (409 replay, 410 expired, 400 unusable)."""
        raw = vp_token.encode("utf-8") if isinstance(vp_token, str) else b""
        token = loader.parse_json(raw)
        if not isinstance(token, dict) or not token:
            raise InvalidInput("vp_token must be a JSON object keyed by credential query id", message_ko="vp_token은 질의 id를 키로 하는 JSON 객체여야 합니다")
        now = self._clock()
        with self._factory()() as s:
            row = s.get(PresentationRequest, state) if isinstance(state, str) and len(state) <= 64 else None
        if row is None:
            raise NotFound("unknown request (state)", message_ko="알 수 없는 요청입니다 (state)")
        meta = json.loads(row.query)
        queries = {q["id"]: q for q in meta["dcql"]["credentials"]}
        presentations: list[tuple[str, Any]] = []
        for query_id, value in token.items():
            if query_id not in queries:
                raise InvalidInput(f"vp_token answers an unknown query {query_id!r}", message_ko="요청하지 않은 질의에 대한 응답입니다")
            for vp in value if isinstance(value, list) else [value]:
                presentations.append((query_id, vp))
        if not presentations or len(presentations) > 10:
            raise InvalidInput("vp_token holds no (or too many) presentations", message_ko="제출된 프레젠테이션이 없거나 너무 많습니다")
        # claim the nonce: one atomic update, so two answers racing cannot both be accepted
        with transaction(self._factory()) as s:
            claimed = s.execute(
                update(PresentationRequest)
                .where(PresentationRequest.id == row.id, PresentationRequest.answered_at.is_(None), PresentationRequest.expires_at > now)
                .values(answered_at=now)
            ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            if _aware(row.expires_at) <= now:
                raise _gone()
            raise _replayed()
        digest = _sha256(raw)
        reports = []
        for query_id, vp in presentations:
            try:
                got = from_parsed(vp, expect="presentation")  # the token was parsed within bounds above: not walked again
                rep = self.verify(Submission(got.document, {"challenge": row.nonce, "domain": self.client_id}, got.receipts), holder_binding=True)
                rep = _with(rep, _request_checks(queries[query_id], vp, meta.get("since")))
            except Error as e:
                rep = Report("presentation", (failed("well-formed", "형식", "Well-formed presentation", e.diagnostics("ko"), e.diagnostics("en"), Verdict.MALFORMED),), checked_at=now.isoformat())
            except Exception as e:
                # The nonce is claimed: a bug in a check must still end in a stored verdict (a request
                # "answered" with none is stranded). It is logged as a bug (frames only: an exception's
                # message may quote the presentation) and the verdict says the checks did not finish.
                log.error("oid4vp: %s in the checks of request %s\n%s", type(e).__name__, row.id, "".join(traceback.format_tb(e.__traceback__)))
                rep = Report("presentation", (failed("well-formed", "형식", "Well-formed presentation", "검증 중 내부 오류로 이 제출을 확인하지 못했습니다", "an internal error stopped the checks of this presentation", Verdict.MALFORMED),), checked_at=now.isoformat())
            reports.append(rep)
        report = reports[0] if len(reports) == 1 else Report("response", (), {"request": row.id}, tuple(reports), now.isoformat())
        with transaction(self._factory()) as s:
            s.execute(
                update(PresentationRequest).where(PresentationRequest.id == row.id).values(
                    verdict=report.verdict.value, presentation_sha256=digest,
                    presentation=json.dumps(token, ensure_ascii=False), report=json.dumps(report.to_json(), ensure_ascii=False),
                )
            )  # fmt: skip
            s.add(VerificationAudit(request_id=row.id, kind="oid4vp", verdict=report.verdict.value, presentation_sha256=digest, created_at=now))
        metrics.verified("oid4vp", report.verdict.value)
        return report

    def request_status(self, request_id: str, token: str) -> dict[str, Any]:
        """What the employer's page polls; personal data only while the request lives."""
        now = self._clock()
        with self._factory()() as s:
            row = s.get(PresentationRequest, request_id) if isinstance(request_id, str) and len(request_id) <= 64 else None
        if row is None or not isinstance(token, str) or not hmac.compare_digest(row.status_token_hash, _sha256(token.encode())):
            raise NotFound("no such request", message_ko="요청이 없습니다")  # one answer for both: no oracle
        out: dict[str, Any] = {"id": row.id, "expiresAt": _aware(row.expires_at).isoformat()}
        if _aware(row.expires_at) <= now:
            self.purge_expired()
            out.update(status="expired", verdict=row.verdict)
            return out
        if row.answered_at is None:
            out["status"] = "pending"
            return out
        out.update(status="answered", verdict=row.verdict)
        if row.report is not None:
            out["report"] = json.loads(row.report)
        if row.presentation is not None:
            out["presented"] = _presented_subjects(json.loads(row.presentation))
        return out

    def purge_expired(self) -> int:
        """Erase what was presented to requests that have expired; return how many were purged."""
        if self._sf is None:
            return 0
        with transaction(self._sf) as s:
            n = s.execute(
                update(PresentationRequest)
                .where(PresentationRequest.expires_at <= self._clock(), PresentationRequest.purged.is_(False))
                .values(presentation=None, report=None, purged=True)
            ).rowcount  # type: ignore[attr-defined]
        return int(n or 0)

    def audit(self, kind: str, verdict: str, digest: bytes) -> None:
        """One audit row for a VC-API verification: the verdict and the body's SHA-256, nothing else."""
        if self._sf is None:
            return
        row = {"request_id": None, "kind": kind, "verdict": verdict, "presentation_sha256": digest, "created_at": self._clock()}
        if self._audit is not None:
            # write-behind: grouped inserts every quarter second (verifier/audit.py); one insert and
            # commit per request cost more than the verification itself
            self._audit.add(row)
            return
        with transaction(self._sf) as s:
            s.add(VerificationAudit(**row))

    def audit_rows(self, request_id: str | None = None) -> list[dict[str, Any]]:
        """The audit trail (verdict and SHA-256 only)."""
        if self._audit is not None:
            self._audit.flush()
        with self._factory()() as s:
            q = select(VerificationAudit).order_by(VerificationAudit.id)
            if request_id is not None:
                q = q.where(VerificationAudit.request_id == request_id)
            return [
                {"requestId": r.request_id, "kind": r.kind, "verdict": r.verdict, "sha256": r.presentation_sha256.hex(), "at": r.created_at.isoformat()}
                for r in s.execute(q).scalars()
            ]


# --- helpers -------------------------------------------------------------------------------------------


def parse_options(options: Any) -> dict[str, Any]:
    """VC-API `options`: challenge, domain (strings), receipts (object keyed by credential id); others ignored."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInput("options must be a JSON object", message_ko="options는 JSON 객체여야 합니다")
    out: dict[str, Any] = {}
    for key in ("challenge", "domain"):
        value = options.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise InvalidInput(f"options.{key} must be a string", message_ko=f"options.{key}는 문자열이어야 합니다")
            out[key] = value
    receipts = options.get("receipts")
    if receipts is not None:
        if not isinstance(receipts, Mapping):
            raise InvalidInput("options.receipts must be an object keyed by credential id", message_ko="options.receipts 형식이 잘못되었습니다")
        out["receipts"] = dict(receipts)
    return out


_CORE_PROFILE = skipped("profile", "검증 범위", "Scope", "서명·형식·유효기간만 확인했습니다 (등록소 정책 없음)", "proofs, form and validity only (no registry policies configured)")


def _submission(document: Any, kind: str, options: Mapping[str, Any] | None) -> Submission:
    if isinstance(document, Submission):
        return document
    if not isinstance(document, Credential | Presentation):
        found = parse(document, expect=kind, wrapper=False)
        return Submission(found.document, options or {}, found.receipts)
    return Submission(document, options or {})


def _with(report: Report, extra: list[Check]) -> Report:
    if not extra:
        return report
    return Report(report.kind, report.checks + tuple(extra), report.subject, report.credentials, report.checked_at)


def _request_checks(query: Mapping[str, Any], vp: Any, since: str | None) -> list[Check]:
    title = ("요청한 자격증명", "What was requested")
    vcs = vp.get("verifiableCredential") if isinstance(vp, dict) else None
    vcs = vcs if isinstance(vcs, list) else [vcs] if isinstance(vcs, dict) else []
    wrong = [v for v in vcs if not isinstance(v, dict) or not oid4vp.credential_matches(query, v)]
    out = []
    if wrong:
        out.append(failed("request.match", *title, "요청하지 않은 종류의 자격증명이 포함되어 있습니다", "a credential is not of a requested type"))
    else:
        out.append(passed("request.match", *title, "요청한 종류의 자격증명입니다", "every credential is of a requested type"))
    if since:
        limit = date.fromisoformat(since)
        old = [v for v in vcs if isinstance(v, dict) and not oid4vp.ends_since(v, limit)]
        t = ("요청 기간", "Requested period")
        if old:
            out.append(skipped("request.period", *t, f"{since} 이전에 끝난 경력이 포함되어 있습니다", f"includes work that ended before {since}"))
        else:
            out.append(passed("request.period", *t, f"{since} 이후의 경력입니다", f"work ending on or after {since}"))
    return out


def _presented_subjects(token: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The credentials presented, for the employer's page (types, issuer and subject claims)."""
    out = []
    for value in token.values():
        for vp in value if isinstance(value, list) else [value]:
            vcs = vp.get("verifiableCredential") if isinstance(vp, dict) else None
            for vc in vcs if isinstance(vcs, list) else [vcs] if isinstance(vcs, dict) else []:
                out.append({"id": vc.get("id"), "type": vc.get("type"), "issuer": vc.get("issuer"), "credentialSubject": vc.get("credentialSubject")})
    return out


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _aware(dt: datetime) -> datetime:
    """SQLite returns naive datetimes; they were stored as UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


class RequestGone(Error):
    code = "request-expired"
    http_status = 410


class Replayed(Error):
    code = "replayed"
    http_status = 409


def _gone() -> RequestGone:
    return RequestGone("the request has expired; ask for a new one", message_ko="요청 유효시간이 지났습니다. 새 요청을 받아 주세요")


def _replayed() -> Replayed:
    return Replayed("this request was already answered (a nonce is used once): replay refused", message_ko="이미 응답한 요청입니다(nonce는 한 번만 쓸 수 있습니다): 재전송을 거부합니다")
