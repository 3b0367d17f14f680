"""`xxgk serve`'s JSON API, /healthz, /metrics and token, over real HTTP on a crawled simulator archive
(SQLite and PostgreSQL): every route of the OpenAPI document answers in the shape it declares, with
the keys and values of the CLI's --json."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess

import httpx
import jsonschema
import pytest
from helpers import XXGK, Proc
from web_helpers import free_port, hostile_title_of, served


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    from conftest import fresh_pg_schema

    url = None
    if request.param == "postgresql":
        schema = fresh_pg_schema()
        url = next(schema)
        request.addfinalizer(lambda: next(schema, None))
    with served(tmp_path_factory.mktemp(f"web-{request.param}"), url) as site:
        yield site


def _get(base: str, path: str, **params) -> httpx.Response:
    return httpx.get(base + path, params=params, timeout=30)


def _validator(spec: dict, path: str) -> jsonschema.Draft202012Validator:
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": spec["components"]})


def test_every_route_of_the_openapi_document_answers_as_declared(site):
    base, cli, hostile = site
    spec = _get(base, "/api/v1/openapi.json").json()
    changed = next(r["index_no"] for r in cli.jsonl("ls") if r["versions"] > 1 and r["index_no"])
    args = {"index_no": changed}
    params = {"/api/v1/search": {"q": "政府"}}
    assert set(spec["paths"]) == {
        "/api/v1/documents",
        "/api/v1/documents/{index_no}",
        "/api/v1/documents/{index_no}/versions",
        "/api/v1/search",
        "/api/v1/sources",
        "/api/v1/runs",
    }
    for path in spec["paths"]:
        r = _get(base, re.sub(r"\{(\w+)\}", lambda m: args[m[1]], path), **params.get(path, {}))
        assert r.status_code == 200, (path, r.text)
        errors = list(_validator(spec, path).iter_errors(r.json()))
        assert not errors, (path, errors[:3])
        assert r.json(), path


def test_api_keys_and_values_are_the_clis(site):
    base, cli, hostile = site
    ls = cli.jsonl("ls")
    api = _get(base, "/api/v1/documents", limit=500).json()
    assert api["documents"] == ls and api["next_cursor"] is None
    show = cli("show", hostile, "--json").stdout
    doc = _get(base, f"/api/v1/documents/{hostile}").json()
    assert doc == json.loads(show) and hostile_title_of(doc["title"])
    changed = next(r["index_no"] for r in ls if r["versions"] > 1 and r["index_no"])
    assert _get(base, f"/api/v1/documents/{changed}/versions").json()["versions"] == cli.jsonl("history", changed)
    assert _get(base, f"/api/v1/documents/{changed}", version=1).json()["version"] == 1
    hits = _get(base, "/api/v1/search", q="政府", limit=5).json()
    assert hits["results"] == cli.jsonl("search", "政府", "--limit", "5")
    assert hits["total"] == len(cli.jsonl("search", "政府", "--limit", "1000"))
    assert _get(base, "/api/v1/sources").json()["sources"][0]["documents"] == cli.jsonl("sources")[0]["documents"]
    assert _get(base, "/api/v1/runs", source="kaihua").json()["runs"] == cli.jsonl("runs", "kaihua")


@pytest.mark.parametrize("since", [None, "2025-03-01"])
def test_cursor_paging_walks_every_document_once_in_ls_order(site, since):
    base, cli, _ = site
    want = [r["index_no"] or r["url"] for r in cli.jsonl("ls", *(["--since", since] if since else []))]
    got, cursor = [], None
    while True:
        params = {k: v for k, v in {"since": since, "cursor": cursor}.items() if v}
        page = _get(base, "/api/v1/documents", limit=7, **params).json()
        got += [r["index_no"] or r["url"] for r in page["documents"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert got == want and len(want) > 7
    since = "2025-03-01"
    until = _get(base, "/api/v1/documents", until="2025-03-31", since=since, limit=500).json()["documents"]
    assert until and all(since <= r["publish_date"] <= "2025-03-31" for r in until)


@pytest.mark.parametrize(
    "path, params, code, words",
    [
        ("/api/v1/documents/no-such/thing", {}, 404, "no document"),
        ("/api/v1/documents", {"since": "2025/01/01"}, 400, "YYYY-MM-DD"),
        ("/api/v1/documents", {"cursor": "abc"}, 400, "cursor"),
        ("/api/v1/search", {"q": "政"}, 400, "at least 2"),
    ],
)
def test_bad_requests_are_named(site, path, params, code, words):
    r = _get(site[0], path, **params)
    assert r.status_code == code and words in r.json()["detail"]


def test_raw_page_is_sandboxed_and_attachments_download_with_their_hash(site):
    base, cli, hostile = site
    r = _get(base, f"/documents/{hostile}/raw")
    assert r.headers["content-security-policy"] == "sandbox" and r.headers["x-content-type-options"] == "nosniff"
    assert b"<script>" in r.content  # the archived bytes, as fetched
    att = next(a for r in cli.jsonl("ls") for a in r["attachments"] if a["sha256"])
    f = _get(base, f"/files/{att['sha256']}")
    assert f.status_code == 200 and len(f.content) == att["size"]
    assert hashlib.sha256(f.content).hexdigest() == att["sha256"]
    assert f.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert _get(base, "/files/" + "0" * 64).status_code == 404


def test_healthz_and_metrics(site):
    base, cli, _ = site
    r = _get(base, "/healthz")
    assert (r.status_code, r.text) == (200, "ok\n")
    text = _get(base, "/metrics").text
    n = cli.jsonl("sources")[0]["documents"]
    assert f'xxgk_documents{{source="kaihua"}} {float(n)}' in text
    assert 'xxgk_runs{source="kaihua",status="ok"} 2.0' in text
    assert 'xxgk_source_health{health="OK",source="kaihua"} 1.0' in text
    assert 'xxgk_last_success_timestamp_seconds{source="kaihua"}' in text


def test_binding_beyond_loopback_needs_a_token(site, tmp_path, monkeypatch):
    base, cli, _ = site
    monkeypatch.delenv("XXGK_WEB_TOKEN", raising=False)
    out = subprocess.run(
        [XXGK, "--config", str(cli.config), "serve", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "XXGK_WEB_TOKEN" in out.stderr
    port = free_port()
    monkeypatch.setenv("XXGK_WEB_TOKEN", "s3cret")
    proc = Proc(
        cli.config,
        tmp_path / "serve.log",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        ready="serving the archive on",
    ).start()
    try:
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/api/v1/sources").status_code == 401
        assert httpx.get(url + "/metrics").status_code == 401
        assert httpx.get(url + "/healthz").status_code == 200
        assert httpx.get(url + "/api/v1/sources", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert httpx.get(url + "/").headers["location"].startswith("/login")
        with httpx.Client(base_url=url) as browser:
            assert (
                browser.post("/login", data={"token": "wrong", "next": "/runs"})
                .headers["location"]
                .startswith("/login")
            )
            r = browser.post("/login", data={"token": "s3cret", "next": "/runs"})
            assert r.status_code == 303 and r.headers["location"] == "/runs"
            assert browser.get("/runs").status_code == 200  # the cookie the form set
    finally:
        proc.stop()


def test_source_page_filters_and_pages(site):
    base, cli, _ = site
    rows = [r for r in cli.jsonl("ls") if (r["publish_date"] or "").startswith("2024")]
    html = _get(base, "/sources/kaihua", year="2024").text
    assert html.count('href="/documents/') == min(50, len(rows)) > 0
    assert all(d in html for d in {r["publish_date"] for r in rows[:50]})
    pub = rows[0]["publisher"]
    html = _get(base, "/sources/kaihua", publisher=pub, since="2024-01-01", until="2024-12-31").text
    assert html.count('href="/documents/') == min(50, len([r for r in rows if pub in (r["publisher"] or "")]))
    assert _get(base, "/sources/kaihua", year="24").status_code == 400


def test_the_server_opens_the_database_read_only(site):
    from archive_helpers import database_url
    from sqlalchemy import text

    from storage.db import open_readonly

    engine = open_readonly(database_url(site[1]))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar() > 0
        with pytest.raises(Exception, match="read-only|readonly"):
            conn.execute(text("DELETE FROM documents"))
    engine.dispose()


def test_serve_names_a_database_it_cannot_read(tmp_path):
    cfg = tmp_path / "xxgk.toml"
    cfg.write_text('[settings]\ndata_dir = "data"\nlog_file = false\n', "utf-8")
    out = subprocess.run([XXGK, "--config", str(cfg), "serve"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "no database file" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data" / "xxgk.db").exists()  # read-only: nothing created


def test_healthz_is_503_when_the_archive_does_not_answer(site, tmp_path):
    from archive_helpers import database_url
    from fastapi.testclient import TestClient

    from scraper.config import load_config
    from storage.archive import LocalBlobStore
    from storage.db import open_readonly
    from web.app import Archive, create_app

    engine = open_readonly(database_url(site[1]))
    app = create_app(Archive(load_config(str(site[1].config)), engine, LocalBlobStore(tmp_path / "elsewhere")))
    r = TestClient(app).get("/healthz")
    engine.dispose()
    assert r.status_code == 503 and "is not in the archive" in r.text
