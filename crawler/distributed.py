"""Crawling with many processes: scrapy-redis as the shared request queue, politeness shared through redis.

A *worker* (``akhbar worker --redis URL``) runs one Scrapy crawler per source, as ``akhbar crawl``
does, but its scheduler is :class:`SharedScheduler` (scrapy-redis's, with a persisted queue and
dupefilter in redis), its spiders start nothing of their own (:class:`NoStartMiddleware`) and it stays
up when idle (:class:`WorkerLife`).  ``akhbar crawl --redis`` and ``akhbar schedule --redis`` push a
source's start requests into its queue (:mod:`crawler.dispatch`); any worker pulls them, fetches,
and everything after the fetch is the crawl's own (same pipelines, same archive: its unique
constraints decide what is stored, so two workers fetching one page store it once).

Redis keys of a source ``NAME`` (:class:`Keys`)::

    akhbar:NAME:requests    scrapy-redis priority queue (sorted set of serialised requests)
    akhbar:NAME:dupefilter  scrapy-redis request fingerprints (reset when a new crawl is seeded)
    akhbar:NAME:inflight    hash token -> serialised request, popped but not finished
    akhbar:NAME:leases      sorted set token -> lease expiry (redis clock, seconds)
    akhbar:NAME:delayed     sorted set "QUEUE_SCORE|serialised request" -> due time (redis clock): retries
                            waiting out their backoff
    akhbar:NAME:counts      hash counter -> value: what every worker counted for the current run
    akhbar:NAME:validators  hash URL -> ETag/Last-Modified of feeds and sitemaps read
    akhbar:NAME:first_error the first start URL that failed, for the run's message
    akhbar:domain:HOST:next / :holders   politeness of one host, shared by every worker

**Requests in flight are not lost.**  A worker pops a request and records it under a lease in one
Lua script (:data:`POP`); the lease is renewed while the worker lives and the request is released
once the engine is done with it - the response read, its links queued, its page stored (Scrapy's
engine keeps a request "in progress" until its items have left the pipelines).  A worker killed
outright stops renewing: when the lease runs out, any other worker puts the request back in the
queue (:data:`REQUEUE`).  A request may so be fetched twice (the dead worker may have stored it just
before dying); the archive's constraints keep one copy.

**Retries wait in redis, not in a request slot.**  A retry handed back with its due time
(``meta[NOT_BEFORE_KEY]``, see :mod:`crawler.retrywait`) leaves the worker's slots at once: it goes to the
source's ``delayed`` set in the same step as its old entry in flight is released (:data:`DELAY`), and
each worker's tending pass moves the due ones into the queue (:data:`DUE`), where any worker takes them.
A worker that dies while a retry waits loses nothing: the retry is in redis, not in its memory.

**Politeness holds across workers.**  :class:`SharedPolitenessMiddleware` takes, before each request
leaves, a place among the host's ``CONCURRENT_REQUESTS_PER_DOMAIN`` (a lease-based semaphore in redis)
and the host's next start time, ``DOWNLOAD_DELAY`` after the previous one taken by any worker (a
reservation on the redis clock).  Scrapy's own per-worker delay and AutoThrottle are off in a worker
(:func:`worker_overrides`): the shared slot is the one limit.  robots.txt is read and obeyed by each
worker.
"""
from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task

from crawler.core.errors import QueueError
from crawler.counters import STAT_PREFIX, count
from crawler.items import NOT_BEFORE_KEY, ValidatorItem
from crawler.retrywait import seconds_until_due

log = logging.getLogger(__name__)

#: Key of the request token (the request's entry in ``inflight``) in ``request.meta``.
TOKEN_KEY = "akhbar_token"
#: Default lease of a popped request, seconds (``AKHBAR_REDIS_LEASE``); renewed every third of it.
LEASE_SECONDS = 60.0


# --- keys and the connection (pure, or nearly) -----------------------------------------------


@dataclass(frozen=True)
class Keys:
    """The redis keys of one source."""

    source: str

    def _key(self, part: str) -> str:
        return f"akhbar:{self.source}:{part}"

    @property
    def queue(self) -> str:
        return self._key("requests")

    @property
    def dupefilter(self) -> str:
        return self._key("dupefilter")

    @property
    def inflight(self) -> str:
        return self._key("inflight")

    @property
    def leases(self) -> str:
        return self._key("leases")

    @property
    def delayed(self) -> str:
        return self._key("delayed")

    @property
    def counts(self) -> str:
        return self._key("counts")

    @property
    def validators(self) -> str:
        return self._key("validators")

    @property
    def first_error(self) -> str:
        return self._key("first_error")

    def per_crawl(self) -> tuple[str, ...]:
        """What a new crawl of the source starts without: last crawl's fingerprints, counts, validators."""
        return (self.dupefilter, self.counts, self.validators, self.first_error)


