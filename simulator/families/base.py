"""What every simulated family shares: the corpus and its days, per-day render caches, robots.txt,
attachment files, a volatile visit counter, and the ground truth of each served document."""

from __future__ import annotations

import itertools
import time
from typing import ClassVar
from urllib.parse import quote

from ..codes import make_uscc, org_check_digit
from ..corpus import Attachment, Corpus, Doc
from ..faults import Context
from ..pages import attachment_bytes, robots_txt
from ..response import Response, html_response
from ..site import Column, Organ, Profile
from ..truth import expected, file_truth

NOT_FOUND = "<html><head><title>404</title></head><body><h1>404 Not Found</h1><p>页面不存在</p></body></html>"
JSON = "application/json;charset=UTF-8"


def not_found() -> Response:
    return html_response(404, NOT_FOUND)


def organ(short: str, full: str, code: str, doc_prefix: str, topics: tuple) -> Organ:
    """An organ with a valid code: `code` is 8 body characters (a 9-character GB 11714 code is made)
    or 16 (a GB 32100 USCC is made: 8-character registration/region prefix + organisation body)."""
    made = code + org_check_digit(code) if len(code) == 8 else make_uscc(code[:8], code[8:])
    return Organ(short, full, made, doc_prefix, topics)


def written(doc: Doc) -> str:
    """成文日期 as a page shows it: the table's value, else the publication date."""
    return doc.value("成文日期") or doc.date.isoformat()


def file_label(att: Attachment) -> str:
    """The link text of a file list entry: the file's own name, with its extension."""
    ext = att.filename.rsplit(".", 1)[1]
    return att.text if att.text.endswith(f".{ext}") else f"{att.text}.{ext}"


SIMULATED: dict[str, type[FamilySite]] = {}  # family name -> simulated site; each module adds its own


class FamilySite:
    """One simulated portal of a CMS family. Subclasses route their own URLs and render their pages;
    a subclass with a `family` registers itself under that name."""

    family: ClassVar[str]
    profile: ClassVar[Profile]
    server: ClassVar[str] = "JCMS/4.2"  # the Server header

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "family" in cls.__dict__:
            SIMULATED[cls.family] = cls

    def __init__(self, corpus: Corpus, day: int = 1, robots: str = "allow"):
        self.corpus = corpus
        self.day = day
        self.robots = robots
        self._cache: dict = {}
        self.file_overrides: dict[str, tuple[bytes, str]] = {}  # filename -> (bytes, type) a test serves instead
        self._visits = itertools.count(1)
        self.columns = {c.id: c for c in corpus.profile.columns}

    # -- columns ---------------------------------------------------------------------------
    @classmethod
    def profile_for(cls, paths: list[str] | None) -> Profile:
        """The family's default profile, or one whose columns live at the given URL paths."""
        if not paths:
            return cls.profile
        columns = tuple(cls.column_at(path, i) for i, path in enumerate(paths))
        return Profile(
            columns, (1,) * len(columns), cls.profile.organs, id_base=cls.profile.id_base, paths=tuple(paths)
        )

    @classmethod
    def column_at(cls, path: str, i: int) -> Column:
        raise ValueError(f"{cls.family} cannot serve a column at {path!r}")

    def column_paths(self) -> list[str]:
        """The column URL paths: as given, else the family's own."""
        return list(self.corpus.profile.paths) or self.default_paths()

    def default_paths(self) -> list[str]:
        raise NotImplementedError

    def key(self) -> int:
        return 1 if self.day <= 1 else 2

    def docs(self) -> dict[int, Doc]:
        return self.corpus.docs(self.key())

    def column_docs(self, column_id: int) -> list[Doc]:
        key = ("list", self.key(), column_id)
        if key not in self._cache:
            self._cache[key] = self.corpus.column_docs(self.key(), column_id)
        return self._cache[key]

    def cached(self, key, render):
        key = (self.key(), *key)
        if key not in self._cache:
            self._cache[key] = render()
        return self._cache[key]

    def doc_at(self, path: str) -> Doc | None:
        """The live document served at `path` today."""
        return self.cached(("paths",), lambda: {p: d for d in self.docs().values() for p in self.doc_paths(d)}).get(
            path
        )

    def file_at(self, path: str) -> str | None:
        """The attachment file name served at `path` (files of deleted documents stay served)."""
        if "files" not in self._cache:
            docs = [*self.corpus.day1.values(), *self.corpus.day2.values()]
            self._cache["files"] = {self.attachment_path(d, a): a.filename for d in docs for a in d.attachments}
        return self._cache["files"].get(path)

    # -- serving -----------------------------------------------------------------------------
    def route(self, ctx: Context, params: dict) -> Response:
        if ctx.path == "/robots.txt":
            status, text = robots_txt(self.robots)
            return html_response(
                status, text, "text/plain; charset=UTF-8" if status == 200 else "text/html; charset=UTF-8"
            )
        return self.serve(ctx, params) or not_found()

    def serve(self, ctx: Context, params: dict) -> Response | None:
        raise NotImplementedError

    def file(self, filename: str, disposition: str | None = None) -> Response:
        att = self.corpus.attachment(self.day, filename)
        if att is None:
            return not_found()
        data, ctype = self.file_overrides.get(filename) or self.cached(
            ("file", filename, att.revision), lambda: attachment_bytes(filename, att.revision)
        )
        name = disposition or att.name or filename  # as real servers do: the name a person gave the file
        return Response(
            200,
            {"Content-Type": ctype, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"},
            data,
        )

    def stored(self, path: str) -> Response | None:
        """An attachment or an article served at `path`, if any (articles rendered once per day)."""
        name = self.file_at(path)
        if name:
            return self.file(name)
        doc = self.doc_at(path)
        if doc is None:
            return None
        body = self.cached(("art", path), lambda: self.article_page(doc, path).encode("utf-8"))
        return Response(200, {"Content-Type": "text/html; charset=UTF-8"}, body)

    def article_page(self, doc: Doc, path: str) -> str:
        raise NotImplementedError

    def visits(self, doc: Doc) -> str:
        """A visit counter that grows per request: volatile bytes outside the content."""
        return str(100 + doc.id % 4000 + next(self._visits))

    @staticmethod
    def stamp() -> str:
        return str(int(time.time() * 1000))

    # -- ground truth --------------------------------------------------------------------------
    def doc_paths(self, doc: Doc) -> list[str]:
        raise NotImplementedError

    def attachment_path(self, doc: Doc, att: Attachment) -> str:
        """Where the attachment is served (absolute path)."""
        raise NotImplementedError

    def attachment_name(self, att: Attachment) -> str:
        return att.name

    def rows(self, doc: Doc) -> list[tuple[str, str, str]]:
        """The metadata rows the article page shows (canonical label, label, value)."""
        return doc.rows

    def page_values(self, doc: Doc) -> dict:
        """Contract values the page gives outside its metadata table (<meta PubDate>, <meta ContentSource>)."""
        return {}

    def list_values(self, doc: Doc) -> dict:
        """Contract values the list carries for a document whose page lacks them."""
        return {}

    def body_lines(self, doc: Doc) -> list[str]:
        return doc.body_lines()

    def expected(self, doc: Doc, base_url: str) -> dict:
        files = [
            file_truth(self.attachment_name(a), base_url + self.attachment_path(doc, a), a.filename, a.revision)
            for a in doc.attachments
        ]
        return expected(
            doc,
            base_url,
            paths=self.doc_paths(doc),
            files=files,
            rows=self.rows(doc),
            from_page=self.page_values(doc),
            from_list=self.list_values(doc),
            body_lines=self.body_lines(doc),
        )
