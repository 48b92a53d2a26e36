"""Korean particles that follow the noun they attach to (no "이(가)" in a message a person reads)."""

from __future__ import annotations

_PAIRS = {
    "이": ("이", "가"),
    "가": ("이", "가"),
    "은": ("은", "는"),
    "는": ("은", "는"),
    "을": ("을", "를"),
    "를": ("을", "를"),
    "과": ("과", "와"),
    "와": ("과", "와"),
    "으로": ("으로", "로"),
    "로": ("으로", "로"),
    "이다": ("이다", "다"),
    "입니다": ("입니다", "입니다"),
}

# how a word in Latin letters or digits ends when read aloud in Korean: digits as numbers ("영", "일",
# "삼", "육", "칠", "팔" end in a consonant), words as loanwords ("-tion" 션, "-m" 엠/ㅁ, "-l" ㄹ; "-r" 어
# does not). Messages put a Korean noun before a particle where they can ("type 값이"): this is the rest.
_READ_WITH_BATCHIM = set("lmnLMN013678")
_READ_WITH_RIEUL = set("lL178")


def _has_batchim(word: str) -> tuple[bool, bool]:
    """(ends in a consonant, that consonant is ㄹ) for the last sound of `word`."""
    for ch in reversed(word.strip()):
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3:
            final = (code - 0xAC00) % 28
            return final != 0, final == 8
        if ch.isalnum():
            return ch in _READ_WITH_BATCHIM, ch in _READ_WITH_RIEUL
        # brackets, quotes and punctuation are skipped: the particle follows the word inside them
    return False, False


def josa(word: str, particle: str) -> str:
    """`word` with the right form of `particle` ("이"/"가", "은"/"는", "을"/"를", "과"/"와", "으로"/"로")."""
    pair = _PAIRS.get(particle)
    if pair is None:
        return word + particle
    batchim, rieul = _has_batchim(word)
    if pair[0] == "으로":
        return word + ("로" if not batchim or rieul else "으로")
    return word + (pair[0] if batchim else pair[1])
