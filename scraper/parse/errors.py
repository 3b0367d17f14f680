"""Parse failures, each with a `reason` that names the problem."""

from __future__ import annotations


class ParseError(Exception):
    """The page could not be turned into a document record."""

    def __init__(self, reason: str, url: str | None = None) -> None:
        self.reason = reason
        self.url = url
        super().__init__(f"{reason} ({url})" if url else reason)


class NotHtmlError(ParseError):
    """The body is binary or otherwise not HTML ("body is a PDF")."""


class EmptyPageError(ParseError):
    """No title and no body: not a document page."""
