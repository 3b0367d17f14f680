"""Config validation: every bad input is a ConfigError naming the file and the key."""

from pathlib import Path

import pytest

from scraper.config import ConfigError, load_config, parse_config, parse_schedule

GOOD = """
[settings]
data_dir = "d"
timezone = "Asia/Shanghai"

[[sources]]
name = "kaihua"
start_urls = ["http://www.kaihua.gov.cn/col/col1229402456/index.html"]
schedule = "0 */6 * * *"
"""


def parse(text):
    return parse_config(text, "x.toml", Path("/cfg"), None)


def test_good_config_resolves_paths_relative_to_the_file():
    cfg = parse(GOOD)
    assert cfg.sources[0].rate == 1.0 and cfg.sources[0].concurrency == 2 and cfg.sources[0].obey_robots
    assert cfg.data_dir == Path("/cfg/d")
    assert cfg.database_url == "sqlite:////cfg/d/xxgk.db"
    assert cfg.archive_url == "file:///cfg/d/archive"


def test_env_urls_win(monkeypatch):
    monkeypatch.setenv("XXGK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("XXGK_ARCHIVE_URL", "file:///elsewhere")
    cfg = parse(GOOD)
    assert cfg.database_url == "postgresql+psycopg://u@h/db"
    assert cfg.archive_url == "file:///elsewhere"


def test_relative_sqlite_and_file_urls_follow_the_config_file():
    cfg = parse('[settings]\ndatabase_url = "sqlite:///data/x.db"\narchive_url = "file://data/a"\n')
    assert cfg.database_url == "sqlite:////cfg/data/x.db"
    assert cfg.archive_url == "file:///cfg/data/a"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[settings]\nfoo = 1\n", "x.toml: settings.foo: unknown key"),
        ('[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nbogus = 2\n', "sources[0].bogus: unknown key"),
        ('[[sources]]\nname = "a"\nstart_urls = ["ftp://h/x"]\n', "bad URL 'ftp://h/x'"),
        ('[[sources]]\nname = "a"\nstart_urls = ["not a url"]\n', "bad URL"),
        ('[[sources]]\nname = "a"\nstart_urls = []\n', "sources[0].start_urls"),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nschedule = "61 * * * *"\n',
            "sources[0].schedule: bad cron",
        ),
        ('[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nschedule = "sometimes"\n', "neither a 5-field cron"),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\n[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\n',
            "duplicate source name 'a'",
        ),
        ('[[sources]]\nname = "Bad Name"\nstart_urls = ["http://h/"]\n', "must be a slug"),
        ('[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nfamily = "wordpress"\n', "sources[0].family"),
        ('[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nrate = -1\n', "sources[0].rate"),
        ('[settings]\ntimezone = "Mars/Olympus"\n', "unknown timezone"),
        ("[settings]\nmax_attachment_bytes = 0\n", "settings.max_attachment_bytes"),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nfamily = "trs-static"\nselectors = {item = "li"}\n',
            "sources[0]: selectors are for the generic family, not 'trs-static'",
        ),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nselectors = {item = "ul >> li["}\n',
            "sources[0].selectors.item: not a valid CSS selector: 'ul >> li['",
        ),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nselectors = {link = "a"}\n',
            "sources[0].selectors.item",
        ),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nselectors = {item = "li", nxt = "a"}\n',
            "sources[0].selectors.nxt: unknown key",
        ),
        (
            '[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nhosts = ["https://www.gov.cn/"]\n',
            "sources[0].hosts: bad host 'https://www.gov.cn/'",
        ),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_bad_config_is_a_clear_error(text, message):
    with pytest.raises(ConfigError) as exc:
        parse(text)
    assert message in str(exc.value)
    assert "x.toml" in str(exc.value)


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="unreadable"):
        load_config(bad)


def test_no_config_means_the_bundled_catalog(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XXGK_CONFIG", raising=False)
    cfg = load_config()
    assert cfg.path is None
    assert "kaihua" in [s.name for s in cfg.sources]


def test_schedules():
    assert parse_schedule("every 30m") == ("interval", 1800)
    assert parse_schedule("every 10s") == ("interval", 10)
    kind, trigger = parse_schedule("0 */6 * * *", "Asia/Shanghai")
    assert kind == "cron" and str(trigger.timezone) == "Asia/Shanghai"


def test_family_options():
    cfg = parse(
        '[[sources]]\nname = "a"\nstart_urls = ["http://h/list.htm"]\nfamily = "generic"\n'
        'selectors = {item = "ul.news > li", date = "span.date", next = "a.next"}\n'
        'hosts = ["Files.Example.gov.cn"]\nattachments = false\n'
    )
    src = cfg.sources[0]
    assert src.selectors.item == "ul.news > li" and src.selectors.link is None and src.selectors.next == "a.next"
    assert src.hosts == ["files.example.gov.cn"] and src.attachments is False
    assert cfg.settings.max_attachment_bytes == 100 * 1024 * 1024
    plain = parse('[[sources]]\nname = "a"\nstart_urls = ["http://h/"]\nselectors = {item = "li"}\n').sources[0]
    assert plain.family is None and plain.selectors.item == "li"  # selectors imply nothing else


def test_engine_is_validated_and_queue_needs_postgresql(monkeypatch):
    assert parse(GOOD).settings.engine == "local"
    with pytest.raises(ConfigError, match="settings.engine"):
        parse(GOOD.replace("[settings]", '[settings]\nengine = "celery"'))
    with pytest.raises(ConfigError, match="'queue' needs a PostgreSQL database_url"):
        parse(GOOD.replace("[settings]", '[settings]\nengine = "queue"'))
    monkeypatch.setenv("XXGK_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert parse(GOOD.replace("[settings]", '[settings]\nengine = "queue"')).settings.engine == "queue"
    monkeypatch.setenv("XXGK_ENGINE", "queue")
    assert parse(GOOD).settings.engine == "queue"
    monkeypatch.setenv("XXGK_ENGINE", "rq")
    with pytest.raises(ConfigError, match="XXGK_ENGINE"):
        parse(GOOD)