def domain_keys(host: str) -> tuple[str, str]:
    """(next start time, holders) keys of a host's shared politeness slot."""
    return f"akhbar:domain:{host}:next", f"akhbar:domain:{host}:holders"


def shown_url(url: str) -> str:
    """A redis URL for messages: the password left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + netloc).geturl()


def connect(url: str) -> Any:
    """A redis client of ``url``, checked with a PING; :class:`QueueError` (one line) when the driver is
    missing or the server cannot be reached."""
    try:
        import redis
    except ImportError as exc:
        raise QueueError("--redis needs the redis driver: pip install redis scrapy-redis") from exc
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except ValueError as exc:
        raise QueueError(f"not a redis URL: {shown_url(url)} ({exc})") from exc
    except redis.RedisError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise QueueError(f"cannot reach redis at {shown_url(url)}: {reason}") from exc
    return client


def worker_overrides(settings: BaseSettings | dict[str, Any], redis_url: str) -> dict[str, Any]:
    """The settings that make a crawl a worker of the shared queue at ``redis_url``.

    The politeness configured (``DOWNLOAD_DELAY``, ``CONCURRENT_REQUESTS_PER_DOMAIN``) becomes the shared
    slot's; the per-process delay, AutoThrottle and per-domain limit are lifted so that they do not hold
    a request after it took its shared slot."""
    get = settings.get
    delay = float(get("DOWNLOAD_DELAY", 1.0) or 0.0)
    per_domain = int(get("CONCURRENT_REQUESTS_PER_DOMAIN", 2) or 1)
    downloader = dict(_as_dict(get("DOWNLOADER_MIDDLEWARES", {})))
    downloader["crawler.distributed.SharedPolitenessMiddleware"] = 890
    spider_mw = dict(_as_dict(get("SPIDER_MIDDLEWARES", {})))
    spider_mw["crawler.distributed.NoStartMiddleware"] = 10
    extensions = dict(_as_dict(get("EXTENSIONS", {})))
    extensions["crawler.extensions.RunRecorder"] = None  # the dispatcher's run row counts for all workers
    extensions["crawler.distributed.SharedCounters"] = 100
    extensions["crawler.distributed.WorkerLife"] = 120
    pipelines = dict(_as_dict(get("ITEM_PIPELINES", {})))
    pipelines["crawler.pipelines.ValidatorPipeline"] = None
    pipelines["crawler.distributed.SharedValidatorPipeline"] = 310
    return {
        "REDIS_URL": redis_url,
        "SCHEDULER": "crawler.distributed.SharedScheduler",
        "SCHEDULER_PERSIST": True,
        "AKHBAR_SHARED_DELAY": delay,
        "AKHBAR_SHARED_PER_DOMAIN": per_domain,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        # never hold a request in the per-process slot once it has its shared one (CONCURRENT_REQUESTS still
        # bounds what one worker takes from the queue)
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1_000_000,
        "DOWNLOADER_MIDDLEWARES": downloader,
        "SPIDER_MIDDLEWARES": spider_mw,
        "EXTENSIONS": extensions,
        "ITEM_PIPELINES": pipelines,
    }


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value.copy_to_dict() if isinstance(value, BaseSettings) else value or {})


# --- Lua: each one step, atomic on the redis server ---------------------------------------------

#: Pop the best request of the queue and record it in flight under a lease.  KEYS: queue, inflight,
#: leases.  ARGV: token, lease seconds.  Returns the serialised request, or nil.
POP = """
local got = redis.call('ZRANGE', KEYS[1], 0, 0)
if #got == 0 then return false end
redis.call('ZREM', KEYS[1], got[1])
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('HSET', KEYS[2], ARGV[1], got[1])
redis.call('ZADD', KEYS[3], t + tonumber(ARGV[2]), ARGV[1])
return got[1]
"""

#: Put back in the queue (priority 0) the requests whose lease ran out.  KEYS: queue, inflight, leases.
#: Returns how many.
REQUEUE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', t)
for _, token in ipairs(expired) do
  local data = redis.call('HGET', KEYS[2], token)
  if data then redis.call('ZADD', KEYS[1], 0, data) end
  redis.call('HDEL', KEYS[2], token)
  redis.call('ZREM', KEYS[3], token)
end
return #expired
"""

