"""Reading the bundled data files of the schemas package (package data, never fetched)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


class UnknownEntry(LookupError):
    """A name or year the bundled schemas data does not have (credential type, variant, year...)."""

    def __init__(self, message_en: str, message_ko: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_ko = message_ko


@cache
def read_text(*parts: str) -> str:
    """The text of a bundled file, e.g. read_text("rules", "limits.json")."""
    return files(__package__).joinpath(*parts).read_text("utf-8")


@cache
def _load(*parts: str) -> Any:
    return json.loads(read_text(*parts))


def load(*parts: str) -> Any:
    """A bundled JSON file, parsed once; callers get a shared object and must not mutate it."""
    return _load(*parts)


def load_copy(*parts: str) -> Any:
    """A bundled JSON file as a fresh object the caller may change."""
    return json.loads(read_text(*parts))


def names(folder: str, suffix: str = ".json") -> list[str]:
    """Stems of the bundled files in `folder`."""
    return sorted(
        p.name[: -len(suffix)]
        for p in files(__package__).joinpath(folder).iterdir()
        if p.name.endswith(suffix)
    )
