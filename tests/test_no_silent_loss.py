"""No silent loss: a crawl that could not keep what it read says so, and the next crawl makes up for it.

Live crawls of the local fixture site (127.0.0.1) through `akhbar crawl` in a subprocess, with the
archive made unwritable half way: another connection holds the SQLite file's write lock
(``BEGIN EXCLUSIVE``), or the file system under it is full.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest
from sitefixture import FixtureSite
from waiting import wait_until

from tests.test_crawl import FAST, REPO, crawl, stats

pytestmark = pytest.mark.e2e

#: A locked archive makes each write wait this long (ms) before it gives up, instead of 30 s.
SHORT_BUSY = ["--set", "AKHBAR_DB_BUSY_TIMEOUT_MS=300"]


def _validators(db: str) -> list[str]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        return [url for (url,) in conn.execute("SELECT url FROM http_validators")]


def _stderr_lines(child: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in child.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _crawl_with_lock_until_a_store_fails(site: FixtureSite, sources: Path, db: str, warc: Path):
    """A crawl during which the archive is locked from the first article fetch until a page failed to store."""
    path = db.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    locked = threading.Event()
    record = site.record

    def lock_at_first_article(entry):
        if site.page_at(entry.path) is not None and not locked.is_set():
            holder.execute("BEGIN EXCLUSIVE")
            locked.set()
        record(entry)

    site.record = lock_at_first_article
    argv = [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources),
            "--db", db, "--warc-dir", str(warc), "--json", *FAST, *SHORT_BUSY]
    with subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        lines, seen = _stderr_lines(child), []
        try:
            while (line := lines.get(timeout=120)) is not None:
                seen.append(line)
                if "could not store" in line:
                    break
        finally:
            if locked.is_set():
                holder.execute("ROLLBACK")
            holder.close()
            site.record = record
        out = child.stdout.read()
        child.wait(timeout=120)
        while (line := lines.get(timeout=30)) is not None:
            seen.append(line)
    return child.returncode, out, "".join(seen)


def test_pages_that_could_not_be_stored_fail_the_run_and_are_fetched_next_time(fixture_site, tmp_path):
    site = fixture_site
    sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
    db, warc = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "warc"
    code, out, err = _crawl_with_lock_until_a_store_fails(site, sources, db, warc)
    assert "could not store" in err and "database is locked" in err, err
    (run,) = json.loads(out)
    assert run["errors"].get("store", 0) >= 1
    assert (code, run["outcome"]) == (1, "failed"), err
    assert "lost" in err  # the one line that says why the run failed
    kept = stats(db)["articles"]
    assert kept < len(site.article_urls())
    assert _validators(db) == []  # the next crawl must read the feeds and sitemaps again

    site.reset_log()
    code, (second,) = crawl(sources, db, warc)
    assert (code, second["outcome"]) == (0, "ok")
    assert second["articles_new"] == len(site.article_urls()) - kept
    assert stats(db)["articles"] == len(site.article_urls())
    assert _validators(db)  # a clean run keeps them


def _mount_small_tmpfs(where: Path) -> None:
    """A 1 MB tmpfs at ``where`` (root only); skip the test where mounting is not permitted."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root and mount(8)")
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount not permitted here: {done.stderr.strip()}")


def _leave_room(disk: Path, db: str, room: int) -> None:
    """Create the archive's schema on ``disk``, then fill the disk up to ``room`` free bytes, so
    the crawl runs out of space however its writes are batched."""
    from storage.db import open_engine

    open_engine(db).dispose()
    free = shutil.disk_usage(disk).free
    if free > room:
        (disk / "filler").write_bytes(b"\0" * (free - room))


def test_a_full_disk_fails_the_run_and_the_pages_are_fetched_next_time(fixture_site, tmp_path):
    site = fixture_site
    small = tmp_path / "small"
    _mount_small_tmpfs(small)
    try:
        sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
        db, warc = f"sqlite:///{small / 'archive.db'}", tmp_path / "warc"  # the WARC files have room
        _leave_room(small, db, 96 * 1024)  # room for the schema and a page or two, not for the site
        code, (run,) = crawl(sources, db, warc)
        assert run["errors"].get("store", 0) >= 1, run
        assert (code, run["outcome"]) == (1, "failed")
        assert _validators(db) == []
        kept = stats(db)["articles"]
        assert kept < len(site.article_urls())

        moved = tmp_path / "archive.db"  # room again: the archive moves to the big disk
        shutil.copy(small / "archive.db", moved)
        for extra in ("-wal", "-shm"):
            if (small / f"archive.db{extra}").exists():
                shutil.copy(small / f"archive.db{extra}", tmp_path / f"archive.db{extra}")
        db = f"sqlite:///{moved}"
        code, (second,) = crawl(sources, db, warc)
        assert (code, second["outcome"]) == (0, "ok")
        assert stats(db)["articles"] == len(site.article_urls())
    finally:
        subprocess.run(["umount", str(small)], check=False)


