"""A changed parse of the same bytes must come with a new PARSER_VERSION (see tests/parser_fingerprint.py)."""

import json

from parser_fingerprint import changed, fingerprints, recorded

from scraper.parse import PARSER_VERSION

REFRESH = "run `.venv/bin/python tests/parser_fingerprint.py --refresh`"


def test_the_parsers_output_changes_only_with_its_version():
    rec, now = recorded(), fingerprints()
    diff = changed(rec["pages"], now)
    if rec["parser_version"] == PARSER_VERSION:
        assert not diff, (
            f"the parser's output changed on {diff} but PARSER_VERSION is still {PARSER_VERSION!r}: "
            f"bump it (scraper/parse/__init__.py), then {REFRESH}"
        )
    else:
        raise AssertionError(
            f"PARSER_VERSION is {PARSER_VERSION!r}, the fingerprint was recorded at "
            f"{rec['parser_version']!r}: {REFRESH}"
        )
    assert set(now) <= set(rec["pages"]), (
        f"example pages not fingerprinted yet: {sorted(set(now) - set(rec['pages']))}: {REFRESH}"
    )


def test_the_refresh_is_refused_without_a_version_bump(monkeypatch, tmp_path):
    import parser_fingerprint

    record = tmp_path / "fingerprint.json"
    monkeypatch.setattr(parser_fingerprint, "RECORD", record)
    page = next(iter(fingerprints()))
    record.write_text(json.dumps({"parser_version": PARSER_VERSION, "pages": {page: "0"}}), "utf-8")
    try:
        parser_fingerprint.refresh()
    except SystemExit as exc:
        assert "bump it" in str(exc) and page in str(exc)
    else:
        raise AssertionError("a changed output was recorded under the same PARSER_VERSION")
    record.write_text(json.dumps({"parser_version": "0", "pages": {page: "0"}}), "utf-8")
    assert "1 changed" in parser_fingerprint.refresh()
    assert recorded()["parser_version"] == PARSER_VERSION
