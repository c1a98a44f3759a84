"""The parts of the distributed crawl one at a time: the settings that make a worker, the pure helpers,
the one-line errors of a missing driver or an unreachable redis, and each Lua step on a real redis-server."""
from __future__ import annotations

import socket
import sys
import time

import pytest
from click.testing import CliRunner
from scrapy.settings import Settings

from crawler.cli import main
from crawler.dispatch import run_counters
from crawler.distributed import (
    ACQUIRE,
    POP,
    RENEW,
    REQUEUE,
    SLOT,
    Keys,
    _delta,
    domain_keys,
    shown_url,
    worker_overrides,
)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when this returns: nothing listens there


def test_a_worker_keeps_the_configured_politeness_as_the_shared_one_and_lifts_its_own():
    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("DOWNLOAD_DELAY", 1.5)
    over = worker_overrides(settings, "redis://127.0.0.1:6379/0")
    assert (over["AKHBAR_SHARED_DELAY"], over["AKHBAR_SHARED_PER_DOMAIN"]) == (1.5, 2)
    assert over["DOWNLOAD_DELAY"] == 0 and over["AUTOTHROTTLE_ENABLED"] is False
    assert over["CONCURRENT_REQUESTS_PER_DOMAIN"] > settings.getint("CONCURRENT_REQUESTS")
    assert over["SCHEDULER"] == "crawler.distributed.SharedScheduler" and over["SCHEDULER_PERSIST"] is True
    assert over["EXTENSIONS"]["crawler.extensions.RunRecorder"] is None
    assert over["ITEM_PIPELINES"]["crawler.pipelines.ValidatorPipeline"] is None
    assert over["ITEM_PIPELINES"]["crawler.pipelines.IngestPipeline"] == 300  # after the fetch: unchanged
    assert over["DOWNLOADER_MIDDLEWARES"]["crawler.distributed.SharedPolitenessMiddleware"] > \
        over["DOWNLOADER_MIDDLEWARES"]["crawler.middlewares.ConditionalGetMiddleware"]


def test_keys_of_a_source_and_a_host():
    keys = Keys("lbci")
    assert keys.queue == "akhbar:lbci:requests" and keys.inflight == "akhbar:lbci:inflight"
    assert keys.queue not in keys.per_crawl() and keys.dupefilter in keys.per_crawl()
    assert domain_keys("www.example.org") == ("akhbar:domain:www.example.org:next",
                                              "akhbar:domain:www.example.org:holders")


def test_counts_sent_are_the_difference_and_become_run_counters():
    assert _delta({"pages_fetched": 5, "bytes": 10, "errors/http_404": 1}, {"pages_fetched": 3, "bytes": 10}) == \
        {"pages_fetched": 2, "errors/http_404": 1}
    counters = run_counters({"pages_fetched": 7, "articles_new": 3, "errors/timeout": 2, "start_ok": 1})
    assert counters["pages_fetched"] == 7 and counters["articles_new"] == 3 and counters["not_modified"] == 0
    assert counters["errors"] == {"timeout": 2} and "start_ok" not in counters


def test_a_password_is_not_shown():
    assert shown_url("redis://:secret@host:6379/0") == "redis://:***@host:6379/0"
    assert shown_url("redis://user:secret@host/0") == "redis://user:***@host/0"
    assert shown_url("redis://host:6379/0") == "redis://host:6379/0"


@pytest.mark.parametrize("command", [["crawl", "--redis"], ["worker", "--redis"], ["schedule", "--redis"]])
def test_an_unreachable_redis_is_one_line(tmp_path, command):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "x"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n', encoding="utf-8")
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    result = CliRunner().invoke(main, [*command, url, "--sources", str(sources), "--db", f"sqlite:///{tmp_path}/a.db"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"akhbar: cannot reach redis at {url}"), result.output


def test_a_missing_redis_driver_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` raises ImportError
    sources = tmp_path / "sources.toml"
    sources.write_text('[[sources]]\nname = "x"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["crawl", "--redis", "redis://127.0.0.1:6379/0", "--sources", str(sources),
                                       "--db", f"sqlite:///{tmp_path}/a.db"])
    assert result.exit_code == 1
    assert result.output.strip() == "akhbar: --redis needs the redis driver: pip install redis scrapy-redis"


# --- the Lua steps, on a real redis-server -------------------------------------------------------


@pytest.fixture
def client(redis_url):
    import redis

    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.mark.e2e
def test_a_popped_request_is_held_under_a_lease_and_put_back_when_it_runs_out(client):
    keys = ["q", "inflight", "leases"]
    client.zadd("q", {b"second": 1, b"first": 0})
    pop, requeue, renew = client.register_script(POP), client.register_script(REQUEUE), client.register_script(RENEW)
    assert pop(keys=keys, args=["t1", 0.3]) == b"first"
    assert client.zcard("q") == 1 and client.hget("inflight", "t1") == b"first"
    assert requeue(keys=keys) == 0  # the lease runs
    time.sleep(0.2)
    assert renew(keys=["leases"], args=[0.3, "t1", "gone"]) == [b"gone"]  # renewed; "gone" is not held
    time.sleep(0.2)
    assert requeue(keys=keys) == 0  # still within the renewed lease
    time.sleep(0.25)
    assert requeue(keys=keys) == 1  # its holder stopped renewing: back in the queue
    assert client.hlen("inflight") == 0 and client.zcard("leases") == 0
    assert sorted(client.zrange("q", 0, -1)) == [b"first", b"second"]
    assert pop(keys=["empty", "inflight", "leases"], args=["t2", 1]) is None


@pytest.mark.e2e
def test_a_host_slot_opens_once_per_delay_for_everyone(client):
    slot = client.register_script(SLOT)
    assert float(slot(keys=["next"], args=[0.3])) == 0  # taken
    wait = float(slot(keys=["next"], args=[0.3]))  # by anyone else: not before the delay has passed
    assert 0.2 < wait <= 0.3
    assert float(slot(keys=["next"], args=[0.3])) > 0  # asking again does not take it either
    time.sleep(wait + 0.01)
    assert float(slot(keys=["next"], args=[0.3])) == 0


@pytest.mark.e2e
def test_a_host_has_at_most_its_limit_of_requests_at_once(client):
    acquire = client.register_script(ACQUIRE)
    assert acquire(keys=["holders"], args=["a", 2, 10]) == 1
    assert acquire(keys=["holders"], args=["b", 2, 10]) == 1
    assert acquire(keys=["holders"], args=["c", 2, 10]) == 0
    client.zrem("holders", "a")  # given back
    assert acquire(keys=["holders"], args=["c", 2, 10]) == 1
    assert acquire(keys=["holders"], args=["d", 2, 0.1]) == 0
    client.zadd("holders", {"b": 0})  # a holder that died: its place frees itself when its lease is over
    assert acquire(keys=["holders"], args=["d", 2, 10]) == 1
