"""W3C presentation rules: a presentation with no credential is valid when its proof is (VCDM 2.0 §4.13);
holder binding is a policy the city profile and OpenID4VP switch on, not a rule of the data model."""

from __future__ import annotations

import pytest

from agents import dataintegrity as di
from agents import verify
from agents.datamodel import NonConforming
from agents.did import Resolver
from agents.keys import Ed25519KeyPair

HOLDER = Ed25519KeyPair.from_seed(b"\x31" * 32)


def _empty(suite: str = di.RDFC) -> dict[str, object]:
    """A presentation with no `verifiableCredential` member at all, signed by its holder."""
    vp = {"@context": [di.VC_V2], "type": ["VerifiablePresentation"], "holder": HOLDER.public.did_key}
    return di.sign(vp, HOLDER, cryptosuite=suite, options={"proofPurpose": "authentication", "challenge": "c", "domain": "d"})


@pytest.mark.parametrize("suite", [di.RDFC, di.JCS])
def test_a_presentation_without_credentials_verifies_in_the_core_profile(suite: str) -> None:
    vp = _empty(suite)
    report = verify.verify_presentation(vp, resolve=Resolver(), challenge="c", domain="d", holder_binding=False)
    assert report.verified and report.credentials == ()


def test_not_where_holder_binding_is_required() -> None:
    vp = _empty()
    report = verify.check_presentation(vp, resolve=Resolver(), challenge="c", domain="d")
    assert not report.verified and report.check("credentials").failed  # type: ignore[union-attr]


def test_a_tampered_presentation_without_credentials_still_fails() -> None:
    vp = _empty()
    vp["holder"] = "did:example:someone-else"
    report = verify.check_presentation(vp, resolve=Resolver(), challenge="c", domain="d", holder_binding=False)
    assert report.verdict.value == "tampered"


def test_a_presentation_breaking_the_data_model_is_unusable_input() -> None:
    vp = _empty()
    vp["holder"] = "not a url"
    with pytest.raises(NonConforming, match="holder"):
        verify.check_presentation(vp, resolve=Resolver(), challenge="c", domain="d", holder_binding=False)
