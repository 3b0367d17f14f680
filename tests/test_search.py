"""`xxgk search` on a crawled simulator archive, SQLite and PostgreSQL, checked against a brute-force scan.

Chinese substring semantics: every document whose current title or body contains the query, for
2-character queries (the bigram path) and 3+ (trigram), the same documents on both databases.
"""

from __future__ import annotations

import random
import re

import pytest
from archive_helpers import documents

from storage.search import normalise

TWO = ["政府", "法治", "开化", "乡镇", "王喆", "喆，", "，开", "20", "（一", "县府", "》的", "年1"]
LONGER = [
    "法治政府建设",
    "开化县2024年法治政府建设年度报告",
    "乡村振兴",
    "高标准农田",
    "“最多跑一次”改革",
    "（修订）",
    "县财政局",
    "2024年",
    "截至",
    "量子计算机",
    "政府采购工作方案",
]


@pytest.fixture(scope="module")
def archive(crawled):
    return crawled, documents(crawled)


def brute(docs: list[dict], q: str, **filters) -> set[str]:
    def keep(d):
        return (not filters.get("since") or (d["publish_date"] or "") >= filters["since"]) and (
            not filters.get("publisher") or filters["publisher"] in (d["publisher"] or "")
        )

    return {d["url"] for d in docs if keep(d) and (q in (d["title"] or "") or q in (d["body_text"] or ""))}


def found(cli, q: str, *opts: str) -> set[str]:
    return {r["url"] for r in cli.jsonl("search", q, "--limit", "100000", *opts)}


def sampled_bigrams(docs: list[dict], n: int = 25) -> list[str]:
    rng = random.Random(5)
    out = []
    while len(out) < n:
        body = rng.choice(docs)["body_text"]
        i = rng.randrange(len(body) - 1)
        if not any(c.isspace() for c in body[i : i + 2]):  # a query is stripped of spaces
            out.append(body[i : i + 2])
    return out


def test_two_character_queries_match_a_brute_force_scan(archive):
    cli, docs = archive
    queries = TWO + sampled_bigrams(docs)
    for q in queries:
        assert found(cli, q) == brute(docs, q), q
    assert len(brute(docs, "政府")) > 50 and brute(docs, "王喆")  # common and rare (GBK-only 喆)


def test_longer_queries_match_a_brute_force_scan(archive):
    cli, docs = archive
    for q in LONGER:
        assert found(cli, q) == brute(docs, q), q
    assert not brute(docs, "量子计算机") and len(brute(docs, "（修订）")) >= 1


def test_both_databases_find_the_same_documents(tmp_path_factory, archive):
    # The module runs once per database; record each answer, compare when both are in.
    cli, docs = archive
    answers = {q: found(cli, q) for q in ("政府", "法治政府建设", "县财政局", "开化")}
    seen = tmp_path_factory.getbasetemp() / "search-answers.txt"
    line = repr(sorted((q, sorted(u.split("/", 3)[3] for u in v)) for q, v in answers.items()))
    if seen.exists():
        assert seen.read_text("utf-8") == line
    else:
        seen.write_text(line, "utf-8")


def test_filters_narrow_the_brute_force_set(archive):
    cli, docs = archive
    assert found(cli, "政府", "--since", "2025-01-01") == brute(docs, "政府", since="2025-01-01")
    assert found(cli, "工作", "--publisher", "财政") == brute(docs, "工作", publisher="财政")
    assert found(cli, "工作", "--source", "kaihua") == brute(docs, "工作")
    assert "unknown source 'nowhere'" in cli("search", "工作", "--source", "nowhere", code=2).output


def test_results_are_ranked_with_highlighted_snippets(archive):
    cli, docs = archive
    rows = cli.jsonl("search", "法治政府建设年度报告")
    assert rows[0]["index_no"] == "113308245972094984/2025-01529"
    assert rows[0]["title_matches"] == [[8, 18]]
    for row in cli.jsonl("search", "政府", "--limit", "5"):
        assert row["snippet_matches"], row["url"]
        for a, b in row["snippet_matches"]:
            assert row["snippet"][a:b] == "政府"
        assert "body_text" not in row and {"score", "snippet", "index_no", "versions"} <= set(row)
    scores = [r["score"] for r in cli.jsonl("search", "政府", "--limit", "50")]
    assert scores == sorted(scores, reverse=True)
    assert len(cli.jsonl("search", "政府", "--limit", "7")) == 7


