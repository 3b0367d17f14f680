"""The Fetcher's httpx transport (scraper/http_transport.py, on aiohttp): TLS verification, no
connections left open, no request sent twice behind the Fetcher's back. The fault words (reset,
truncated, timed out, refused, unresolved) are in test_fetch.py and test_crawl_faults.py."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import ipaddress
import os
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scraper.fetch import Fetcher, FetchError, FetchPolicy, TooLarge
from scraper.http_transport import AiohttpTransport

pytestmark = pytest.mark.e2e  # every test here starts a server (TLS, raw HTTP) or a simulator


def policy(**kw) -> FetchPolicy:
    return FetchPolicy(**{**dict(user_agent="t", timeout=5, retries=0, rate=0, concurrency=4, obey_robots=False), **kw})


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA signed, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = "你好".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def https_server(cert: Path, key: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_tls_certificates_are_verified(tmp_path):
    cert, key = self_signed(tmp_path)

    async def go(url):
        async with Fetcher(policy()) as f:
            with pytest.raises(FetchError, match="certificate verify failed"):
                await f.fetch(url)
        trusting = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(transport=AiohttpTransport(httpx.Limits(), ssl_context=trusting)) as client:
            return await client.get(url)

    with https_server(cert, key) as url:
        resp = asyncio.run(go(url))
    assert resp.status_code == 200 and resp.text == "你好"


def client_sockets_to(port: int) -> int:
    """How many TCP sockets this process holds open to `port` on this machine (the client ends)."""
    mine = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in mine:
                count += 1
    return count


def test_no_connection_is_left_open(portal):
    """Kept-alive connections while the Fetcher lives; none after it closes, including one abandoned
    mid-body for the size cap."""
    port = int(portal.base_url.rsplit(":", 1)[1].split("/")[0])
    portal.inject(r"/col/", "huge", size=3_000_000)

    async def go():
        async with Fetcher(policy(max_body_bytes=100_000)) as f:
            pages = [d["urls"][0] for d in portal.expected_documents()[:6]]
            await asyncio.gather(*(f.fetch(u) for u in pages))
            with pytest.raises(TooLarge):
                await f.fetch(portal.column_urls[0])
            await f.fetch(pages[0])
            during = client_sockets_to(port)
        return during, client_sockets_to(port)

    during, after = asyncio.run(go())
    assert during >= 1 and after == 0


def test_a_reset_costs_one_request_per_attempt(portal):
    """aiohttp would send a GET again by itself after a reset; the Fetcher counts every request."""
    portal.inject(r"/col/", "reset")

    async def go():
        async with Fetcher(policy(retries=2, backoff=0.01)) as f:
            await f.fetch(portal.expected_documents()[0]["urls"][0])  # a kept-alive connection first
            with pytest.raises(FetchError, match=r"^connection reset \(network error after 3 attempts\)"):
                await f.fetch(portal.column_urls[0])

    asyncio.run(go())
    assert len([r for r in portal.requests if r.path.startswith("/col/")]) == 3


@contextmanager
def recording_server() -> Iterator[tuple[str, list[bytes]]]:
    """A raw HTTP server keeping every request's bytes (head and body), answering 200 "ok"."""
    got: list[bytes] = []
    sock = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head = data.partition(b"\r\n\r\n")[0].lower()
                length = (
                    int(head.split(b"content-length: ", 1)[1].split(b"\r\n")[0]) if b"content-length: " in head else 0
                )
                while len(data) - len(head) - 4 < length:
                    data += conn.recv(65536)
                got.append(data)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", got
    finally:
        sock.close()


def test_the_server_receives_the_bytes_httpx_own_transport_sends():
    """Request line, header names as cased, their order, and bodies: byte for byte as with h11."""

    async def go(base, transport):
        async with Fetcher(policy(user_agent="ua/1"), transport=transport) as f:
            await f.fetch(f"{base}/a/%E4%BD%A0/文件?x=1&y=%20z&q=中#frag")
            await f.fetch(f"{base}/p", method="POST", data={"a": "你", "b": "2"}, headers={"Referer": f"{base}/"})
            await f.fetch(f"{base}/j", method="POST", data=b'{"k":1}', headers={"Content-Type": "application/json"})
            await f.fetch(f"{base}/e", method="POST")  # no body: Content-Length 0, no Content-Type
            await f.fetch(f"{base}/h", headers={"Accept": "text/html", "X-A": "1", "Referer": f"{base}/"})
            await f.fetch(f"{base}/g", headers={"accept-encoding": "identity", "Content-Type": "text/plain"})

    sent = []
    for transport in (lambda limits: httpx.AsyncHTTPTransport(limits=limits), None):
        with recording_server() as (base, got):
            asyncio.run(go(base, transport))
            sent.append([g.replace(base.encode(), b"BASE").replace(base[7:].encode(), b"HOST") for g in got])
    assert len(sent[0]) == 6 and sent[1] == sent[0]


def test_a_body_comes_in_chunks_of_at_most_64_kib_however_much_has_arrived():
    """httpx inflates a gzip body one chunk at a time: a chunk of 64 KiB inflates to ~64 MB at most, so a
    gzip bomb stops at the size cap. Reading all that is buffered at once (1 MB here) would inflate ~1 GB."""
    body = os.urandom(1 << 20)
    sock = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = sock.accept()
        with conn:
            while b"\r\n\r\n" not in conn.recv(65536):
                pass
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    threading.Thread(target=serve, daemon=True).start()

    async def go():
        transport = AiohttpTransport(httpx.Limits(max_connections=1))
        resp = await transport.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{sock.getsockname()[1]}/"))
        await asyncio.sleep(0.5)  # the whole body arrives meanwhile
        sizes = [len(chunk) async for chunk in resp.stream]
        await resp.aclose()
        await transport.aclose()
        return sizes

    try:
        sizes = asyncio.run(go())
    finally:
        sock.close()
    assert sum(sizes) == len(body) and max(sizes) <= 64 * 1024


def test_the_url_handed_to_aiohttp_is_the_url_httpx_encoded():
    """_yarl_url(u) is URL(str(u), encoded=True): the same request target, host, port and scheme."""
    from test_httpx_url import EXAMPLES, random_urls
    from yarl import URL

    from scraper.http_transport import _yarl_url

    checked = 0
    for text in EXAMPLES + random_urls(5000):
        try:
            url = httpx.URL(text)
        except httpx.InvalidURL:
            continue
        if url.scheme not in ("http", "https") or not url.host:
            continue
        try:
            parsed = URL(str(url), encoded=True)
            parsed.port  # noqa: B018 - yarl checks the port here
        except ValueError as exc:
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                _yarl_url(url).port  # noqa: B018
            continue
        built = _yarl_url(url)
        assert built == parsed and str(built) == str(parsed), text
        assert (built.raw_path_qs, built.raw_host, built.port, built.scheme) == (
            parsed.raw_path_qs,
            parsed.raw_host,
            parsed.port,
            parsed.scheme,
        )
        checked += 1
    assert checked > 1000
