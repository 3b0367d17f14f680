"""The Fetcher on httpx's default transport, on its own (aiohttp's), and a bare asyncio client: CPU per request.

The same article page of a simulated portal (server in a child process) is fetched N times at
concurrency C by each client, the three taking turns `--rounds` times; CPU is this process's own
(the server's excluded). The two Fetcher rows are the whole Fetcher.fetch (httpx client, cookies,
politeness gate, FetchResult); only the transport under httpx differs. The bare client is the floor:
one keep-alive connection per task, a Content-Length body, no parsing beyond that.
    .venv/bin/python benchmarks/http_client_bench.py [--requests 3000] [--concurrency 8] [--rounds 2]

Measured 2026-12-05 (2 cores, loaded by other work; `--rounds 3`, best of 3, ms CPU per request):
    Fetcher, httpx default transport (httpcore + h11 + anyio)   0.675-0.700
    Fetcher, httpx default transport as main tuned it (the
      http_pool.py patch, before this transport; same machine)  0.51-0.64
    Fetcher, aiohttp transport (scraper/http_transport.py)      0.277-0.291
    bare asyncio                                                 0.016
Where the aiohttp-transport Fetcher's ~0.28 ms goes (each layer timed alone, same run): aiohttp's
own ClientSession ~0.08 ms; httpx.Request + our transport's glue ~0.07 ms (mostly httpx's URL
parsing); httpx.AsyncClient's build_request/send/aiter_bytes/aclose ~0.13 ms; the Fetcher itself
(gate, FetchResult) next to nothing. A transport of our own on asyncio Protocols + httptools could
save at most aiohttp's part less its own, a fraction of the 0.28 ms; the rest is httpx's.
Later the same day (issue 13, perf-http; side by side with main, best of 3): aiohttp transport 0.277 ->
0.226, httpx default transport 0.647 -> 0.589: the request's httpx.URL parsed once per origin
(scraper/httpx_url.py), aiohttp's URL built from httpx's parts, its timeout made once, no per-request
skip list for a GET. This bench asks for one URL over and over; a crawl's URLs are all different (each
parse a miss), where the saving is larger (~0.03-0.04 ms a request).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time
from urllib.parse import urlsplit


def serve(conn) -> None:
    from simulator import PortalSimulator

    with PortalSimulator(seed=1, docs=50) as sim:
        conn.send(sim.expected_documents()[0]["urls"][0])
        conn.recv()


async def with_fetcher(url: str, n: int, conc: int, transport=None) -> int:
    """`transport`: None for the Fetcher's own, else a factory from httpx.Limits."""
    from scraper.fetch import Fetcher, FetchPolicy

    policy = FetchPolicy(user_agent="bench", rate=0, concurrency=conc, obey_robots=False)
    got = 0
    async with Fetcher(policy, transport=transport) as fetcher:

        async def one(k: int) -> None:
            nonlocal got
            for _ in range(k):
                body = (await fetcher.fetch(url)).body
                got += len(body)

        await asyncio.gather(*(one(n // conc) for _ in range(conc)))
    return got


async def bare(url: str, n: int, conc: int) -> int:
    """One keep-alive connection per task; Content-Length bodies only (what the simulator sends)."""
    p = urlsplit(url)
    request = (
        f"GET {p.path or '/'}{'?' + p.query if p.query else ''} HTTP/1.1\r\nHost: {p.netloc}\r\n"
        "User-Agent: bench\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    got = 0

    async def one(k: int) -> None:
        nonlocal got
        reader, writer = await asyncio.open_connection(p.hostname, p.port or 80)
        for _ in range(k):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            body = await reader.readexactly(length)
            got += len(body)
        writer.close()

    await asyncio.gather(*(one(n // conc) for _ in range(conc)))
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2, help="turns each client takes")
    args = ap.parse_args()
    from loguru import logger

    logger.remove()
    parent, child = mp.Pipe()
    proc = mp.Process(target=serve, args=(child,), daemon=True)
    proc.start()
    url = parent.recv()
    import httpx

    clients = {
        "Fetcher, httpx default transport": lambda u, n, c: with_fetcher(
            u, n, c, lambda limits: httpx.AsyncHTTPTransport(limits=limits)
        ),
        "Fetcher, aiohttp transport": with_fetcher,
        "bare asyncio": bare,
    }
    cpu_ms: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(args.rounds):
        for name, client in clients.items():
            cpu0, t0 = time.process_time(), time.perf_counter()
            size = asyncio.run(client(url, args.requests, args.concurrency))
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            cpu_ms[name].append(cpu / args.requests * 1000)
            print(
                f"{name:34} {args.requests} requests ({size // args.requests} B each): "
                f"{args.requests / wall:6.0f} req/s, {cpu_ms[name][-1]:.3f} ms CPU per request"
            )
    best = {name: min(v) for name, v in cpu_ms.items()}
    floor = best["bare asyncio"]
    print(f"best of {args.rounds}, ms CPU per request (x the bare client):")
    for name, ms in best.items():
        print(f"  {name:34} {ms:.3f}  ({ms / floor:.1f}x)")
    parent.send("stop")
    proc.join(timeout=10)


if __name__ == "__main__":
    main()
