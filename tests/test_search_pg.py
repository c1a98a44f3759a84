"""The PostgreSQL full-text index (storage.search_pg): the analyzer's keys in a tsvector, so it
finds exactly the articles whose index words hold every key of a query, whatever characters the
keys carry; the index follows the article's transaction; on PostgreSQL the query language of
storage.search is one clean line (SearchUnavailable) for now."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from crawler.cli import main
from crawler.core.analyzer import index_columns, tokens, word_key
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.errors import SearchUnavailable
from storage import add_article, open_engine, rebuild_index, search
from storage.models import ArticleRecord
from storage.search_pg import lexeme, match, tsquery

STORIES = {
    "budget": ("الحكومة تقر الموازنة", "أقرّت الحكومةُ اللبنانية مشروعَ الموازنة العامة لعام ٢٠٢٥ بعد جلسة استمرت ساعات."),
    "elections": ("إعلان نتائج الانتخابات", "أعلنت الهيئة العليا المستقلة للانتخابات النتائج الأولية، وقالت إن نسبة المشاركة بلغت ٤٥ بالمئة."),
    "tripoli": ("مؤتمر في طرابلس", "افتُتح في طرابلس مؤتمرٌ للاستثمار بمشاركة وزراء الاقتصاد من دول المغرب العربي."),
    "body_only": ("أخبار متفرقة", "وفي طرابلس أيضا افتتح معرض للكتاب، وقال المنظمون إن الموازنة لم تكف."),
    "latin": ("Café_news O'Brien", "The café_bar of O'Brien & co. opened (again) in Beirut; prices: 5:30 a\\b."),
}

QUERIES = ["الموازنة", "الموازنه", "والموازنة", "المُوازَنة", "طرابلس", "بطرابلس", "مؤتمر طرابلس", "الانتخابات",
           "إعلان", "اعلان", "٢٠٢٥", "2025", "cafe", "CAFÉ_BAR", "o'brien", "brien", "co", "a\\b", "5:30",
           "'", "''", "&", "|", "!", ":*", "(", ")", "\\", "طرابلس & !الموازنة", "طرابلس | الموازنة",
           "الموازنة:*", "<->", "NOT طرابلس", "معرض الكتاب طرابلس", "غائبة"]


def keys(query: str) -> list[str]:
    return list(dict.fromkeys(word_key(t) for t in tokens(query)))


def fill(url: str) -> dict[str, int]:
    engine = open_engine(url)
    ids = {}
    with Session(engine) as s:
        for key, (title, body) in STORIES.items():
            art = Article(url=f"https://news.example/{key}", title=title, text=body, content_hash=content_hash(body))
            ids[key] = add_article(s, art).article_id
        s.commit()
    engine.dispose()
    return ids


def hits(engine, query: str, limit: int = 20) -> list[int]:
    with Session(engine) as session:
        return [article_id for article_id, _ in match(session, keys(query), limit)]


@pytest.fixture
def pg_archive(pg_url):
    ids = fill(pg_url)
    engine = open_engine(pg_url)
    yield engine, ids
    engine.dispose()


def test_the_index_finds_exactly_the_articles_whose_words_hold_every_key(pg_archive):
    engine, ids = pg_archive
    words = {}
    for key, (title, body) in STORIES.items():
        words[ids[key]] = set(index_columns(title)[0].split()) | set(index_columns(body)[0].split())
    found = 0
    for query in QUERIES:
        wanted = keys(query)
        expected = {i for i, held in words.items() if wanted and set(wanted) <= held}
        assert set(hits(engine, query)) == expected, query
        found += bool(expected)
    assert found >= 15  # most queries find something: the comparison is not of empty sets


def test_spelling_variants_and_clitics_find_the_same_article(pg_archive):
    engine, ids = pg_archive
    for query in ("الموازنة", "والموازنة", "المُوازَنة"):
        assert set(hits(engine, query)) == {ids["budget"], ids["body_only"]}, query
    assert hits(engine, "اعلان نتائج") == [ids["elections"]]
    assert hits(engine, "مؤتمر طرابلس") == [ids["tripoli"]]  # every word is required
    assert hits(engine, "غائبة") == []


def test_a_title_hit_ranks_above_a_body_hit(pg_archive):
    engine, ids = pg_archive
    assert hits(engine, "طرابلس") == [ids["tripoli"], ids["body_only"]]
    assert hits(engine, "طرابلس", limit=1) == [ids["tripoli"]]


def test_a_prefix_key_matches_longer_words(pg_archive):
    engine, ids = pg_archive
    with Session(engine) as session:
        found = {i for i, _ in match(session, [word_key("طرابل")], 10, prefixes=[word_key("طرابل")])}
    assert found == {ids["tripoli"], ids["body_only"]}
    assert hits(engine, "طرابل") == []


def test_the_index_row_is_part_of_the_article_transaction_and_goes_with_the_article(pg_archive):
    engine, ids = pg_archive
    with Session(engine) as s:
        body = "خبر عن الزلزال في المدينة"
        add_article(s, Article(url="https://news.example/q", title=None, text=body, content_hash=content_hash(body)))
        s.rollback()
    assert hits(engine, "الزلزال") == []
    with Session(engine) as s:
        s.execute(delete(ArticleRecord).where(ArticleRecord.id == ids["tripoli"]))
        s.commit()
    assert hits(engine, "مؤتمر") == []


def test_rebuild_index_restores_every_article(pg_archive):
    engine, ids = pg_archive
    with Session(engine) as s:
        s.execute(text("DELETE FROM article_search_keys"))
        s.commit()
    assert hits(engine, "طرابلس") == []
    with Session(engine) as s:
        assert rebuild_index(s) == len(STORIES)
        s.commit()
    assert hits(engine, "طرابلس") == [ids["tripoli"], ids["body_only"]]


def test_the_query_language_on_postgresql_is_one_clean_line(pg_archive, pg_url):
    engine, _ = pg_archive
    with Session(engine) as s, pytest.raises(SearchUnavailable):
        search(s, "طرابلس")
    result = CliRunner().invoke(main, ["search", "طرابلس", "--db", pg_url])
    assert result.exit_code != 0 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("akhbar: the search query language is not available on 'postgresql'")


def test_tsquery_quotes_every_key_and_marks_prefixes():
    assert lexeme("كتاب") == "'كتاب'"
    assert lexeme("o'brien") == "'o''brien'"
    assert lexeme("a\\b", prefix=True) == "'a\\\\b':*"
    assert tsquery(["في", "بيروت"], prefixes=["بيروت"]) == "'في' & 'بيروت':*"