#: Renew the leases of the tokens still in flight.  KEYS: leases.  ARGV: lease seconds, tokens...
#: Returns the tokens that are no longer there (released, or taken back by another worker).
RENEW = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local gone = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], t + tonumber(ARGV[1]), ARGV[i])
  else
    table.insert(gone, ARGV[i])
  end
end
return gone
"""

#: Put a retry aside until it is due, releasing its old entry in flight in the same step.  KEYS: delayed,
#: inflight, leases.  ARGV: member ("QUEUE_SCORE|serialised request"), seconds to wait, old token or "".
DELAY = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
if ARGV[3] ~= '' then
  redis.call('HDEL', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[3])
end
redis.call('ZADD', KEYS[1], t + tonumber(ARGV[2]), ARGV[1])
return 1
"""

#: Move the retries that are due into the queue, at their own priority.  KEYS: delayed, queue.
#: Returns how many.
DUE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t)
for _, member in ipairs(due) do
  local bar = string.find(member, '|', 1, true)
  redis.call('ZADD', KEYS[2], tonumber(string.sub(member, 1, bar - 1)), string.sub(member, bar + 1))
  redis.call('ZREM', KEYS[1], member)
end
return #due
"""

#: Start now if the host's delay since its last start (by any worker) has passed.  KEYS: next.  ARGV: delay
#: seconds.  Returns "0" when taken (the next start is then ``delay`` away), else the seconds left to wait
#: (as a string: Lua numbers are cut to integers on the way back).  Nothing is reserved ahead: a worker
#: that wakes late (its reactor busy) must ask again, so no two starts come closer than the delay.
SLOT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > t then return tostring(nxt - t) end
redis.call('SET', KEYS[1], tostring(t + tonumber(ARGV[1])), 'EX', math.ceil(tonumber(ARGV[1])) + 60)
return '0'
"""

