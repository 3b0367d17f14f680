"""HTTP headers as (name, value) pairs, the way the fetcher gives them and a capture keeps them."""

from __future__ import annotations


def header_in(headers: list, name: str) -> str | None:
    """The first value of header `name` (any case)."""
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)
