"""Golden fixtures (juriscraper style): each real saved article page -> expected to_dict().

Samples live in ../shared/portal-samples beside the repo (override with XXGK_SAMPLES).
Regenerate with `UPDATE_GOLDEN=1 pytest tests/test_parse_golden.py`, then check every
changed value against the page by hand before committing.
"""

import json
import os
import time
from pathlib import Path

import pytest

from scraper.parse import parse_article

GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLES = Path(os.environ.get("XXGK_SAMPLES") or Path(__file__).resolve().parents[1].parent / "shared" / "portal-samples")

# sample file -> the URL it was saved from (see SOURCES.md)
URLS = {
    "hanweb-jcms_js-fzggw_article_template-markers.html":
        "http://fzggw.jiangsu.gov.cn/art/2026/8/28/art_284_11821965.html",
    "hanweb-jpaas_zj-fzggw_article_xxgk-meta.html":
        "https://fzggw.zj.gov.cn/col/col1229123351/art/2026/art_937add6719f140bdac86d5b97c525d28.html",
    "trs-wcm_ndrc_article_attachments.html":
        "https://www.ndrc.gov.cn/xxgk/zcfb/tz/202608/t20260828_1407232.html",
}


def _golden_path(sample: str) -> Path:
    return GOLDEN / f"{Path(sample).stem}.json"


def _parse(sample: str) -> dict:
    path = SAMPLES / sample
    if not path.exists():
        pytest.skip(f"sample {path} not available (set XXGK_SAMPLES)")
    return parse_article(path.read_bytes(), URLS[sample], "text/html").to_dict()


if os.environ.get("UPDATE_GOLDEN"):
    GOLDEN.mkdir(exist_ok=True)
    for _sample in URLS:
        if (SAMPLES / _sample).exists():
            text = json.dumps(_parse(_sample), ensure_ascii=False, indent=2) + "\n"
            _golden_path(_sample).write_text(text, encoding="utf-8")


def test_every_sample_has_a_golden_file():
    assert sorted(p.name for p in GOLDEN.glob("*.json")) == sorted(_golden_path(s).name for s in URLS)


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden(golden):
    sample = next(s for s in URLS if _golden_path(s) == golden)
    started = time.perf_counter()
    actual = _parse(sample)
    print(f"{sample}: parsed in {(time.perf_counter() - started) * 1000:.2f} ms")
    assert actual == json.loads(golden.read_text(encoding="utf-8"))
