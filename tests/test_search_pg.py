"""Search on PostgreSQL (storage.search_pg): the same normalised keys as SQLite's FTS5 index, so the
same queries find the same articles on both; hostile queries are plain words; the index follows
the article's transaction."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from crawler.core.arabic import content_hash
from crawler.core.article import Article
from storage import add_article, open_engine, rebuild_index, search
from storage.models import ArticleRecord
from storage.search_pg import lexeme, tsquery

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


@pytest.fixture
def archive(db_url):
    ids = fill(db_url)
    engine = open_engine(db_url)
    yield engine, ids
    engine.dispose()


def hits(engine, query: str, limit: int = 20) -> list[int]:
    with Session(engine) as s:
        return [h.id for h in search(s, query, limit=limit)]


def test_postgresql_finds_what_sqlite_finds_for_every_query(tmp_path, pg_url):
    fill(f"sqlite:///{tmp_path / 'a.db'}")
    fill(pg_url)
    lite, pg = open_engine(f"sqlite:///{tmp_path / 'a.db'}"), open_engine(pg_url)
    try:
        found = 0
        for query in QUERIES:
            mine, theirs = sorted(hits(pg, query)), sorted(hits(lite, query))
            assert mine == theirs, query
            found += bool(mine)
        assert found >= 15  # most queries find something: the comparison is not of empty lists
    finally:
        lite.dispose()
        pg.dispose()


def test_spelling_variants_and_clitics_find_the_same_article(archive):
    engine, ids = archive
    for query in ("الموازنة", "الموازنه", "والموازنة", "المُوازَنة"):
        assert set(hits(engine, query)) == {ids["budget"], ids["body_only"]}, query
    assert hits(engine, "اعلان نتائج") == [ids["elections"]]
    assert hits(engine, "مؤتمر طرابلس") == [ids["tripoli"]]  # every word is required
    assert hits(engine, "غائبة") == []


def test_a_title_hit_ranks_above_a_body_hit(archive):
    engine, ids = archive
    assert hits(engine, "طرابلس") == [ids["tripoli"], ids["body_only"]]
    assert hits(engine, "طرابلس", limit=1) == [ids["tripoli"]]


def test_query_syntax_is_never_syntax(archive):
    engine, ids = archive
    for query in ("'", "''", "&", "|", "!", ":*", "(", "\\", "<->", "a\\b"):
        hits(engine, query)  # no error
    assert hits(engine, "o'brien") == [ids["latin"]]
    assert hits(engine, "طرابلس & !الموازنة") == [ids["body_only"]]  # & and ! are not operators: all words needed


def test_the_index_row_is_part_of_the_article_transaction_and_goes_with_the_article(archive):
    engine, ids = archive
    with Session(engine) as s:
        body = "خبر عن الزلزال في المدينة"
        add_article(s, Article(url="https://news.example/q", title=None, text=body, content_hash=content_hash(body)))
        s.rollback()
    assert hits(engine, "الزلزال") == []
    with Session(engine) as s:
        s.execute(delete(ArticleRecord).where(ArticleRecord.id == ids["tripoli"]))
        s.commit()
    assert hits(engine, "مؤتمر") == []


def test_rebuild_index_restores_every_article(archive):
    engine, ids = archive
    with Session(engine) as s:
        table = "articles_fts" if engine.dialect.name == "sqlite" else "article_search_keys"
        s.execute(text(f"DELETE FROM {table}"))
        s.commit()
    assert hits(engine, "طرابلس") == []
    with Session(engine) as s:
        assert rebuild_index(s) == len(STORIES)
        s.commit()
    assert hits(engine, "طرابلس") == [ids["tripoli"], ids["body_only"]]


def test_tsquery_quotes_every_key_and_marks_prefixes():
    assert lexeme("كتاب") == "'كتاب'"
    assert lexeme("o'brien") == "'o''brien'"
    assert lexeme("a\\b", prefix=True) == "'a\\\\b':*"
    assert tsquery(["في", "بيروت"], prefixes=["بيروت"]) == "'في' & 'بيروت':*"
