"""PortalSimulator: the public face of the simulator (a 政府信息公开 portal of one CMS family over real HTTP)."""

from __future__ import annotations

import threading

from .corpus import Corpus
from .families import FAMILIES
from .faults import FaultSet
from .response import RequestRecord
from .server import Handler, Server

ROBOTS_MODES = ("allow", "disallow-all", "disallow-art", "403", "404")


class PortalSimulator:
    """`family` picks the CMS (see simulator.families.FAMILIES); `columns` (URL paths, optional) puts
    the columns where a real portal has them, e.g. ["/col/col1229565788/index.html"]."""

    def __init__(
        self,
        seed: int = 0,
        docs: int = 120,
        day: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        robots: str = "allow",
        name: str = "kaihua",
        family: str = "hanweb-jpage",
        columns: list[str] | None = None,
    ):
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; simulated: {', '.join(FAMILIES)}")
        self.seed, self.name, self.family, self.host, self.port = seed, name, family, host, port
        site_cls = FAMILIES[family]
        self.corpus = Corpus(seed, docs, site_cls.profile_for(columns))
        self.site = site_cls(self.corpus, day)
        self.robots = robots
        self.faults = FaultSet(seed)
        self.requests: list[RequestRecord] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> PortalSimulator:
        if self._server is None:
            handler = type("BoundHandler", (Handler,), {"sim": self, "server_version": self.site.server})
            self._server = Server((self.host, self.port), handler)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"simulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> PortalSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- site ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def column_urls(self) -> list[str]:
        return [self.base_url + p for p in self.site.column_paths()]

    @property
    def day(self) -> int:
        return self.site.day

    def set_day(self, day: int) -> None:
        if day < 1:
            raise ValueError("days start at 1")
        self.site.day = day

    @property
    def robots(self) -> str:
        return self.site.robots

    @robots.setter
    def robots(self, mode: str) -> None:
        if mode not in ROBOTS_MODES:
            raise ValueError(f"robots must be one of {ROBOTS_MODES}")
        self.site.robots = mode

    # -- ground truth --------------------------------------------------------------------
    def expected_documents(self, day: int | None = None) -> list[dict]:
        """Every live document of `day` as a correct crawler + parser should record it, newest first."""
        day = self.day if day is None else day
        docs = sorted(self.corpus.docs(day).values(), key=lambda d: (d.date, d.id), reverse=True)
        return [self.site.expected(d, self.base_url) for d in docs]

    def deleted_documents(self, day: int | None = None) -> list[dict]:
        day = self.day if day is None else day
        return [self.site.expected(d, self.base_url) for d in self.corpus.deleted(day)]

    def serve_file(self, filename: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Serve these bytes for attachment `filename` (e.g. a real PDF a test made) instead of the generated ones."""
        self.site.file_overrides[filename] = (data, content_type)

    # -- faults and request log ------------------------------------------------------------
    def inject(self, path_regex: str, fault: str, rate: float = 1.0, **params) -> None:
        self.faults.add(path_regex, fault, rate, **params)

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset_requests(self) -> None:
        self.requests.clear()
