"""The deterministic document corpus of the simulated Kaihua portal, and its days.

Day 1 is the base corpus; day 2 adds, edits and deletes documents; days >= 3 equal day 2.
Every per-document choice comes from `random.Random(f"{seed}:{kind}:{doc_id}")`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

from . import text
from .site import (
    ATTACH_EXTS,
    DAY1_FIRST,
    DAY1_LAST,
    DAY2_DATES,
    DAY_STAMP,
    ENCODINGS,
    KAIHUA,
    SEED_BODY,
    SEED_INDEX_NO,
    SEED_TITLE,
    SYNONYMS,
    WRITTEN_DATE_LABELS,
    Organ,
    Profile,
)


@dataclass(frozen=True)
class Attachment:
    text: str  # link text
    download: str | None  # the download= attribute
    filename: str  # <32hex>.<ext>
    revision: int = 1  # bumped when the portal replaces the file (same URL and name, new bytes)

    @property
    def path(self) -> str:
        return f"/module/download/downfile.jsp?classid=0&filename={self.filename}"

    @property
    def name(self) -> str:
        return self.download or self.text


@dataclass
class Doc:
    id: int
    columns: tuple[int, ...]
    date: dt.date
    time: str  # HH:MM of publication
    organ: Organ
    title: str
    rows: list[tuple[str, str, str]]  # (canonical label, label as shown (unpadded), value)
    body: list[tuple]  # ("p"|"h", text) or ("table", rows) or ("att", index)
    attachments: list[Attachment] = field(default_factory=list)
    style: dict = field(default_factory=dict)  # rendering choices (see pages.py)
    encoding: str = "utf-8"  # utf-8 | gbk-header | gbk-meta | gbk-none
    topic: str = ""
    added_on_day: int = 1
    edited_on_day: int | None = None
    maketime: str = ""
    attachment_replaced: bool = False  # the day-2 edit was a replaced attachment file

    def value(self, canon: str) -> str | None:
        for c, _label, v in self.rows:
            if c == canon:
                return v
        return None

    def url_paths(self) -> list[str]:
        d = self.date
        return [f"/art/{d.year}/{d.month}/{d.day}/art_{c}_{self.id}.html" for c in self.columns]

    def body_lines(self, with_files: bool = True) -> list[str]:
        out: list[str] = []
        for block in self.body:
            if block[0] == "table":
                out.extend(" ".join(cells) for cells in block[1])
            elif block[0] == "att":
                if with_files:
                    out.append(attachment_line(self, block[1]))
            else:
                out.append(block[1])
        return out


def attachment_line(doc: Doc, i: int) -> str:
    prefix = "附件：" if len(doc.attachments) == 1 else f"附件{i + 1}："
    return prefix + doc.attachments[i].text


def _rng(seed: int, kind: str, key) -> random.Random:
    return random.Random(f"{seed}:{kind}:{key}")


def _fmt_date(d: dt.date, chinese: bool) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日" if chinese else d.isoformat()


class Corpus:
    """All documents of all days for one seed; `docs(day)` gives the live set of a day."""

    def __init__(self, seed: int = 0, docs: int = 120, profile: Profile = KAIHUA):
        self.seed = seed
        self.n = max(2, docs)
        self.profile = profile
        self._serials: set[str] = {SEED_INDEX_NO}
        self.day1 = self._build_day1()
        self._hostile_name()
        self.day2, self.deleted2 = self._build_day2()
        self.files = {day: {a.filename: a for d in self.docs(day).values() for a in d.attachments} for day in (1, 2)}
        self.attachments = {**self.files[1], **self.files[2]}

    def attachment(self, day: int, filename: str) -> Attachment | None:
        """The file as served on `day` (a deleted document's files stay served at their last revision)."""
        return self.files[1 if day <= 1 else 2].get(filename) or self.attachments.get(filename)

    def docs(self, day: int) -> dict[int, Doc]:
        return self.day1 if day <= 1 else self.day2

    def deleted(self, day: int) -> list[Doc]:
        return [] if day <= 1 else self.deleted2

    def column_docs(self, day: int, column_id: int) -> list[Doc]:
        """Live documents of a column, newest first (date, then id, descending)."""
        docs = [d for d in self.docs(day).values() if column_id in d.columns]
        docs.sort(key=lambda d: (d.date, d.id), reverse=True)
        return docs

    # -- day 1 ---------------------------------------------------------------------------
    def _build_day1(self) -> dict[int, Doc]:
        rng = _rng(self.seed, "corpus", 1)
        prof = self.profile
        span = (DAY1_LAST - DAY1_FIRST).days
        dates = sorted(
            DAY1_FIRST + dt.timedelta(days=rng.randint(0, span)) for _ in range(self.n - 1 if prof.seed_doc else self.n)
        )
        seed_date = dt.date(2025, 3, 5)
        seed_pos = -1
        if prof.seed_doc:
            dates.append(seed_date)
            dates.sort()
            seed_pos = dates.index(seed_date)
        docs: dict[int, Doc] = {}
        next_id = prof.id_base + rng.randint(0, 9999)
        for i, d in enumerate(dates):
            next_id += rng.randint(1, 37)
            col = rng.choices(prof.columns, weights=prof.weights)[0].id
            if i == seed_pos:
                self.seed_id = next_id
                docs[next_id] = self._seed_doc(next_id)
            else:
                docs[next_id] = self._make_doc(next_id, d, (col,), 1)
        self.seed_id = getattr(self, "seed_id", None)
        self.two_column_id = None
        listed = [c.id for c, w in zip(prof.columns, prof.weights) if w]
        if len(listed) > 1:  # one document listed in two columns
            two = _rng(self.seed, "two-col", 0).choice(
                [d for d in docs.values() if d.title != SEED_TITLE and d.value("索引号")]
            )
            other = [c for c in listed if c != two.columns[0]]
            two.columns = (two.columns[0], _rng(self.seed, "two-col", 1).choice(other))
            self.two_column_id = two.id
        return docs

    def _hostile_name(self) -> None:
        """One attachment whose download= name tries to climb out of any folder it is saved in."""
        with_files = sorted(k for k, d in self.day1.items() if d.attachments and k != self.seed_id)
        if not with_files:
            return
        doc = self.day1[_rng(self.seed, "hostile", 0).choice(with_files)]
        first = doc.attachments[0]
        ext = first.filename.rsplit(".", 1)[1]
        name = f"../../../../tmp/xxgk-escape/..\\..\\{doc.title[:12]}.{ext}"
        doc.attachments = [dataclasses.replace(first, download=name), *doc.attachments[1:]]
        self.hostile_id = doc.id

    def _seed_doc(self, doc_id: int) -> Doc:
        rows = [
            ("索引号", "索引号", SEED_INDEX_NO),
            ("公开方式", "公开方式", "主动公开"),
            ("文号", "文号", ""),
            ("公开日期", "公开日期", "2025-03-05"),
            ("发布单位", "发布单位", "县府办"),
            ("有效性", "有效性", ""),
        ]
        style = {
            "layout": "td",
            "table_class": "xxgk_table",
            "pad": "none",
            "colon": "：",
            "record": 0,
            "indent": [],
            "nbsp_raw": False,
            "files": "body",
            "hidden_copy": False,
            "inline": False,
        }
        return Doc(
            doc_id,
            (self.profile.columns[0].id,),
            dt.date(2025, 3, 5),
            "16:21",
            self.profile.organs[0],
            SEED_TITLE,
            rows,
            list(SEED_BODY),
            [],
            style,
            "utf-8",
            "法治政府建设",
            1,
            None,
            "2025-03-05 16:21:09",
        )

    def _make_doc(self, doc_id: int, date: dt.date, columns: tuple, day: int) -> Doc:
        r = _rng(self.seed, "doc", doc_id)
        organ = r.choice(self.profile.organs)
        topic = r.choice(organ.topics)
        title, genre = text.make_title(r, topic, organ.full, date.year)
        body = text.make_body(r, topic, organ.full, date.year)
        enc = "utf-8"
        if r.random() < 0.2:
            enc = r.choice(ENCODINGS)
        if not self.profile.gbk:
            enc = "utf-8"
        if enc == "gbk-meta" or r.random() < 0.05:
            body.append(("p", text.contact_line(r, gbk_only=enc == "gbk-meta")))
        body += [("p", organ.full), ("p", f"{date.year}年{date.month}月{date.day}日")]
        attachments = self._attachments(r, doc_id, title)
        for i in range(len(attachments)):
            body.insert(len(body) - 2, ("att", i))
        chinese = r.random() < 0.1
        rows = self._rows(r, organ, date, topic, genre, chinese)
        style = {
            "layout": "th" if r.random() < 0.3 else "td",
            "table_class": r.choice(("xxgk_table", "xxgktab")),
            "pad": r.choice(("none", "none", "space", "nbsp", "ideo")),
            "colon": r.choice(("：", "：", "：", ":", "")),
            "record": r.choice((0, 0, 1, 1, 2)),
            "indent": [i for i in range(len(body)) if r.random() < 0.15],
            "nbsp_raw": enc == "utf-8" and r.random() < 0.5,
        }
        hh, mm, ss = r.randint(8, 18), r.randint(0, 59), r.randint(0, 59)
        rows = self._variants(doc_id, rows, style)
        return Doc(
            doc_id,
            columns,
            date,
            f"{hh:02d}:{mm:02d}",
            organ,
            title,
            rows,
            body,
            attachments,
            style,
            enc,
            topic,
            day,
            None,
            f"{date.isoformat()} {hh:02d}:{mm:02d}:{ss:02d}",
        )

    def _variants(self, doc_id: int, rows: list, style: dict) -> list:
        """Shapes seen on real portals (their own random stream, so the rest of the corpus stays put):
        where the files are listed (the body, a 相关附件 block, a script array), a hidden mobile copy of
        the metadata, 文号/成文日期 given inline in a text line, and the written date's other labels."""
        v = _rng(self.seed, "variant", doc_id)
        style["files"] = v.choice(("body", "body", "block", "block", "script"))
        style["hidden_copy"] = v.random() < 0.2
        style["inline"] = v.random() < 0.2
        written = v.choice(WRITTEN_DATE_LABELS)
        return [(c, written if c == "成文日期" else label, value) for c, label, value in rows]

    def _attachments(self, r: random.Random, doc_id: int, title: str) -> list[Attachment]:
        if r.random() >= 0.3:
            return []
        out = []
        for i in range(r.randint(1, 2)):
            ext = r.choice(ATTACH_EXTS)
            hexname = hashlib.md5(f"{self.seed}:att:{doc_id}:{i}".encode()).hexdigest()
            stem = title if i == 0 else f"{title}（附表）"
            link = r.choice((stem, f"{stem}.{ext}"))
            download = f"{stem}（正式稿）.{ext}" if r.random() < 0.4 else None
            out.append(Attachment(link, download, f"{hexname}.{ext}"))
        return out

    def _rows(self, r, organ: Organ, date: dt.date, topic: str, genre: str, chinese: bool) -> list:
        year = date.year
        index_no = f"{organ.uscc}/{year}-{self._serial(r, organ, year)}"
        doc_no = f"{organ.doc_prefix}〔{year}〕{r.randint(1, 160)}号" if r.random() < 0.5 else ""
        validity = r.choice(("有效", "有效", "", "失效")) if doc_no else r.choice(("", "有效"))
        pairs = [
            ("索引号", index_no),
            ("公开方式", "主动公开" if r.random() < 0.95 else "依申请公开"),
            ("文号", doc_no),
            ("公开日期", _fmt_date(date, chinese)),
            ("发布单位", organ.short),
            ("有效性", validity),
        ]
        if r.random() < 0.3:  # the richer table
            written = date - dt.timedelta(days=r.randint(0, 12))
            pairs += [
                ("成文日期", _fmt_date(written, chinese) if r.random() < 0.9 else ""),
                ("主题分类", text.TOPICS[topic][0]),
                ("体裁分类", genre),
                ("组配分类", r.choice(text.ASSEMBLY)),
            ]
        u = r.random()
        if u < 0.015:
            pairs = pairs[1:]  # no 索引号 row at all
        elif u < 0.03:
            pairs[0] = ("索引号", "")
        return [(c, r.choice(SYNONYMS[c]), v) for c, v in pairs]

    def _serial(self, r, organ: Organ, year: int) -> str:
        hi = 3999 if len(self._serials) < 16000 else 99999  # small serials, unless the corpus is huge
        misses = 0
        while True:
            s = f"{r.randint(1, hi):05d}"
            if f"{organ.uscc}/{year}-{s}" not in self._serials:
                self._serials.add(f"{organ.uscc}/{year}-{s}")
                return s
            misses += 1
            if misses == 100:  # an organ's year all but full (100,000 documents of one family): six digits
                hi = 999999

    # -- day 2 ---------------------------------------------------------------------------
    def _build_day2(self) -> tuple[dict[int, Doc], list[Doc]]:
        r = _rng(self.seed, "corpus", 2)
        protected = {self.seed_id, self.two_column_id}
        candidates = sorted(k for k in self.day1 if k not in protected)
        n_del = min(len(candidates), max(1, round(self.n * 0.03)))
        deleted_ids = set(r.sample(candidates, n_del))
        rest = [k for k in candidates if k not in deleted_ids]
        n_edit = min(len(rest), max(2, round(self.n * 0.06)))
        edited = r.sample(rest, n_edit)
        docs = dict(self.day1)
        for k in deleted_ids:
            del docs[k]
        stamp = f"{DAY_STAMP[2]} 10:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        for i, k in enumerate(edited):
            docs[k] = self._edit(docs[k], body_only=i < n_edit // 2, maketime=stamp)
        next_id = max(self.day1) + 1000
        for _ in range(max(1, round(self.n * 0.05))):
            next_id += r.randint(1, 37)
            col = r.choices(self.profile.columns, weights=self.profile.weights)[0].id
            docs[next_id] = self._make_doc(next_id, r.choice(DAY2_DATES), (col,), 2)
        self._replace_files(docs, protected | deleted_ids | set(edited), stamp)
        deleted = [self.day1[k] for k in sorted(deleted_ids)]
        return docs, deleted

    def _replace_files(self, docs: dict[int, Doc], untouched: set, maketime: str) -> None:
        """Day 2 replaces the first attachment of a few documents: same URL and name, new bytes."""
        pool = sorted(k for k, d in docs.items() if d.attachments and k not in untouched and d.added_on_day == 1)
        r = _rng(self.seed, "replace", 2)
        for k in r.sample(pool, min(len(pool), max(1, round(self.n * 0.02)))):
            doc = docs[k]
            first = dataclasses.replace(doc.attachments[0], revision=2)
            docs[k] = dataclasses.replace(
                doc,
                attachments=[first, *doc.attachments[1:]],
                edited_on_day=2,
                maketime=maketime,
                attachment_replaced=True,
            )

    def _edit(self, doc: Doc, body_only: bool, maketime: str) -> Doc:
        """Body-only edits alter or append a paragraph (invisible in lists); the others change the
        title (visible in lists) and turn 有效性 有效 into 失效."""
        r = _rng(self.seed, "edit", doc.id)
        new = dataclasses.replace(doc, edited_on_day=2, maketime=maketime)
        if body_only:
            body = list(doc.body)
            extra = text.extra_sentence(r, doc.topic, doc.organ.full, doc.date.year)
            if r.random() < 0.5:
                body[0] = ("p", body[0][1] + extra)  # body[0] is always the opening paragraph
            else:
                body.insert(len(body) - 2, ("p", extra))  # before the signature lines
            new.body = body
        else:
            new.title = doc.title + r.choice(("（修订）", "（更正）", "（第二次修订）"))
            new.rows = [(c, lab, "失效" if c == "有效性" and v == "有效" else v) for c, lab, v in doc.rows]
        return new
