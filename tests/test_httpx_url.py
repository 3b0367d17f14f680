"""scraper.httpx_url.request_url: the same httpx.URL as httpx's own parse, or the same error."""

import random

import httpx
import pytest

from scraper.httpx_url import _PLAIN, request_url

EXAMPLES = [
    "http://www.kaihua.gov.cn/art/2024/3/5/art_1229_123.html",
    "https://XXGK.Example.GOV.cn:443/zfxxgk/index_1.html?a=1&b=%E4%B8%AD#top",
    "HTTP://127.0.0.1:8080/col/col123/index.html?uid=1&pageNum=2",
    "http://127.0.0.1:80/",
    "http://h.cn",
    "http://h.cn?",
    "http://h.cn/#",
    "http://h.cn/a/./b/../c/%zz%41/?q=a/b?c#f?g",
    "http://user:p%40ss@h.cn:8000/x",
    "http://h.cn/a b",  # quoted by httpx
    "http://h.cn/政府/文件.pdf",
    "http://政府.cn/a",
    "http://h.cn:99999999/a",  # httpx.InvalidURL for the port
    "http://h.cn:x/a",
    "http://999.1.1.1/a",  # not an IPv4 address
    "http://01.1.1.1/a",
    "http://[::1]:8000/a",
    "http://h.cn/a\tb",  # control character
    "http://h.cn/{x}|`^[]\\",
    "https://h.cn/a?x={y}&z=`#`{}",
    "ftp://h.cn/a",
    "http:///a",
]


def parse(url: str):
    try:
        return httpx.URL(url)._uri_reference
    except httpx.InvalidURL as exc:
        return ("InvalidURL", str(exc))


def fast(url: str):
    try:
        return request_url(url)._uri_reference
    except httpx.InvalidURL as exc:
        return ("InvalidURL", str(exc))


@pytest.mark.parametrize("url", EXAMPLES)
def test_examples(url):
    assert fast(url) == parse(url)


def test_fast_path_taken_for_plain_urls():
    assert _PLAIN.fullmatch(EXAMPLES[0]) and _PLAIN.fullmatch(EXAMPLES[1]) and _PLAIN.fullmatch(EXAMPLES[7])
    assert not _PLAIN.fullmatch("http://h.cn/a b") and not _PLAIN.fullmatch("http://h.cn/a\tb")
    url = request_url(EXAMPLES[1])
    assert str(url) == "https://xxgk.example.gov.cn/zfxxgk/index_1.html?a=1&b=%E4%B8%AD#top"
    assert url == httpx.URL(EXAMPLES[1]) and url.host == "xxgk.example.gov.cn" and url.port is None


def random_urls(n: int) -> list[str]:
    """URLs of every shape: odd hosts and ports, dot segments, escapes, characters httpx quotes or refuses."""
    rng = random.Random(13)
    alphabet = [chr(i) for i in range(0x20, 0x7F)] + ["\t", "\x7f", "é", "中"]
    hosts = ["h.cn", "H.Cn", "127.0.0.1", "1.2.3.256", "h.cn:8080", "h.cn:80", "u@h.cn", "[::1]", "h.cn:", ""]
    urls = []
    for _ in range(n):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randrange(30)))
        seg = "/".join(rng.choice(["a", ".", "..", "%2e", "b.html", ""]) for _ in range(rng.randrange(5)))
        urls.append(f"{rng.choice(['http', 'https', 'HTTPS', 'ftp'])}://{rng.choice(hosts)}/{seg}{tail}")
    return urls


def test_random_urls():
    for url in random_urls(20000):
        assert fast(url) == parse(url), url
