"""`xxgk stats` on the crawled simulator archive: counts agree with the documents, sizes with the store."""

from __future__ import annotations

import json
from collections import Counter

from archive_helpers import documents, engine_of, store_of
from sqlmodel import select

from storage.db import read_session
from storage.models import Capture


def test_stats_count_the_archive(crawled):
    cli = crawled
    st = json.loads(cli("stats", "--json").stdout)
    docs = documents(cli)
    assert st["documents"] == len(docs) and st["sources"] == 1
    assert st["withdrawn"] == sum(d["withdrawn_at"] is not None for d in docs) > 0
    assert st["versions"] == sum(d["versions"] for d in docs) and st["documents_changed"] == sum(
        d["versions"] > 1 for d in docs
    )
    assert st["without_index_no"] == sum(d["index_no"] is None for d in docs) > 0
    assert st["by_source"] == {
        "kaihua": {"documents": len(docs), "withdrawn": st["withdrawn"], "versions": st["versions"]}
    }
    assert st["by_publisher"] == dict(Counter(d["publisher"] or "(none)" for d in docs))
    assert st["by_year"] == dict(Counter((d["publish_date"] or "")[:4] or "(none)" for d in docs))

    store = store_of(cli)
    with read_session(engine_of(cli)) as s:
        caps = s.exec(select(Capture)).all()
    distinct = {c.sha256 for c in caps}
    a = st["archive"]
    assert st["captures"] == len(caps) and a["blobs"] == len(distinct)
    assert a["fetched_bytes"] == sum(c.size for c in caps)
    assert a["raw_bytes"] == sum(len(store.get(h)) for h in distinct)
    assert a["stored_bytes"] == sum(store.path(h).stat().st_size for h in distinct)
    assert a["dedupe_saved_bytes"] == a["fetched_bytes"] - a["raw_bytes"] > 0  # day 2 re-fetched unchanged pages
    assert 0 < a["stored_bytes"] < a["raw_bytes"] and st["database_bytes"] > 0
    assert st["search"] in ("sqlite fts5 (trigram + bigram)", "postgresql pg_trgm")

    text = cli("stats").stdout
    assert "by dedupe" in text and "by source" in text and "kaihua" in text and "by year" in text
