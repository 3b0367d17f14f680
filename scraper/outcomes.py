"""What became of one listed document, as types (the crawl counts them; nothing parses strings)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stored:
    """Parsed and recorded: `counter` is the run counter it adds to (new, changed or unchanged)."""

    counter: str
    warnings: list[str] = field(default_factory=list)
    has_metadata: bool = True


@dataclass(frozen=True)
class Gone:
    """404/410 on a recheck: `withdrawn` when that was the document's last live URL."""

    withdrawn: bool


@dataclass(frozen=True)
class Failed:
    """Not stored this time; the end-of-run passes try it again, then the retry list keeps it."""

    reason: str


class FetchFailed(Failed):
    """No usable answer (network, an HTTP error the fetcher already retried)."""


class Refused(FetchFailed):
    """robots.txt forbids it (or cannot be read): not tried again in this run."""


class Blocked(Failed):
    """An anti-bot answer (challenge, firewall, captcha): counts towards the blocked streak."""


class BadPage(Failed):
    """An answer that is not a document (unparsable, oversized, redirected astray): asked for again
    under the fetcher's retry policy."""


@dataclass(frozen=True)
class Dropped:
    """Not fetched: the run was stopping when its turn came (like a document still queued)."""


Outcome = Stored | Gone | Failed | Dropped
