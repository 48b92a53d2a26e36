"""Ed25519 verification runs on libsodium (PyNaCl) for speed; OpenSSL (cryptography) is the cross-check.
Both must agree on the RFC 8032 vectors, on every honest signature, and on every altered one; on the
edge cases where the libraries differ, libsodium is the stricter and we refuse."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agents.keys import Ed25519KeyPair, Ed25519PublicMultikey

# RFC 8032 §7.1, TEST 1-3 and TEST SHA(abc): (secret key, public key, message, signature)
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    pair = Ed25519KeyPair(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret)))
    assert pair.public.raw.hex() == public
    assert pair.sign(bytes.fromhex(message)).hex() == signature
    key = Ed25519PublicMultikey(bytes.fromhex(public))
    sig, msg = bytes.fromhex(signature), bytes.fromhex(message)
    assert key.verify(sig, msg) and key.verify_openssl(sig, msg)
    assert not key.verify(sig, msg + b"x") and not key.verify_openssl(sig, msg + b"x")


def test_both_libraries_agree_on_honest_and_altered_signatures() -> None:
    for _ in range(300):
        pair = Ed25519KeyPair.generate()
        msg = os.urandom(os.urandom(1)[0])
        sig = pair.sign(msg)
        assert pair.public.verify(sig, msg) and pair.public.verify_openssl(sig, msg)
        i = os.urandom(1)[0] % 64
        flipped = sig[:i] + bytes([sig[i] ^ (1 << (os.urandom(1)[0] % 8))]) + sig[i + 1 :]
        assert not pair.public.verify(flipped, msg) and not pair.public.verify_openssl(flipped, msg)


def test_malformed_signatures_are_refused_not_raised() -> None:
    pair = Ed25519KeyPair.generate()
    sig = pair.sign(b"m")
    for bad in (b"", sig[:63], sig + b"\0", b"\xff" * 64):
        assert pair.public.verify(bad, b"m") is False
    # S >= L (the group order): not canonical, both refuse (no malleability)
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(sig[32:], "little") + order
    if s < 2**256:
        mauled = sig[:32] + s.to_bytes(32, "little")
        assert not pair.public.verify(mauled, b"m") and not pair.public.verify_openssl(mauled, b"m")


def test_a_small_order_key_is_refused() -> None:
    # the identity point (y = 1) as a public key with R = identity, S = 0 "verifies" any message in a
    # naive cofactorless check; libsodium refuses small-order keys outright
    identity = (1).to_bytes(32, "little")
    key = Ed25519PublicMultikey(identity)
    assert key.verify(identity + bytes(32), b"anything") is False
