"""Counts in words for what users read: "1 entity", "2 entities", "0 aliases" (not "entit(y/ies)")."""

from __future__ import annotations

_SIBILANT = ("s", "x", "z", "ch", "sh")


def plural(n: int, word: str, many: str | None = None) -> str:
    """`n` and `word`, the noun in the plural unless n is 1; `many` where the rule does not fit. The
    last word of a phrase changes ("layer document" -> "layer documents")."""
    if n == 1:
        return f"{n} {word}"
    if many is None:
        if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
            many = word[:-1] + "ies"
        elif word.endswith(_SIBILANT):
            many = word + "es"
        else:
            many = word + "s"
    return f"{n} {many}"
