"""The web app (crawler.web) on a temporary archive, through FastAPI's TestClient: the JSON API in
the CLI's shapes, filters, errors, escaping of hostile stored text, and that it cannot write."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crawler.cli import main
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.errors import ArchiveError
from crawler.web import views
from crawler.web.app import MAX_QUERY, create_app
from storage import add_article, open_engine
from storage.archive import get_article
from storage.shapes import article_json

SCRIPT = "<script>document.title='PWNED'</script>"
# (source, published, section, author, lang, title, text)
ROWS = [
    ("alpha", "2024-01-03", "اقتصاد", "سارة علي", "ar", "الحكومة تقر الموازنة",
     "أقرت الحكومة الموازنة العامة [للعام] المقبل بعد نقاش طويل في المجلس."),
    ("beta", "2024-03-10", "سياسة", None, "ar", f"{SCRIPT} خبر الميناء",
     f"نص عن الميناء فيه {SCRIPT} و<img src=x onerror=alert(1)> للحكومة."),
    ("gamma", "2024-03-20", None, "Jane Roe", "en", "Port news", "The government and the port, الحكومة."),
    ("delta", "2023-05-01", None, None, "ar", "خبر عن القمر", "صعد رواد إلى القمر."),
]
#: URLs of the rows (a stored javascript: URL must never become a link).
URLS = {3: "javascript:alert(document.domain)"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "web.db"
    engine = open_engine(f"sqlite:///{path}")
    ids = []
    with Session(engine) as s:
        for i, (source, published, section, author, lang, title, body) in enumerate(ROWS):
            article = Article(url=URLS.get(i, f"https://{source}.example/news/{i}"), title=title, text=body,
                              content_hash=content_hash(body), published=published, section=section,
                              author=author, lang=lang)
            ids.append(add_article(s, article, source=source).article_id)
        s.commit()
    engine.dispose()
    return path, ids


@pytest.fixture(scope="module")
def client(archive):
    app = create_app(str(archive[0]))
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def ids_of(response):
    assert response.status_code == 200, response.text
    return [h["id"] for h in response.json()]


def test_search_with_diacritics_finds_and_marks(client, archive):
    _, ids = archive
    hits = client.get("/api/search", params={"q": "الحُكُومَةُ"}).json()
    assert {h["id"] for h in hits} == set(ids[:3])
    first = next(h for h in hits if h["id"] == ids[0])
    assert "[الحكومة]" in first["snippet"] and set(first) == {"id", "url", "title", "published", "snippet",
                                                             "score", "raw_score", "source", "copies", "outlets"}


def test_filters_sort_and_paging(client, archive):
    _, ids = archive
    q = {"q": "الحكومة"}
    assert ids_of(client.get("/api/search", params={**q, "source": ["beta", "gamma"]})) != []
    assert set(ids_of(client.get("/api/search", params={**q, "source": ["beta", "gamma"]}))) == {ids[1], ids[2]}
    assert ids_of(client.get("/api/search", params={**q, "since": "2024-03-01", "until": "2024-03-15"})) == [ids[1]]
    assert ids_of(client.get("/api/search", params={**q, "lang": "en"})) == [ids[2]]
    assert ids_of(client.get("/api/search", params={**q, "section": "اقتصاد"})) == [ids[0]]
    assert ids_of(client.get("/api/search", params={**q, "author": "Roe"})) == [ids[2]]
    assert ids_of(client.get("/api/search", params={**q, "sort": "newest"})) == [ids[2], ids[1], ids[0]]
    assert ids_of(client.get("/api/search", params={**q, "sort": "oldest", "limit": 1, "page": 2})) == [ids[1]]
    # blank form fields are no filter
    assert len(ids_of(client.get("/api/search", params={**q, "since": "", "source": "", "lang": ""}))) == 3


def test_count_by_month_and_source(client):
    assert client.get("/api/count", params={"q": "الحكومة"}).json() == [
        {"key": "2024-01", "count": 1}, {"key": "2024-03", "count": 2}]
    by_source = client.get("/api/count", params={"q": "الحكومة", "by": "source"}).json()
    assert sorted(r["key"] for r in by_source) == ["alpha", "beta", "gamma"]


def test_article_by_id_is_the_cli_shape(client, archive):
    path, ids = archive
    got = client.get(f"/api/articles/{ids[0]}")
    assert got.status_code == 200
    engine = open_engine(f"sqlite:///{path}", create=False)
    with Session(engine) as s:
        assert got.json() == article_json(s, get_article(s, ids[0]))
    engine.dispose()
    page = client.get(f"/articles/{ids[0]}")
    assert page.status_code == 200 and "الحكومة تقر الموازنة" in page.text and "https://alpha.example/news/0" in page.text


def test_missing_article_is_404(client):
    for url in ("/api/articles/999999", "/api/articles/99999999999999999999999"):
        r = client.get(url)
        assert r.status_code in (400, 404) and set(r.json()) == {"error"}, r.text
    assert client.get("/api/articles/999999").status_code == 404
    assert client.get("/articles/999999").status_code == 404


@pytest.mark.parametrize("params", [
    {"q": '"مجلس الأمن'}, {"q": "(لبنان"}, {"q": "x" * (MAX_QUERY + 1)}, {"q": "الحكومة", "limit": 1000},
    {"q": "الحكومة", "since": "yesterday"}, {"q": "الحكومة", "sort": "random"}, {"q": "الحكومة", "page": 0},
])
def test_a_bad_request_is_400_with_one_line(client, params):
    r = client.get("/api/search", params=params)
    assert r.status_code == 400 and set(r.json()) == {"error"}
    assert r.json()["error"] and "\n" not in r.json()["error"]


def test_a_bad_query_is_said_on_the_search_page(client):
    r = client.get("/", params={"q": '"مجلس الأمن'})
    assert r.status_code == 400 and 'class="error"' in r.text and 'name="q"' in r.text
    assert "&#34;مجلس الأمن" in r.text or "&quot;مجلس الأمن" in r.text


def test_stored_script_is_text(client, archive):
    _, ids = archive
    for page in (client.get(f"/articles/{ids[1]}"), client.get("/", params={"q": "الميناء"})):
        assert page.status_code == 200
        assert SCRIPT not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;document.title=" in page.text
        assert len(re.findall(r"<script", page.text)) == 0
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
    hits = client.get("/", params={"q": "المجلس"}).text
    assert "[للعام]" in hits  # a stored bracket is text, not a mark
    assert "<mark>المجلس</mark>" in hits


def test_search_page_shows_hits_chart_and_rtl(client, archive):
    _, ids = archive
    r = client.get("/", params={"q": "الحكومة", "limit": 2})
    assert r.status_code == 200
    assert re.search(r'<html lang="ar" dir="rtl">', r.text)
    assert f'href="/articles/{ids[0]}"' in r.text and "<mark>" in r.text
    assert r.text.count("<rect ") == 2 and "2024-03: 2" in r.text
    assert 'rel="next"' in r.text and "page=2" in r.text


def test_openapi_describes_the_api(client):
    spec = client.get("/api/openapi.json").json()
    assert {"/api/search", "/api/count", "/api/articles/{article_id}"} <= set(spec["paths"])


def test_it_cannot_write(client, archive):
    path, ids = archive
    before = (path.stat().st_mtime_ns, path.stat().st_size)
    for url in ("/", "/api/search?q=الحكومة", f"/articles/{ids[1]}", "/api/count?q=الميناء", "/?q=ميناء*&sort=oldest"):
        assert client.get(url).status_code == 200
    for write in ("INSERT INTO sources (name, created_at) VALUES ('intruder', '2024-01-01 00:00:00')", "CREATE TABLE intruder (x)", "UPDATE sources SET name = name || 'x'"):
        with pytest.raises(OperationalError, match="readonly|read-only"):
            with client.app.state.engine.begin() as connection:
                connection.execute(text(write))
    assert (path.stat().st_mtime_ns, path.stat().st_size) == before


def test_the_archive_is_read_through_a_memory_map(client):
    with client.app.state.engine.connect() as connection:
        assert connection.execute(text("PRAGMA mmap_size")).scalar() > 0


def test_a_missing_archive_is_refused_and_not_created(tmp_path):
    with pytest.raises(ArchiveError, match="no archive"):
        create_app(str(tmp_path / "none.db"))
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1 and result.output.strip().startswith("akhbar: no archive at")
    assert len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_serve_binds_localhost_by_default():
    from crawler.cli.serve import serve_cmd

    assert {p.name: p.default for p in serve_cmd.params}["host"] == "127.0.0.1"


def test_marks_become_mark_after_escaping():
    o, c = views.OPEN, views.CLOSE
    assert views.marked(f"<b>{o}كلمة{c}</b> [x]") == "&lt;b&gt;<mark>كلمة</mark>&lt;/b&gt; [x]"
    assert views.marked(f"{o}<i>{c} {o}stray") == "<mark>&lt;i&gt;</mark> stray"


def test_chart_bars_scale_to_the_largest_month_oldest_at_the_right():
    got = views.bars([("2024-01", 2), ("2024-02", 0), ("2024-03", 4), (None, 9)], width=300, height=100)
    assert [b.key for b in got] == ["2024-01", "2024-02", "2024-03"]  # undated left out
    assert [b.height for b in got] == [50.0, 0.0, 100.0]
    assert got[0].x > got[1].x > got[2].x and all(0 <= b.x and b.x + b.width <= 300 for b in got)
    assert views.bars([(None, 3)]) == []


def test_only_http_urls_become_links(client, archive):
    _, ids = archive
    page = client.get(f"/articles/{ids[3]}")
    assert page.status_code == 200 and "javascript:alert(document.domain)" in page.text
    assert 'href="javascript' not in page.text.lower()
    assert 'href="https://alpha.example/news/0"' in client.get(f"/articles/{ids[0]}").text
    assert views.href(" JavaScript:x") is None and views.href("data:text/html,x") is None
    assert views.href("http://[::1") is None and views.href("https://a.example/") == "https://a.example/"


def test_article_page_lists_the_copies_of_its_story(tmp_path):
    path = tmp_path / "copies.db"
    engine = open_engine(f"sqlite:///{path}")
    words = [f"كلمة{i}" for i in range(80)]
    texts = [" ".join(words), " ".join(words[:40] + ["مختلفة"] + words[41:]), "نص آخر لا يشبه غيره أبدا عن موضوع بعيد"]
    with Session(engine) as s:
        ids = [add_article(s, Article(url=f"https://s{i}.example/a", title=f"عنوان {i}", text=t,
                                      content_hash=content_hash(t)), source=f"s{i}").article_id
               for i, t in enumerate(texts)]
        s.commit()
    engine.dispose()
    app = create_app(str(path))
    with TestClient(app) as c:
        second = c.get(f"/articles/{ids[1]}").text
        alone = c.get(f"/articles/{ids[2]}").text
    app.state.engine.dispose()
    assert 'class="copies"' in second and f'href="/articles/{ids[0]}"' in second
    assert 'class="copies"' not in alone


# --- the article page: versions, copies, raw capture ------------------------------------------------

STORY = " ".join(f"كلمة{i}" for i in range(60))


@pytest.fixture(scope="module")
def versioned(tmp_path_factory):
    """An article in two versions (raw bytes inline, then in a WARC file), a copy of it at another
    outlet, and an article without any raw capture."""
    from crawler.capture.warc import WarcWriter
    from storage.archive import add_document

    root = tmp_path_factory.mktemp("versions")
    path = root / "v.db"
    url = "https://alpha.example/news/7"
    first, second = f"{STORY} قديم", f"{STORY} جديد {SCRIPT}"
    raw1 = f"<html><title>v1</title><body>{first}</body></html>".encode()
    raw2 = f"<html><title>v2</title><body>{second}<script>alert(1)</script></body></html>".encode()
    with WarcWriter(root / "warc") as writer:
        pointer = writer.write(url, 200, {"Content-Type": "text/html"}, raw2)
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        d1, _ = add_document(s, url=url, raw=raw1, source="alpha", content_type="text/html; charset=utf-8",
                             http_status=200)
        a = add_article(s, Article(url=url, title="العنوان الأول", text=first, content_hash=content_hash(first)),
                        source="alpha", document_id=d1)
        d2, _ = add_document(s, url=url, raw=raw2, source="alpha", content_type="text/html", http_status=200,
                             warc_path=pointer.path, warc_offset=pointer.offset, warc_length=pointer.length)
        b = add_article(s, Article(url=url, title=f"العنوان {SCRIPT}", text=second, content_hash=content_hash(second)),
                        source="alpha", document_id=d2)
        copy_text = f"{STORY} منقول"
        c = add_article(s, Article(url="https://beta.example/copy", title="نسخة", text=copy_text,
                                   content_hash=content_hash(copy_text)), source="beta")
        s.commit()
    engine.dispose()
    assert a.article_id == b.article_id and b.version == 2
    app = create_app(str(path))
    with TestClient(app) as client:
        yield client, a.article_id, c.article_id, raw1, raw2
    app.state.engine.dispose()


def test_article_page_shows_the_versions_with_an_escaped_word_diff(versioned):
    client, article, _, _, _ = versioned
    page = client.get(f"/articles/{article}")
    assert page.status_code == 200
    versions = page.text.split('id="versions"')[1].split("</section>")[0]
    assert 'id="version-1"' in versions and 'id="version-2"' in versions and "(current)" in versions
    assert "<del>قديم</del>" in versions and "<ins>جديد &lt;script&gt;document.title=" in versions
    assert "<del>الأول</del>" in versions  # the title changed too
    assert f'href="/articles/{article}/raw?version=1"' in versions
    assert "<script" not in page.text


def test_article_page_lists_copies_with_outlet_date_and_similarity(versioned):
    client, article, copy, _, _ = versioned
    page = client.get(f"/articles/{copy}").text
    table = page.split('id="copies"')[1].split("</section>")[0]
    assert f'href="/articles/{article}"' in table and "alpha" in table
    assert re.search(r'<td dir="ltr">(0\.\d\d|1\.00)</td>', table)
    assert 'href="https://alpha.example/news/7"' in table


def test_raw_capture_is_a_download_of_the_stored_bytes(versioned):
    client, article, _, raw1, raw2 = versioned
    for prefix in ("", "/api"):
        current = client.get(f"{prefix}/articles/{article}/raw")
        assert current.status_code == 200 and current.content == raw2  # read back from the WARC record
        assert current.headers["content-type"] == "application/octet-stream"
        assert current.headers["content-disposition"] == f'attachment; filename="akhbar-{article}.html"'
        assert current.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in current.headers["content-security-policy"]
        old = client.get(f"{prefix}/articles/{article}/raw", params={"version": 1})
        assert old.content == raw1 and f"akhbar-{article}-v1.html" in old.headers["content-disposition"]


def test_raw_capture_that_was_not_kept_is_404_in_one_line(versioned):
    client, article, copy, _, _ = versioned
    missing = client.get(f"/api/articles/{copy}/raw")
    assert missing.status_code == 404 and missing.json() == {"error": f"no raw capture was kept for article {copy}"}
    assert client.get(f"/api/articles/{article}/raw", params={"version": 9}).status_code == 404
    assert client.get("/api/articles/999999/raw").status_code == 404
    assert client.get(f"/articles/{copy}/raw").status_code == 404
    assert client.get(f"/api/articles/{article}/raw", params={"version": 0}).status_code == 400


def test_raw_capture_whose_warc_is_gone_is_404(tmp_path):
    from storage.archive import add_document

    path = tmp_path / "gone.db"
    engine = open_engine(f"sqlite:///{path}")
    with Session(engine) as s:
        doc, _ = add_document(s, url="https://a.example/x", raw=b"<p>x</p>", warc_path=str(tmp_path / "no.warc.gz"),
                              warc_offset=0, warc_length=10)
        a = add_article(s, Article(url="https://a.example/x", title="t", text="نص ما", content_hash=content_hash("نص ما")),
                        document_id=doc)
        s.commit()
    engine.dispose()
    app = create_app(str(path))
    with TestClient(app) as c:
        r = c.get(f"/api/articles/{a.article_id}/raw")
    app.state.engine.dispose()
    assert r.status_code == 404 and "cannot be read" in r.json()["error"] and str(tmp_path) not in r.json()["error"]