def test_fullwidth_and_case_are_folded(archive):
    cli, docs = archive
    assert found(cli, "２０２４年") == brute(docs, "2024年")
    assert found(cli, "ｐｄｆ") == found(cli, "PDF") == found(cli, "pdf") == brute(docs, "pdf") != set()


def test_human_output_and_bad_queries(archive):
    cli, _ = archive
    out = cli("search", "法治政府", "--limit", "3").stdout
    assert "开化县2024年法治政府建设年度报告" in out and "of" in out and "documents matching" in out
    assert "at least 2 characters" in cli("search", "政", code=2).output
    assert "at least 2 characters" in cli("search", "  ", code=2).output
    assert "YYYY-MM-DD" in cli("search", "政府", "--since", "2025", code=2).output


def brute_all(docs: list[dict], terms: list[str]) -> set[str]:
    """Every document whose normalised title or body contains each term."""
    terms = [normalise(t) for t in terms]
    texts = [(d["url"], normalise(d["title"]), normalise(d["body_text"])) for d in docs]
    return {url for url, title, body in texts if all(t in title or t in body for t in terms)}


def sampled_pairs(docs: list[dict], n: int = 10) -> list[list[str]]:
    """Pairs of words: from one document (a hit is likely) and from two (often none)."""
    rng = random.Random(11)
    words = [w for w in (re.findall(r"[^\s-]\S{1,3}", d["body_text"] or "") for d in docs) if w]
    pairs = []
    for i in range(n):
        a = rng.choice(words)
        b = a if i % 2 else rng.choice(words)
        pairs.append([rng.choice(a), rng.choice(b)])
    return pairs


def test_several_words_are_an_and_of_terms(archive):
    cli, docs = archive
    queries = [
        ["法治", "政府"],
        ["开化", "乡村振兴"],
        ["县财政局", "2024年"],
        ["王喆", "政府"],
        ["法治政府建设", "截至", "乡镇"],
        ["政府", "量子计算机"],
    ] + sampled_pairs(docs)
    for terms in queries:
        assert found(cli, " ".join(terms)) == brute_all(docs, terms), terms
    both = brute_all(docs, ["开化", "乡村振兴"])
    assert both and both < brute(docs, "乡村振兴") | brute(docs, "开化") and not brute_all(docs, ["政府", "量子计算机"])
    assert found(cli, "法治　政府") == brute_all(docs, ["法治", "政府"])  # an ideographic space splits too
    assert {r["url"] for r in cli.jsonl("search", "法治", "政府", "--limit", "1000")} == brute_all(
        docs, ["法治", "政府"]
    )


def test_a_quoted_phrase_is_exact(archive):
    cli, docs = archive
    phrases = sorted({m for d in docs for m in re.findall(r"\S{2} \S{2}", d["body_text"] or "")})
    assert len(phrases) > 5
    differs = 0
    for phrase in phrases[:: max(1, len(phrases) // 12)]:
        assert found(cli, f'"{phrase}"') == brute_all(docs, [phrase]), phrase
        assert found(cli, phrase) == brute_all(docs, phrase.split()), phrase
        differs += brute_all(docs, [phrase]) != brute_all(docs, phrase.split())
    assert differs, "some phrase finds fewer documents than its words"
    phrase = phrases[0]
    assert found(cli, f'政府 "{phrase}"') == brute_all(docs, ["政府", phrase])


def test_no_hits_say_which_terms_matched_nothing(archive):
    cli, docs = archive
    out = cli("search", "法治 量子计算机 区块链").stdout
    assert "0 of 0 documents" in out and "no document contains '量子计算机', '区块链'" in out
    assert "'法治'" not in out.split("no document contains")[1]
    r = cli("search", "法治 量子计算机", "--json")
    assert r.stdout == "" and "no document contains '量子计算机'" in r.stderr
    apart = next(
        [a, b]
        for a in TWO + LONGER
        for b in TWO + LONGER
        if brute(docs, a) and brute(docs, b) and not brute_all(docs, [a, b])
    )
    assert "each term is found, but no document contains them all" in cli("search", " ".join(apart)).stdout
    assert "unclosed" in cli("search", '"法治 政府', code=2).output
    assert "at least 2 characters, got '政'" in cli("search", "法治 政", code=2).output
