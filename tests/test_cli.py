"""The akhbar command line, driven through click's CliRunner as a user would drive it."""
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = json.loads((SEEDS / "gold.json").read_text(encoding="utf-8"))


@pytest.fixture
def db(db_url):
    """A new archive on SQLite, then on PostgreSQL (the same commands, the same answers)."""
    return db_url


def run(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return result


def run_json(*args, env=None):
    result = run(*args, "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_extract_json_has_the_fields_users_rely_on():
    name = "000_b1844be6e5c5ef24.txt"
    out = run_json("extract", SEEDS / name, "--url", "https://example.com/a")
    for key in ("url", "title", "text", "published", "date_source", "section", "lang", "content_hash"):
        assert key in out
    assert out["url"] == "https://example.com/a"
    assert out["title"] == GOLD[name]["title"]
    assert out["published"] == GOLD[name]["published"]
    assert out["section"] == GOLD[name]["section"]
    assert len(out["text"].split("\n")) == len(GOLD[name]["body_lines"])


def test_replay_twice_stores_nothing_the_second_time_and_search_finds_seeds(db):
    first = run_json("--db", db, "replay", SEEDS)
    assert first == {"seen": 3, "stored": 3, "duplicate": 0, "rejected": 0, "errors": []}
    second = run_json("replay", SEEDS, "--db", db)
    assert second == {"seen": 3, "stored": 0, "duplicate": 3, "rejected": 0, "errors": []}
    stats = run_json("stats", "--db", db)
    assert (stats["articles"], stats["documents"]) == (3, 3)
    # The same articles (on SQLite and on PostgreSQL) whatever the diacritics, alef forms or a leading waw/al in the query.
    for query in ("الاسد", "الأسد", "الأَسَد", "والأسد", "اسد"):
        hits = run_json("search", query, "--db", db)
        assert len(hits) == 3, query
        assert {"id", "url", "title", "published", "snippet"} <= set(hits[0])


def test_show_by_id_and_by_url(db):
    run_json("replay", SEEDS / "000_b1844be6e5c5ef24.txt", "--db", db)
    by_id = run_json("show", "1", "--db", db)
    assert by_id["title"] == GOLD["000_b1844be6e5c5ef24.txt"]["title"]
    by_url = run_json("show", by_id["urls"][0], "--db", db)
    assert by_url["id"] == 1
    missing = run("show", "99", "--db", db)
    assert missing.exit_code != 0 and "no article" in missing.output


def test_one_article_under_two_urls_is_stored_once_with_both(db, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "copy-b.txt"
    shutil.copy(SEEDS / "004_1180da63ed5cc01f.txt", a)
    # The same story saved again with different page chrome around it.
    b.write_text("السبت 2 مارس 2024\nتم نسخ الرابط\n" + a.read_text(encoding="utf-8"), encoding="utf-8")
    report = run_json("replay", a, b, "--db", db)
    assert (report["stored"], report["duplicate"]) == (1, 1)
    shown = run_json("show", "1", "--db", db)
    assert len(shown["urls"]) == 2 and shown["times_seen"] == 2


def test_bad_input_is_one_line_per_file_and_the_batch_goes_on(db, tmp_path):
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "junk.html").write_bytes(bytes(range(256)) * 40)
    shutil.copy(SEEDS / "003_c4d7523b01817d71.txt", tmp_path / "good.txt")
    result = run("replay", tmp_path / "empty.html", tmp_path / "junk.html", tmp_path / "nope.txt", tmp_path / "good.txt", "--db", db, "--json")
    assert result.exit_code == 0  # something was taken in
    report = json.loads(result.stdout)
    assert report["stored"] == 1
    files = {Path(e["file"]).name for e in report["errors"]}
    assert files == {"empty.html", "junk.html", "nope.txt"}
    assert "Traceback" not in result.output
    for line in result.stderr.strip().splitlines():
        assert line.startswith("akhbar: ")


def test_nothing_taken_in_is_a_failure_and_keeps_what_was_stored(db, tmp_path):
    run_json("replay", SEEDS, "--db", db)
    (tmp_path / "junk.txt").write_bytes(b"\x00\xff" * 300)
    result = run("replay", tmp_path / "junk.txt", "--db", db)
    assert result.exit_code != 0
    assert run_json("stats", "--db", db)["articles"] == 3


def test_extract_of_missing_or_junk_file_is_a_one_line_error(tmp_path):
    result = run("extract", tmp_path / "missing.html")
    assert result.exit_code != 0 and "Traceback" not in result.output
    (tmp_path / "junk.html").write_bytes(b"\x00" * 1000)
    result = run("extract", tmp_path / "junk.html")
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1


def test_archive_chosen_by_env_var(tmp_path):
    url = f"sqlite:///{tmp_path / 'env.db'}"
    run_json("replay", SEEDS, env={"AKHBAR_DB": url})
    assert (tmp_path / "env.db").exists()
    assert run_json("stats", env={"AKHBAR_DB": url})["articles"] == 3


def test_a_file_that_is_not_an_archive_is_a_one_line_error_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database", encoding="utf-8")
    result = run("stats", "--db", f"sqlite:///{path}")
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == "not a database"


@pytest.mark.e2e  # slow: a fresh Python process
def test_archive_commands_answer_without_loading_the_extractor(tmp_path):
    """search, show and stats only read the archive: trafilatura, langdetect, numpy and Scrapy stay unloaded,
    so a query answers without paying for them."""
    import subprocess
    import sys

    probe = ("import json, sys\n"
             "from click.testing import CliRunner\n"
             "from crawler.cli import main\n"
             "codes = [CliRunner().invoke(main, ['--db', sys.argv[1], *args.split(), '--json']).exit_code\n"
             "         for args in ('stats', 'search الاسد', 'show 1')]\n"
             "heavy = ('trafilatura', 'langdetect', 'numpy', 'scrapy', 'apscheduler')\n"
             "print(json.dumps([codes, sorted({m.split('.')[0] for m in sys.modules} & set(heavy))]))\n")
    from storage.db import open_engine

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    open_engine(url).dispose()  # an empty archive (the read-only commands create none)
    done = subprocess.run([sys.executable, "-c", probe, url],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    codes, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert codes[:2] == [0, 0] and codes[2] != 0  # an empty archive: nothing to show, a clean error
    assert loaded == []


# --- one-line errors -------------------------------------------------------------------------------


def one_error_line(result, *needles):
    """The run failed with exactly one line on stderr, prefixed ``akhbar: ``, holding every needle."""
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("akhbar: "), result.stderr
    assert "Traceback (most recent call last)" not in result.output and not lines[0].startswith("akhbar: Error")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def no_env_db(monkeypatch, tmp_path):
    """Run in an empty folder with no AKHBAR_DB: the default archive is ./archive.db."""
    monkeypatch.delenv("AKHBAR_DB", raising=False)
    monkeypatch.delenv("AKHBAR_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_read_only_commands_without_an_archive_say_so_and_create_nothing(no_env_db):
    for args in (["search", "الاسد"], ["show", "1"], ["stats"], ["runs"]):
        one_error_line(run(*args), "no archive at archive.db", "akhbar replay")
    for db in ("sqlite:////nonexistent/dir/a.db", str(no_env_db / "sub" / "a.db")):
        one_error_line(run("stats", "--db", db), "no archive at")
    assert list(no_env_db.iterdir()) == [] and not Path("/nonexistent").exists()


def test_sources_without_an_archive_lists_them_as_never_run_and_creates_nothing(no_env_db):
    (no_env_db / "s.toml").write_text('[[sources]]\nname = "quiet"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n',
                                      encoding="utf-8")
    result = run("sources", "--sources", "s.toml")
    assert result.exit_code == 0 and "quiet: never run" in result.output
    assert sorted(p.name for p in no_env_db.iterdir()) == ["s.toml"]


def test_a_writing_command_does_not_create_missing_folders(tmp_path):
    folder = tmp_path / "new" / "folder"
    one_error_line(run("replay", SEEDS, "--db", f"sqlite:///{folder / 'x.db'}"), str(folder), "no such file or folder")
    assert not (tmp_path / "new").exists()


def test_a_db_value_that_is_neither_url_nor_path_is_one_line_and_creates_no_file(no_env_db):
    for command in (["stats"], ["replay", str(SEEDS)]):
        one_error_line(run("--db", "::::", *command), "not a database URL or path")
    assert list(no_env_db.iterdir()) == []


def test_a_database_whose_driver_is_missing_or_unknown_is_one_line(tmp_path):
    import importlib.util

    if importlib.util.find_spec("pg8000"):
        pytest.skip("the pg8000 driver is installed here")
    one_error_line(run("--db", "postgresql+pg8000://u@127.0.0.1:9/x", "stats"), "not installed", "pip install", "pg8000")
    one_error_line(run("--db", "nosuchdb://u@127.0.0.1:9/x", "replay", SEEDS), "'nosuchdb' is not a database")


def test_a_postgresql_server_that_does_not_answer_is_one_line(tmp_path):
    one_error_line(run("--db", "postgresql+psycopg://u@127.0.0.1:9/x", "stats"), "archive error", "127.0.0.1")


def test_show_of_an_id_no_database_can_hold_is_no_article(db):
    run_json("replay", SEEDS / "000_b1844be6e5c5ef24.txt", "--db", db)
    for ref in ("99999999999999999999999", "0"):
        one_error_line(run("show", ref, "--db", db), f"no article '{ref}'")


def test_crawl_with_an_unknown_run_id_is_one_line(db, tmp_path):
    sources = tmp_path / "s.toml"
    sources.write_text('[[sources]]\nname = "quiet"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n', encoding="utf-8")
    one_error_line(run("crawl", "quiet", "--run-id", "999", "--sources", sources, "--db", db), "no crawl run 999")


def test_click_usage_errors_have_the_same_one_prefix():
    assert one_error_line(run("show")).startswith("akhbar: Missing argument")
    assert run("show").exit_code == 2
    one_error_line(run("show", "1", "--no-such-option"), "--no-such-option")


def test_missing_files_are_worded_alike_everywhere(tmp_path, db):
    one_error_line(run("extract", tmp_path / "gone.html"), "no such file or folder")
    one_error_line(run("crawl", "--sources", tmp_path / "gone.toml", "--db", db), "no such file or folder")
    result = run("replay", tmp_path / "gone.txt", "--db", db)
    assert "gone.txt: no such file or folder" in result.stderr


def _group_with_a_bug():
    """A group built as akhbar's is, with one command that has a bug (a ZeroDivisionError)."""
    import click

    from crawler.cli.support import AkhbarGroup

    @click.group(cls=AkhbarGroup)
    @click.option("--debug", is_flag=True)
    def group(debug):
        pass

    @group.command("divide")
    def divide():
        click.echo(1 // 0)

    return group


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(monkeypatch):
    monkeypatch.delenv("AKHBAR_DEBUG", raising=False)
    group = _group_with_a_bug()
    result = CliRunner().invoke(group, ["divide"])
    line = one_error_line(result, "internal error: ZeroDivisionError", "--debug")
    assert result.exit_code == 1 and line.startswith("akhbar: internal error")
    for args, env in ((["--debug", "divide"], {}), (["divide"], {"AKHBAR_DEBUG": "1"})):
        result = CliRunner().invoke(group, args, env=env)
        assert isinstance(result.exception, ZeroDivisionError)


# --- the sources' health, stats, JSON shapes -----------------------------------------------------------


def test_sources_health_counts_manual_runs(db, tmp_path):
    from crawler.cli.support import archive_session
    from storage.runs import finish_run, start_run
    import click

    sources = tmp_path / "s.toml"
    sources.write_text('[[sources]]\nname = "quiet"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n', encoding="utf-8")
    with archive_session(click.Context(main), db) as session:
        ok = start_run(session, "quiet", trigger="manual")
        finish_run(session, ok, "ok", articles_new=5)
        session.commit()
    [entry] = run_json("sources", "--sources", sources, "--db", db)
    assert entry["status"] == "ok" and entry["last_success"] and entry["recent_new"] == [5]
    assert entry["last_run"]["id"] == ok and entry["last_run"]["trigger"] == "manual"
    text = run("sources", "--sources", sources, "--db", db).output
    assert "quiet: ok" in text and "never" not in text
    with archive_session(click.Context(main), db) as session:
        bad = start_run(session, "quiet", trigger="manual")
        finish_run(session, bad, "failed", message="DNS lookup failed")
        session.commit()
    [entry] = run_json("sources", "--sources", sources, "--db", db)
    assert entry["status"] == "failing" and entry["consecutive_failures"] == 1
    assert entry["last_error"] == "failed: DNS lookup failed" and entry["last_success"]
    assert "quiet: failing x1" in run("sources", "--sources", sources, "--db", db).output


def test_stats_text_is_readable_and_counts_configured_sources(db, tmp_path):
    run_json("replay", SEEDS, "--db", db)
    sources = tmp_path / "s.toml"
    sources.write_text("".join(f'[[sources]]\nname = "s{i}"\nfeeds = ["http://127.0.0.1:9/{i}.xml"]\n'
                               for i in range(3)), encoding="utf-8")
    text = run("stats", "--db", db, "--sources", sources).output
    assert "{" not in text and "articles:   3  (ar 3)" in text
    assert f"3 configured in {sources}" in text
    data = run_json("stats", "--db", db, "--sources", sources)
    assert data["sources_configured"] == 3 and data["articles"] == 3


def test_json_times_carry_their_zone(db, tmp_path):
    from datetime import datetime

    run_json("replay", SEEDS / "000_b1844be6e5c5ef24.txt", "--db", db)
    article = run_json("show", "1", "--db", db)
    for key in ("first_seen", "last_seen"):
        assert article[key].endswith("+00:00") and datetime.fromisoformat(article[key]).utcoffset().total_seconds() == 0
    sources = tmp_path / "s.toml"
    sources.write_text('[[sources]]\nname = "quiet"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n', encoding="utf-8")
    from crawler.cli.support import archive_session
    from storage.runs import finish_run, start_run
    import click

    with archive_session(click.Context(main), db) as session:
        finish_run(session, start_run(session, "quiet"), "ok")
        session.commit()
    [listed] = run_json("runs", "--db", db)
    assert all(listed[k].endswith("+00:00") for k in ("started_at", "finished_at", "heartbeat_at"))
    [health] = run_json("sources", "--sources", sources, "--db", db)
    assert health["last_success"].endswith("+00:00") and health["last_run"]["started_at"].endswith("+00:00")


def test_search_scores_are_readable_and_snippets_one_line(db):
    run_json("replay", SEEDS, "--db", db)
    hits = run_json("search", "الأسد", "--db", db)
    assert hits[0]["score"] == 1.0 and all(0 <= h["score"] <= 1 for h in hits)
    assert all("\n" not in h["snippet"] for h in hits)
    assert any("\n" in _stored_text(db, h["id"])[:2000] for h in hits)  # the stored text has lines
    text = run("search", "الأسد", "--db", db).output
    assert "e-0" not in text and "(score 1.00)" in text
    assert len(text.strip().splitlines()) == 3 * len(hits)


def _stored_text(db, article_id):
    return run_json("show", str(article_id), "--db", db)["text"]


def test_an_arabic_url_is_shown_readable_and_found_in_any_form_the_crawler_would_store(db):
    import click

    from crawler.cli.support import archive_session
    from crawler.core.canonical import canonicalize_url
    from crawler.core.extract import extract
    from storage import add_article

    page = "https://news.example/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9/%D8%AE%D8%A8%D8%B1-1?id=5"
    stored = canonicalize_url(page)
    with archive_session(click.Context(main), db) as session:
        article = extract((SEEDS / "000_b1844be6e5c5ef24.txt").read_bytes(), stored)
        add_article(session, article, url=stored)
        session.commit()
    readable = "https://news.example/سياسة/خبر-1?id=5"
    text = run("show", "1", "--db", db).output
    assert f"url:       {readable}" in text
    assert run_json("show", "1", "--db", db)["urls"] == [stored]  # JSON keeps the URL as stored
    for ref in (readable + "&utm_source=x", page + "&utm_campaign=y#top", page.replace("https", "HTTPS")):
        assert run_json("show", ref, "--db", db)["id"] == 1, ref


def test_replay_of_a_folder_does_not_follow_a_link_out_of_it(db, tmp_path):
    folder, outside = tmp_path / "pages", tmp_path / "private"
    folder.mkdir()
    outside.mkdir()
    shutil.copy(SEEDS / "000_b1844be6e5c5ef24.txt", folder / "inside.txt")
    shutil.copy(SEEDS / "003_c4d7523b01817d71.txt", outside / "secret.txt")
    (folder / "leak.txt").symlink_to(outside / "secret.txt")
    (folder / "ok.txt").symlink_to(folder / "inside.txt")  # a link that stays inside is fine
    report = run_json("replay", folder, "--db", db)
    assert report["stored"] == 1 and report["seen"] == 2
    assert [(Path(e["file"]).name, e["reason"]) for e in report["errors"]] == [
        ("leak.txt", "a link out of the folder: not followed")]
