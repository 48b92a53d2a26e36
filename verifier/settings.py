"""The verifier's settings (WORKCRED_VERIFIER_*): what it trusts and may reach, read once at start-up."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from agents.checkpoint import RetiredKey, parse_verifier_key, retired_keys_setting
from agents.errors import Error, InvalidInput, KeyError_
from agents.keys import Ed25519PublicMultikey
from web.config import RoleConfig, peer_url

from .intake import trusted_hosts

__all__ = ["DEFAULT_LIFETIME", "DEFAULT_ORIGIN", "PROFILES", "VerifierSettings"]

DEFAULT_LIFETIME = timedelta(minutes=10)
PROFILES = ("city", "core")
DEFAULT_ORIGIN = "registry.workcred.seoul.go.kr/log"
@dataclass(frozen=True)
class VerifierSettings:
    """What the verifier trusts and may reach. `profile` "city" runs every registry policy; "core" only
    the checks every credential gets (for the W3C test suites and the benchmark against ACA-Py)."""

    base_url: str
    registry_url: str | None = None
    registry_keys: Mapping[str, Ed25519PublicMultikey] = field(default_factory=dict)
    allow_hosts: tuple[str, ...] = ()
    allow_http_loopback: bool = False
    profile: str = "city"
    request_lifetime: timedelta = DEFAULT_LIFETIME
    trust_on_first_use: bool = False  # dev only: take the registry key from GET /log/key
    #: ask the registry for a consistency proof from a holder's older checkpoint (names it: off by default)
    reveal_checkpoints: bool = False
    #: rotated-out registry checkpoint keys (origin -> keys): each verifies checkpoints up to its last size
    #: only (receipts, freshness, the verifier's view, DID histories, the chain), never the trust list
    retired_registry_keys: Mapping[str, tuple[RetiredKey, ...]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: RoleConfig) -> VerifierSettings:
        """From WORKCRED_VERIFIER_* : REGISTRY_URL, REGISTRY_KEY (publicKeyMultibase, or the verifier key
        ``name+hash+key`` that `workcred registry rotate-key` prints), REGISTRY_ORIGIN, REGISTRY_RETIRED_KEYS
        (``<verifier key>@<last tree size>``, comma/space separated: the value of the registry's own
        WORKCRED_REGISTRY_RETIRED_KEYS), TRUSTED_HOSTS (the city's hosts: see `intake.trusted_hosts`),
        PROFILE (city|core), REQUEST_LIFETIME (seconds),
        REVEAL_CHECKPOINTS (1: check stale receipts by asking the registry, which reveals the credential)."""
        extra = config.extra
        registry = (extra.get("registry_url") or peer_url(config, "registry")).rstrip("/")
        keys: dict[str, Ed25519PublicMultikey] = {}
        origin = (extra.get("registry_origin") or "").strip()
        if extra.get("registry_key"):
            origin, current = _registry_key(extra["registry_key"], origin)
            keys[origin] = current
        retired = _retired_registry_keys(extra.get("registry_retired_keys") or "", origin or DEFAULT_ORIGIN, keys)
        hosts = list(trusted_hosts(extra, dev=config.dev))  # one allow-list: fetcher and QR links alike
        netloc = urllib.parse.urlsplit(registry).netloc
        if netloc and netloc not in hosts:
            hosts.append(netloc)  # the city's own registry hosts its DIDs, status lists and proofs
        profile = extra.get("profile") or "city"
        if profile not in PROFILES:
            raise InvalidInput(f"WORKCRED_VERIFIER_PROFILE must be one of {PROFILES}", message_ko="검증 프로필 설정이 잘못되었습니다")
        lifetime = timedelta(seconds=int(extra.get("request_lifetime") or DEFAULT_LIFETIME.total_seconds()))
        base = config.base_url or f"http://{config.host}:{config.port}"
        reveal = (extra.get("reveal_checkpoints") or "0").strip().lower() in ("1", "true", "yes")
        return cls(
            base.rstrip("/"), registry, keys, tuple(hosts), config.dev, profile, lifetime, config.dev and not keys, reveal,
            retired,
        )  # fmt: skip


def _registry_key(text: str, origin: str) -> tuple[str, Ed25519PublicMultikey]:
    """WORKCRED_VERIFIER_REGISTRY_KEY: a publicKeyMultibase (the log is REGISTRY_ORIGIN), or a verifier key
    ``name+hash+key`` (GET /log/key `verifierKey`, the "new key" line of `registry rotate-key`) whose
    name is the log's origin. Returns (origin, key)."""
    text = text.strip()
    if "+" not in text:  # a publicKeyMultibase (base58btc has no "+")
        return origin or DEFAULT_ORIGIN, Ed25519PublicMultikey.from_multibase(text)
    try:
        name, public = parse_verifier_key(text)
    except Error as e:
        raise KeyError_(
            f"WORKCRED_VERIFIER_REGISTRY_KEY: not a publicKeyMultibase or a verifier key name+hash+key ({_why(e)})",
            message_ko="WORKCRED_VERIFIER_REGISTRY_KEY 설정이 잘못되었습니다: publicKeyMultibase나 검증 키(이름+해시+키)가 아닙니다",
        ) from None
    if origin and name != origin:
        raise KeyError_(
            f"WORKCRED_VERIFIER_REGISTRY_KEY is a key of log {name!r}, but WORKCRED_VERIFIER_REGISTRY_ORIGIN is {origin!r}",
            message_ko=f"WORKCRED_VERIFIER_REGISTRY_KEY는 {name} 로그의 키인데 WORKCRED_VERIFIER_REGISTRY_ORIGIN은 {origin}입니다",
        )
    return name, public


def _retired_registry_keys(
    text: str, origin: str, current: Mapping[str, Ed25519PublicMultikey]
) -> dict[str, tuple[RetiredKey, ...]]:
    """WORKCRED_VERIFIER_REGISTRY_RETIRED_KEYS: ``<verifier key of origin>@<last tree size>`` per rotated-out
    registry key, the form the registry itself is configured with (WORKCRED_REGISTRY_RETIRED_KEYS) and
    `workcred registry rotate-key` prints; comma or space separated."""
    setting = "WORKCRED_VERIFIER_REGISTRY_RETIRED_KEYS"
    if not text.strip():
        return {}
    if origin not in current:
        raise KeyError_(
            f"{setting} needs the current key in WORKCRED_VERIFIER_REGISTRY_KEY",
            message_ko=f"{setting}를 쓰려면 현재 키를 WORKCRED_VERIFIER_REGISTRY_KEY에 설정해야 합니다",
        )
    return {origin: retired_keys_setting(text, origin, setting, current=current[origin])}


def _why(e: Error) -> str:
    return e.message.removeprefix("malformed checkpoint note: ")  # a setting, not a checkpoint