def _runs(db: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", "from crawler.cli import main; main()", "runs", "--db", db, "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_killed_manual_crawl_is_marked_died_by_the_next_command(fixture_site, tmp_path):
    site = fixture_site
    sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
    db, warc = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "warc"
    slow = ["--set", "DOWNLOAD_DELAY=2", "--set", "AUTOTHROTTLE_ENABLED=false"]
    argv = [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources),
            "--db", db, "--warc-dir", str(warc), *slow]
    with subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as child:
        try:
            wait_until(lambda: site.log or child.poll() is not None, 60, "the crawl's first request")
            assert child.poll() is None
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
    (run,) = _runs(db)
    assert run["outcome"] == "died" and "vanished" in run["message"], run
    assert run["finished_at"]


def _run_rows(db: str) -> int:
    try:
        with closing(sqlite3.connect(db.removeprefix("sqlite:///"), timeout=30)) as conn:
            return conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
    except sqlite3.OperationalError:  # no schema yet
        return 0


def test_runs_are_created_as_their_crawls_start_not_up_front(fixture_site, tmp_path):
    site = fixture_site
    sources = tmp_path / "sources.toml"
    one = site.write_sources(tmp_path / "one.toml", name="first").read_text(encoding="utf-8")
    sources.write_text(one + one.replace('"first"', '"second"') + one.replace('"first"', '"third"'), encoding="utf-8")
    db, warc = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "warc"
    argv = [sys.executable, "-c", "from crawler.cli import main; main()", "crawl", "--sources", str(sources),
            "--db", db, "--warc-dir", str(warc), "--json", *FAST, "--set", "AKHBAR_CONCURRENT_SOURCES=1"]
    with subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            wait_until(lambda: site.log or child.poll() is not None, 60, "the first source's first request")
            assert _run_rows(db) == 1  # the first source's; the others are not started
            out, err = child.communicate(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
    runs = json.loads(out)
    assert [r["source"] for r in runs] == ["first", "second", "third"], err
    assert [r["outcome"] for r in runs] == ["ok"] * 3 and child.returncode == 0
    assert _run_rows(db) == 3


def test_an_article_that_could_not_be_fetched_is_asked_for_again_next_time(fixture_site, tmp_path):
    site = fixture_site  # one of its articles answers 503 once before it recovers
    sources = site.write_sources(tmp_path / "sources.toml", timezone="Africa/Cairo")
    db, warc = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "warc"
    code, (run,) = crawl(sources, db, warc, "--set", "RETRY_TIMES=0")
    assert run["errors"].get("http_503") == 1 and run["articles_new"] == len(site.article_urls()) - 1
    assert _validators(db) == []  # else the next crawl gets 304s and never asks for that page again
    code, (second,) = crawl(sources, db, warc, "--set", "RETRY_TIMES=0")
    assert (code, second["outcome"], second["articles_new"]) == (0, "ok", 1)
    assert _validators(db)


def test_a_run_whose_end_cannot_be_written_is_reported_failed_not_a_traceback(tmp_path):
    """The archive refuses the run's last write (a full disk, a read-only or locked file): the crawl's
    report still says what became of the run, as ``failed`` with the reason and its counts, and the
    row is left ``running`` for the next command to settle as ``died``."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from crawler.crawl import _settled_run
    from storage.db import open_engine
    from storage.runs import get_run, start_run

    path = tmp_path / "archive.db"
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        run_id = start_run(session, "outlet")
        session.commit()
    engine.dispose()
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        report = _settled_run(read_only, "outlet", run_id, ("ok", "3 pages"), "manual",
                              {"pages_fetched": 3, "articles_new": 2, "errors": {"http_404": 1}})
    finally:
        read_only.dispose()
    assert report["outcome"] == "failed" and report["run_id"] == run_id
    assert "could not be written to the archive" in report["message"] and "readonly" in report["message"]
    assert (report["pages_fetched"], report["articles_new"]) == (3, 2)
    assert report["errors"] == {"http_404": 1, "store": 1}
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        assert get_run(session, run_id).outcome == "running"
    engine.dispose()
