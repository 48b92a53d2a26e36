"""The ACA-Py bridge: ACA-Py 1.7 as a sidecar agent process (its own virtualenv), driven over its admin API.

`start()` / `running()` launch `.venv-acapy/bin/aca-py start --arg-file agents/acapy/argfiles/verifier.yml`
on a free loopback port; `AcapyClient` wraps the admin routes workcred uses (did:key creation,
`/vc/di/add-proof`, `/vc/di/verify`, `/vc/credentials/issue`, `/vc/credentials/verify`). See docs/acapy.md.
"""

from .client import AcapyClient, AcapyError, DidInfo, DiVerification, LdVerification
from .sidecar import DEFAULT_ARGFILE, Sidecar, acapy_venv, running, start, unavailable_reason

__all__ = [
    "DEFAULT_ARGFILE",
    "AcapyClient",
    "AcapyError",
    "DiVerification",
    "DidInfo",
    "LdVerification",
    "Sidecar",
    "acapy_venv",
    "running",
    "start",
    "unavailable_reason",
]
