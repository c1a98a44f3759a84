"""Crawl runs and HTTP validators in the archive, and `akhbar runs`."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from crawler.cli import main
from storage.db import open_engine
from storage.runs import finish_run, get_run, heartbeat, last_ok_start, list_runs, run_dict, start_run
from storage.validators import conditional_headers, get_validator, save_validator


@pytest.fixture
def db(db_url):
    """A new archive on SQLite, then on PostgreSQL."""
    return db_url


@pytest.fixture
def engine(db):
    eng = open_engine(db)
    yield eng
    eng.dispose()


def test_a_run_goes_from_running_through_heartbeats_to_its_outcome(engine):
    with Session(engine) as session:
        run_id = start_run(session, "lbci", trigger="schedule", pid=4242, host="box")
        session.commit()
        run = get_run(session, run_id)
        assert (run.source, run.trigger, run.outcome, run.pid, run.host) == ("lbci", "schedule", "running", 4242, "box")
        assert run.finished_at is None and run.heartbeat_at is not None
        first_beat = run.heartbeat_at
        heartbeat(session, run_id, pages_fetched=3, bytes=1000, errors={"http_404": 1})
        session.commit()
        session.refresh(run)
        assert (run.pages_fetched, run.bytes, run.errors) == (3, 1000, {"http_404": 1})
        assert run.heartbeat_at >= first_beat
        finish_run(session, run_id, "ok", pages_fetched=5, articles_new=2, skipped_seen=7)
        session.commit()
        session.refresh(run)
        assert (run.outcome, run.pages_fetched, run.articles_new, run.skipped_seen) == ("ok", 5, 2, 7)
        assert run.finished_at is not None and run.errors == {"http_404": 1}  # not given: kept


def test_run_verbs_refuse_unknown_counters_outcomes_and_runs(engine):
    with Session(engine) as session:
        run_id = start_run(session, "x")
        with pytest.raises(ValueError, match="unknown run counter"):
            heartbeat(session, run_id, pages=1)
        with pytest.raises(ValueError, match="negative"):
            heartbeat(session, run_id, bytes=-1)
        with pytest.raises(ValueError, match="outcome"):
            finish_run(session, run_id, "running")
        with pytest.raises(LookupError):
            heartbeat(session, run_id + 99, pages_fetched=1)
        with pytest.raises(LookupError):
            finish_run(session, run_id + 99, "ok")


def test_a_supervisor_closing_a_run_keeps_what_the_crawl_wrote_unless_it_overrides(engine):
    """The scheduler closes the run of a crawl process that ended: ``only_if_running`` leaves the
    crawl's own outcome in place, ``alive=False`` keeps its last heartbeat; a timeout overrides."""
    with Session(engine) as session:
        run_id = start_run(session, "a", pid=1, host="box")
        heartbeat(session, run_id, pages_fetched=4)
        session.commit()
        run = get_run(session, run_id)
        session.refresh(run)
        last_beat = run.heartbeat_at
        assert finish_run(session, run_id, "killed", message="by SIGKILL", only_if_running=True, alive=False)
        assert not finish_run(session, run_id, "failed", message="exited 1", only_if_running=True, alive=False)
        session.commit()
        session.refresh(run)
        assert (run.outcome, run.message, run.pages_fetched) == ("killed", "by SIGKILL", 4)
        assert run.heartbeat_at == last_beat and run.finished_at is not None
        assert finish_run(session, run_id, "timeout", message="time limit\nsecond line", alive=False)
        session.commit()
        session.refresh(run)
        assert (run.outcome, run.message) == ("timeout", "time limit")
        with pytest.raises(LookupError):
            finish_run(session, run_id + 99, "failed", only_if_running=True)


def test_list_runs_is_newest_first_and_filters_by_source_and_last_ok_start(engine):
    with Session(engine) as session:
        a = start_run(session, "a")
        b = start_run(session, "b")
        c = start_run(session, "a")
        finish_run(session, a, "ok")
        finish_run(session, c, "failed", message="dns\nsecond line")
        session.commit()
        assert [r.id for r in list_runs(session)] == [c, b, a]
        assert [r.id for r in list_runs(session, source="a")] == [c, a]
        assert [r.id for r in list_runs(session, limit=1)] == [c]
        assert get_run(session, c).message == "dns"  # one line
        assert last_ok_start(session, "a") == get_run(session, a).started_at
        assert last_ok_start(session, "b") is None


def test_validators_are_stored_replaced_and_turned_into_conditional_headers(engine):
    url = "https://example.com/feed.xml"
    with Session(engine) as session:
        assert get_validator(session, url) is None
        assert conditional_headers(None) == {}
        save_validator(session, url, etag='W/"abc"', last_modified="Mon, 13 May 2024 06:00:00 GMT")
        session.commit()
        assert conditional_headers(get_validator(session, url)) == {
            "If-None-Match": 'W/"abc"', "If-Modified-Since": "Mon, 13 May 2024 06:00:00 GMT"}
        save_validator(session, url, etag='"def"', last_modified=None)
        session.commit()
        assert conditional_headers(get_validator(session, url)) == {"If-None-Match": '"def"'}
        save_validator(session, url, etag=None, last_modified=None)
        session.commit()
        assert get_validator(session, url) is None


def test_runs_command_lists_runs_as_text_and_json(db, engine):
    with Session(engine) as session:
        first = start_run(session, "lbci")
        finish_run(session, first, "ok", pages_fetched=12, articles_new=4, errors={"timeout": 2})
        second = start_run(session, "youm7")
        finish_run(session, second, "failed", message="http://x/feed: dns")
        session.commit()
    runner = CliRunner()
    result = runner.invoke(main, ["runs", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)
    assert [r["id"] for r in runs] == [second, first]
    assert runs[1]["articles_new"] == 4 and runs[1]["errors"] == {"timeout": 2} and runs[1]["outcome"] == "ok"
    assert runs[0]["message"] == "http://x/feed: dns"
    result = runner.invoke(main, ["runs", "--db", db, "--source", "lbci"])
    assert result.exit_code == 0
    assert "lbci ok" in result.output and "youm7" not in result.output and "timeout 2" in result.output
    with Session(engine) as session:
        assert run_dict(get_run(session, first))["pages_fetched"] == 12