#: Take one of the host's ``limit`` places (a lease that frees itself after ``ttl`` if never given
#: back).  KEYS: holders.  ARGV: token, limit, ttl seconds.  Returns 1 when taken, 0 when full.
ACQUIRE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], t + tonumber(ARGV[3]), ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
return 1
"""


# --- the scheduler ------------------------------------------------------------------------------


def source_of(crawler: Crawler) -> str:
    name = crawler.settings.get("AKHBAR_SOURCE")
    if not name:
        raise NotConfigured("the shared queue needs an akhbar spider (AKHBAR_SOURCE is not set)")
    return str(name)


def _scrapy_redis() -> Any:
    try:
        from scrapy_redis import scheduler
    except ImportError as exc:
        raise QueueError("--redis needs scrapy-redis: pip install redis scrapy-redis") from exc
    return scheduler


class SharedScheduler(_scrapy_redis().Scheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler on the source's keys, with requests in flight under leases.

    ``next_request`` pops and records in one step (:data:`POP`); every second (or third of the lease,
    ``AKHBAR_REDIS_LEASE``, if shorter) the requests the engine is done with are released, the others'
    leases renewed, requests of dead workers put back (:data:`REQUEUE`) and retries that are due queued
    (:data:`DUE`).  A request handed back to the scheduler (a retry, a redirect) gives up its old token as
    it is queued anew; a retry that must wait (``meta[NOT_BEFORE_KEY]``) waits in redis (:data:`DELAY`)."""

    #: Holds requests until their ``NOT_BEFORE_KEY`` time (so the retry middleware does not wait itself).
    waits_for_due = True

    crawler: Crawler
    keys: Keys
    lease: float
    held: dict[str, Request]
    loop: task.LoopingCall | None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        from scrapy_redis.dupefilter import RFPDupeFilter

        keys = Keys(source_of(crawler))
        server = connect(crawler.settings["REDIS_URL"])
        scheduler = cls(server=server, persist=True, queue_key=keys.queue,
                        queue_cls="scrapy_redis.queue.PriorityQueue",
                        dupefilter=RFPDupeFilter(server, key=keys.dupefilter))
        scheduler.stats = crawler.stats
        scheduler.crawler = crawler
        scheduler.keys = keys
        scheduler.lease = crawler.settings.getfloat("AKHBAR_REDIS_LEASE", LEASE_SECONDS)
        scheduler.held = {}
        scheduler.loop = None
        return scheduler

    def open(self, spider: Spider) -> None:
        from scrapy_redis.queue import PriorityQueue

        self.spider = spider
        self.queue = PriorityQueue(server=self.server, spider=spider, key=self.keys.queue)
        self._pop = self.server.register_script(POP)
        self._requeue = self.server.register_script(REQUEUE)
        self._renew = self.server.register_script(RENEW)
        self._delay = self.server.register_script(DELAY)
        self._due = self.server.register_script(DUE)
        self.loop = task.LoopingCall(self.tend)
        self.loop.start(min(1.0, max(0.2, self.lease / 3)), now=True)

    def close(self, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.release_finished()
        if self.held:  # stopped before they were done: back to the queue for the other workers
            pipe = self.server.pipeline()
            for token in self.held:
                pipe.zadd(self.keys.leases, {token: 0})
            pipe.execute()
            self._requeue(keys=[self.keys.queue, self.keys.inflight, self.keys.leases])
            self.held.clear()

    def enqueue_request(self, request: Request) -> bool:
        old = request.meta.pop(TOKEN_KEY, None)
        wait = seconds_until_due(request)
        if wait > 0:  # a retry waiting out its backoff: aside in redis, its old entry released with it
            request.meta.pop(NOT_BEFORE_KEY, None)
            data = self.queue._encode_request(request)
            member = f"{-request.priority}|".encode() + (data if isinstance(data, bytes) else data.encode())
            self._delay(keys=[self.keys.delayed, self.keys.inflight, self.keys.leases], args=[member, wait, old or ""])
            if old is not None:
                self.held.pop(old, None)
            if self.stats:
                self.stats.inc_value("scheduler/delayed/redis")
            return True
        if old is not None:  # a retry or redirect of a request in flight: its old entry is done
            self.release([old])
        if not request.dont_filter and self.df.request_seen(request):
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        token = uuid.uuid4().hex
        data = self._pop(keys=[self.keys.queue, self.keys.inflight, self.keys.leases], args=[token, self.lease])
        if not data:
            return None
        request: Request = self.queue._decode_request(data)
        request.meta[TOKEN_KEY] = token
        self.held[token] = request
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return len(self) > 0

    # -- leases ------------------------------------------------------------------------------
    def in_progress(self) -> set[Request] | None:
        """The requests the engine has not finished with (its slot's), ``None`` when not known."""
        slot = getattr(self.crawler.engine, "_slot", None)
        return getattr(slot, "inprogress", None)

    def release(self, tokens: list[str]) -> None:
        if not tokens:
            return
        pipe = self.server.pipeline()
        pipe.hdel(self.keys.inflight, *tokens)
        pipe.zrem(self.keys.leases, *tokens)
        pipe.execute()
        for token in tokens:
            self.held.pop(token, None)

    def wake(self) -> None:
        """Have the engine look at the queue now: an idle engine looks only every five seconds, and
        another worker may have queued requests meanwhile."""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None and len(self):
            nextcall.schedule()

    def release_finished(self) -> None:
        busy = self.in_progress()
        if busy is None:
            return
        self.release([token for token, request in self.held.items() if request not in busy])

    def tend(self) -> None:
        """Release what is done, renew what is not, take back what dead workers left."""
        try:
            self.release_finished()
            if self.held:
                gone = self._renew(keys=[self.keys.leases], args=[self.lease, *self.held])
                for token in gone or []:
                    self.held.pop(token.decode() if isinstance(token, bytes) else token, None)
            back = self._requeue(keys=[self.keys.queue, self.keys.inflight, self.keys.leases])
            self._due(keys=[self.keys.delayed, self.keys.queue])
            self.wake()
            if back:
                log.info("%s: %d requests of a worker that stopped renewing put back in the queue",
                         self.keys.source, back)
        except Exception as exc:  # noqa: BLE001 - redis briefly away: the next pass tries again
            log.warning("%s: could not tend the requests in flight: %s", self.keys.source, exc)


# --- shared politeness ------------------------------------------------------------------------


class SharedPolitenessMiddleware:
    """Before a request leaves: a place among the host's ``AKHBAR_SHARED_PER_DOMAIN`` requests at a time
    and a start at least ``AKHBAR_SHARED_DELAY`` seconds after the host's previous one, across every
    worker on the redis at ``REDIS_URL``.  The place is given back with the response or the error (and
    frees itself after ``DOWNLOAD_TIMEOUT`` plus a minute if a worker dies holding it)."""

    #: How often a request waiting for a place looks again, seconds.
    POLL = 0.05

    def __init__(self, crawler: Crawler, server: Any) -> None:
        self.crawler = crawler
        self.server = server
        self.delay = crawler.settings.getfloat("AKHBAR_SHARED_DELAY", 1.0)
        self.limit = max(1, crawler.settings.getint("AKHBAR_SHARED_PER_DOMAIN", 2))
        self.ttl = crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 180) + 60
        self._slot = server.register_script(SLOT)
        self._acquire = server.register_script(ACQUIRE)
        self.places: dict[int, tuple[str, str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPolitenessMiddleware:
        url = crawler.settings.get("REDIS_URL")
        if not url:
            raise NotConfigured("no REDIS_URL: politeness is each crawl's own")
        return cls(crawler, connect(url))

    async def process_request(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        next_key, holders = domain_keys(host)
        token = uuid.uuid4().hex
        while not self._acquire(keys=[holders], args=[token, self.limit, self.ttl]):
            await self._sleep(self.POLL)
        self.places[id(request)] = (holders, token)
        while (wait := float(self._slot(keys=[next_key], args=[self.delay]))) > 0:
            await self._sleep(wait)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        self._give_back(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request)
        return None

    def _give_back(self, request: Request) -> None:
        place = self.places.pop(id(request), None)
        if place is not None:
            self.server.zrem(*place)

    async def _sleep(self, seconds: float) -> None:
        from twisted.internet import reactor  # here: not before Scrapy installs its reactor

        await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


# --- what a worker is besides its scheduler ---------------------------------------------------


class NoStartMiddleware:
    """A worker's spider starts nothing itself: its source's start requests are seeded into redis."""

    async def process_start(self, start: Any) -> Any:
        if False:  # an async generator that yields nothing (and does not read the spider's start)
            yield None


class WorkerLife:
    """Keeps a worker's spider open while its queue is empty (it waits for the next seeding)."""

    def __init__(self, crawler: Crawler) -> None:
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerLife:
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured("not a worker")
        return cls(crawler)

    def spider_idle(self, spider: Spider) -> None:
        raise DontCloseSpider("a worker waits for requests")


def _delta(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """What was counted between two snapshots of the counters (pure)."""
    return {key: value - before.get(key, 0) for key, value in now.items() if value != before.get(key, 0)}


class SharedCounters:
    """Adds what this worker counted (Scrapy stats under ``akhbar/``) to the source's ``counts`` hash every
    ``AKHBAR_HEARTBEAT_SECONDS``, and the first failed start URL to ``first_error``: the dispatcher
    writes them into the run's row (:mod:`crawler.dispatch`)."""

    def __init__(self, crawler: Crawler, server: Any) -> None:
        self.crawler = crawler
        self.server = server
        self.keys = Keys(source_of(crawler))
        self.sent: dict[str, int] = {}
        self.interval = crawler.settings.getfloat("AKHBAR_HEARTBEAT_SECONDS", 2.0)
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCounters:
        url = crawler.settings.get("REDIS_URL")
        if not url:
            raise NotConfigured("not a worker")
        return cls(crawler, connect(url))

    def spider_opened(self, spider: Spider) -> None:
        self.loop = task.LoopingCall(self.flush)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.flush()

    def snapshot(self) -> dict[str, int]:
        stats = self.crawler.stats.get_stats() if self.crawler.stats is not None else {}
        return {key[len(STAT_PREFIX):]: int(value) for key, value in stats.items()
                if key.startswith(STAT_PREFIX) and isinstance(value, (int, float))}

    def flush(self) -> None:
        now = self.snapshot()
        delta = _delta(now, self.sent)
        first = getattr(self.crawler.spider, "first_error", None)
        try:
            pipe = self.server.pipeline()
            for key, value in delta.items():
                pipe.hincrby(self.keys.counts, key, value)
            if first:
                pipe.set(self.keys.first_error, first, nx=True)
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 - sent with the next flush
            log.warning("%s: could not send the counters: %s", self.keys.source, exc)
            return
        self.sent = now


class SharedValidatorPipeline:
    """Keeps the ETag / Last-Modified of each feed or sitemap read in the source's ``validators`` hash;
    the dispatcher stores them once the crawl has ended cleanly (:func:`crawler.dispatch.settle`)."""

    def __init__(self, crawler: Crawler, server: Any) -> None:
        self.crawler = crawler
        self.server = server
        self.keys = Keys(source_of(crawler))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedValidatorPipeline:
        url = crawler.settings.get("REDIS_URL")
        if not url:
            raise NotConfigured("not a worker")
        return cls(crawler, connect(url))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ValidatorItem):
            value = json.dumps({"etag": item.etag, "last_modified": item.last_modified})
            try:
                self.server.hset(self.keys.validators, item.url, value)
            except Exception as exc:  # noqa: BLE001 - without them the next crawl reads the feed again
                log.warning("could not keep the validators of %s: %s", item.url, exc)
                count(self.crawler, "errors/queue")
        return item

