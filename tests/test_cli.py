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
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'archive.db'}"


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
    # The same articles whatever the diacritics, alef forms or a leading waw/al in the query.
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


def test_archive_in_a_new_folder_is_created(tmp_path):
    path = tmp_path / "new" / "folder" / "x.db"
    assert run_json("stats", "--db", f"sqlite:///{path}")["articles"] == 0
    assert path.exists()


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
    done = subprocess.run([sys.executable, "-c", probe, f"sqlite:///{tmp_path / 'archive.db'}"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    codes, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert codes[:2] == [0, 0] and codes[2] != 0  # an empty archive: nothing to show, a clean error
    assert loaded == []
