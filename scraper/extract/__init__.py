"""Text out of archived files (issue 17): one module per format, picked by the bytes' magic, then the name.

`extract(data, name)` never raises for a bad file: the result says what was read and what went wrong
(status, error). Each extractor has a version (EXTRACTORS): bump it when it reads better, and
`xxgk reparse --files` extracts again every file an older version read.
Pages are joined with a form feed (\\f) in the stored text, so a match's offset gives its page.
"""

from __future__ import annotations

from scraper.extract.base import EMPTY, ERROR, OK, PAGE_BREAK, PARTIAL, SCANNED, UNSUPPORTED, Extracted, Limits, TooBig
from scraper.extract.pick import EXTRACTORS, extract, extractor_for, version_of

__all__ = [
    "EMPTY",
    "ERROR",
    "OK",
    "PARTIAL",
    "SCANNED",
    "UNSUPPORTED",
    "EXTRACTORS",
    "Extracted",
    "Limits",
    "PAGE_BREAK",
    "TooBig",
    "extract",
    "extractor_for",
    "version_of",
]
