"""Search through the database: Arabic spelling variants, ranking, snippets, hostile queries; on SQLite
and on PostgreSQL alike (the archive fixtures are parametrised over both engines)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from crawler.core.analyzer import tokens, word_key
from crawler.core.arabic import content_hash
from crawler.core.article import Article
from crawler.core.errors import QueryError
from storage import add_article, open_engine, rebuild_index, search
from storage.search import MARKS, Marker, make_snippet, query_keys

SEEDS = json.loads((Path(__file__).parent / "fixtures" / "storage" / "seed_articles.json").read_text("utf-8"))
OPEN, CLOSE = MARKS

# Short made-up news items; the diacritics, hamza spellings and clitics are deliberate.
STORIES = {
    "budget": ("الحكومة تقر الموازنة", "أقرّت الحكومةُ اللبنانية مشروعَ الموازنة العامة لعام ٢٠٢٥ بعد جلسة استمرت ساعات."),
    "elections": ("إعلان نتائج الانتخابات", "أعلنت الهيئة العليا المستقلة للانتخابات النتائج الأولية، وقالت إن نسبة المشاركة بلغت ٤٥ بالمئة."),
    "tripoli": ("مؤتمر في طرابلس", "افتُتح في طرابلس مؤتمرٌ للاستثمار بمشاركة وزراء الاقتصاد من دول المغرب العربي."),
}


def stored_article(title: str | None, body: str, url: str) -> Article:
    return Article(url=url, title=title, text=body, content_hash=content_hash(body), published="2024-12-06", lang="ar")


def unmark(snippet: str) -> str:
    return snippet.replace(OPEN, "").replace(CLOSE, "")


def marked_words(snippet: str) -> list[str]:
    return re.findall(re.escape(OPEN) + "(.*?)" + re.escape(CLOSE), snippet)


def build_archive(url: str):
    engine = open_engine(url)
    ids: dict[str, int] = {}
    with Session(engine) as s:
        for key, (title, body) in STORIES.items():
            ids[key] = add_article(s, stored_article(title, body, f"https://news.example/{key}")).article_id
        for i, seed in enumerate(SEEDS):
            ids[f"seed{i}"] = add_article(s, stored_article(seed["title"], seed["text"], f"https://seed.example/{i}")).article_id
        s.commit()
    return engine, ids


@pytest.fixture(scope="module")
def archive(module_db_url):
    """Shared by the tests that only read."""
    engine, ids = build_archive(module_db_url)
    yield engine, ids
    engine.dispose()


@pytest.fixture
def own_archive(db_url):
    """For the tests that change the archive."""
    engine, ids = build_archive(db_url)
    yield engine, ids
    engine.dispose()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("الحكومة", "budget"),         # stored with a damma: الحكومةُ
        ("حكومه", "budget"),           # no article, taa marbuta written as haa
        ("والحكومة", "budget"),        # leading waw + article
        ("الحُكُومَة", "budget"),       # diacritics in the query
        ("اقرت", "budget"),            # stored أقرّت: hamza on alef and shadda
        ("٢٠٢٥", "budget"),            # Eastern Arabic digits stored ...
        ("2025", "budget"),            # ... found with Western ones
        ("اعلنت النتائج", "elections"),  # every query word must match
        ("الإنتخابات", "elections"),    # alef with hamza below in the query
        ("بالمئة", "elections"),
        ("طرابلس الاستثمار", "tripoli"),
        ("وزير", None),                # وزراء is another word: no stemming beyond clitics
    ],
)
def test_spelling_variants_find_the_same_article(archive, query, expected):
    engine, ids = archive
    with Session(engine) as s:
        found = [hit.id for hit in search(s, query) if hit.id in {ids[k] for k in STORIES}]
    assert found == ([ids[expected]] if expected else [])


def test_a_query_finds_text_written_with_variants_too(archive):
    engine, ids = archive
    with Session(engine) as s:
        # seed 1 writes "الأسد", "وأكد" and "الإسرائيلي": plain spellings find them.
        assert ids["seed1"] in [h.id for h in search(s, "اسد")]
        assert ids["seed1"] in [h.id for h in search(s, "اكد")]
        assert ids["seed1"] in [h.id for h in search(s, "والاسرائيلي")]


def test_all_words_are_required(archive):
    engine, ids = archive
    with Session(engine) as s:
        assert search(s, "الحكومة طرابلس") == []


def test_a_title_hit_ranks_above_body_hits(db_url):
    engine = open_engine(db_url)
    with Session(engine) as s:
        body_only = add_article(s, stored_article(
            "أخبار اليوم", "قال مسؤول في وزارة الزراعة إن محصول القمح هذا العام أفضل، وإن أسعار القمح ستنخفض.",
            "https://news.example/body")).article_id
        in_title = add_article(s, stored_article(
            "القمح يعود إلى الأسواق", "وصلت أولى الشحنات إلى الموانئ صباح الخميس وسط ترقب التجار لانخفاض الأسعار.",
            "https://news.example/title")).article_id
        for i, seed in enumerate(SEEDS):  # unrelated articles, so the word is rare in the index
            add_article(s, stored_article(seed["title"], seed["text"], f"https://seed.example/{i}"))
        s.commit()
        hits = search(s, "قمح")
    assert [h.id for h in hits] == [in_title, body_only]
    assert hits[0].score > hits[1].score
    engine.dispose()


def test_hits_carry_article_fields_and_a_snippet_from_the_stored_text(archive):
    engine, ids = archive
    with Session(engine) as s:
        hit = search(s, "حكومة")[0]  # the only article with the word in its title
    title, body = STORIES["budget"]
    assert (hit.id, hit.url, hit.title, hit.published) == (ids["budget"], "https://news.example/budget", title, "2024-12-06")
    assert unmark(hit.snippet) in body
    assert marked_words(hit.snippet) == ["الحكومةُ"]  # as published, with its damma


def test_snippet_is_a_window_around_the_first_match_in_a_long_text(archive):
    engine, ids = archive
    seed = SEEDS[1]["text"]
    with Session(engine) as s:
        hits = {h.id: h for h in search(s, "بلومبرج")}
    snippet = hits[ids["seed1"]].snippet
    assert unmark(snippet) in seed
    assert marked_words(snippet) == ["بلومبرج"]
    assert not seed.startswith(unmark(snippet))          # cut from the middle, not the opening
    assert 10 <= len(re.findall(r"\w+", unmark(snippet))) <= 25


def test_every_occurrence_in_the_window_is_marked_with_its_own_spelling():
    stored = "إنّ الحكومةَ قالت إن حكومة الوحدة والحكومات السابقة ستجتمع"
    snippet = make_snippet(stored, query_keys("الحكومة"))
    assert unmark(snippet) == stored
    assert marked_words(snippet) == ["الحكومةَ", "حكومة"]


#: One word written five ways (harakat, hamza, clitics, tatweel), beside words that only look alike.
VARIANTS = "قالت الهيئةُ إنّ إعلانَ النتائج والإعلان الرسمي وإعلـــان اللجنة والإعلانات ﻻحقا الإعلام بالإعلان"


@pytest.mark.parametrize("query", ["الإعلان", "اعلان", "إعلانٌ", "والأعلان", "وإعلان", "بالإعلان"])
def test_any_spelling_of_the_query_finds_the_article_and_marks_every_spelling_of_the_word(db_url, query):
    engine = open_engine(db_url)
    with Session(engine) as s:
        article_id = add_article(s, stored_article("بيان", VARIANTS, "https://news.example/variants")).article_id
        s.commit()
        hits = search(s, query)
    engine.dispose()
    assert [h.id for h in hits] == [article_id]
    assert unmark(hits[0].snippet) == VARIANTS
    # every spelling of the word, as published; not its plural, nor إعلام
    assert marked_words(hits[0].snippet) == ["إعلانَ", "والإعلان", "وإعلـــان", "بالإعلان"]


def test_a_ligature_in_the_stored_text_is_marked_under_the_plain_letters():
    assert marked_words(make_snippet(VARIANTS, query_keys("لاحقا"))) == ["ﻻحقا"]


def test_a_title_only_hit_gets_the_opening_words_unmarked():
    stored = " ".join(f"كلمة{i}" for i in range(40))
    snippet = make_snippet(stored, Marker(words={"غائب"}))
    assert snippet == " ".join(f"كلمة{i}" for i in range(20))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("الحكومة OR طرابلس", {"budget", "tripoli"}),
        ("(الحكومة OR طرابلس) الاستثمار", {"tripoli"}),
        ("الحكومة AND الموازنة", {"budget"}),
        ("الموازنة -الحكومة", set()),
        ("(الموازنة OR طرابلس) NOT الحكومة", {"tripoli"}),
        ('"مشروع الموازنة"', {"budget"}),
        ('"الموازنة مشروع"', set()),                 # a phrase keeps its order
        ("title:الحكومة", {"budget"}),
        ("title:طرابلس", {"tripoli"}),
        ("title:الاستثمار", set()),                  # only in the text
        ("body:الاستثمار", {"tripoli"}),
        ('title:"مؤتمر في طرابلس"', {"tripoli"}),
        ("انتخاب*", {"elections"}),
        ("الاستث*", {"tripoli"}),
        ("and الحكومة", set()),                      # lower-case operators are words that must match
        ("الموازنة:العامة", {"budget"}),           # not a field: words joined by punctuation are a phrase
    ],
)
def test_the_query_language(archive, query, expected):
    engine, ids = archive
    story_ids = {ids[k]: k for k in STORIES}
    with Session(engine) as s:
        found = {story_ids[h.id] for h in search(s, query) if h.id in story_ids}
    assert found == expected


@pytest.mark.parametrize(
    "query",
    ["AND", "NOT", '"', "(", ")", "الحكومة AND", "OR الحكومة", "-الحكومة", "NOT الحكومة", "(الحكومة",
     "الحكومة)", '"الحكومة', "title:", "x " * 40, "(" * 20 + "x" + ")" * 20, "y" * 1001],
)
def test_a_bad_query_is_one_query_error(archive, query):
    engine, _ = archive
    with Session(engine) as s, pytest.raises(QueryError) as raised:
        search(s, query)
    assert "\n" not in str(raised.value) and str(raised.value)


_PIECES = list('ab حكومة"()*-:^{}+.,؟ \'\\') + ["AND", "OR", "NOT", "NEAR", "title:", "body:", " AND ", " OR "]


@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
@settings(max_examples=300, deadline=None)
def test_no_query_reaches_fts5_as_syntax(archive, query):
    engine, _ = archive
    with Session(engine) as s:
        try:
            search(s, query)
        except QueryError:
            pass


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_hits_or_a_query_error(archive, query):
    engine, _ = archive
    with Session(engine) as s:
        try:
            assert isinstance(search(s, query), list)
        except QueryError:
            pass


@pytest.mark.parametrize("query", ["", "   ", "؟!", "«»", "ـ"])
def test_a_query_without_words_returns_nothing(archive, query):
    engine, _ = archive
    with Session(engine) as s:
        assert search(s, query) == []


def test_limit(archive):
    engine, _ = archive
    with Session(engine) as s:
        assert len(search(s, "الأسد", limit=2)) == 2
        assert search(s, "الأسد", limit=0) == []


def test_the_index_row_is_part_of_the_article_transaction(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'tx.db'}")
    title, body = STORIES["tripoli"]
    with Session(engine) as s:
        add_article(s, stored_article(title, body, "https://news.example/t"))
        s.rollback()
    with Session(engine) as s:
        assert search(s, "طرابلس") == []
        assert s.execute(text("SELECT count(*) FROM articles_fts")).scalar_one() == 0
        add_article(s, stored_article(title, body, "https://news.example/t"))
        add_article(s, stored_article(title, body, "https://other.example/t"))  # a duplicate adds no row
        s.commit()
    with Session(engine) as s:
        assert len(search(s, "طرابلس")) == 1
        assert s.execute(text("SELECT count(*) FROM articles_fts")).scalar_one() == 1
    engine.dispose()


def index_rows(s: Session) -> int:
    table = "articles_fts" if s.get_bind().dialect.name == "sqlite" else "article_search_keys"
    return int(s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def clear_index(s: Session) -> None:
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')"))
    else:
        s.execute(text("DELETE FROM article_search_keys"))


def test_deleting_an_article_removes_it_from_the_index(own_archive):
    engine, ids = own_archive
    with Session(engine) as s:
        s.execute(text("DELETE FROM articles WHERE id = :id"), {"id": ids["tripoli"]})
        s.commit()
        assert search(s, "طرابلس") == []
        assert index_rows(s) == len(ids) - 1


def test_rebuild_index(own_archive):
    engine, ids = own_archive
    with Session(engine) as s:
        clear_index(s)
        assert search(s, "طرابلس") == []
        assert rebuild_index(s) == len(ids)
        s.commit()
        assert [h.id for h in search(s, "طرابلس")] == [ids["tripoli"]]


_harakat = st.sampled_from([chr(c) for c in range(0x064B, 0x0653)] + ["\u0670", "\u200c", "\u0640"])
_letters = st.sampled_from(list("ابتثجحخدذرزسشصضطظعغفقكلمنهويىةءأإآؤئ"))
_word = st.lists(st.tuples(_letters, st.lists(_harakat, max_size=2)), min_size=1, max_size=7)
_sep = st.sampled_from([" ", "، ", "\n", " «", "» ", ". ", "-"])


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(st.lists(st.tuples(_word, _sep), min_size=1, max_size=60), st.data())
@settings(max_examples=150, deadline=None)
def test_snippets_are_substrings_of_the_stored_text(parts, data):
    words = ["".join(letter + "".join(marks) for letter, marks in word) for word, _ in parts]
    stored = "".join(word + sep for word, (_, sep) in zip(words, parts))
    target = data.draw(st.sampled_from(words))
    marker = query_keys(target)
    snippet = make_snippet(stored, marker)
    assert unmark(snippet) in stored
    if marker.words:  # the query word is in the text, so the snippet marks a word with one of its keys
        assert any({word_key(t) for t in tokens(w)} & marker.words for w in marked_words(snippet))


def test_exact_word_forms_rank_above_stem_only_matches(db_url):
    engine = open_engine(db_url)
    with Session(engine) as s:
        stem_only = add_article(s, stored_article(
            "الحكومات العربية", "اجتمعت الحكومات العربية، وقالت الحكومات إن الحكومات ستتعاون.", "https://news.example/s")).article_id
        exact = add_article(s, stored_article(  # one mention deep in a long text: a weak bm25
            "أخبار", SEEDS[0]["text"] + "\nوقال ممثل عن الحكومة إن الاجتماع انتهى.", "https://news.example/e")).article_id
        for i, seed in enumerate(SEEDS[1:]):
            add_article(s, stored_article(seed["title"], seed["text"], f"https://seed.example/{i}"))
        s.commit()
        hits = [h for h in search(s, "حكومة") if h.id in (stem_only, exact)]
    engine.dispose()
    assert [h.id for h in hits] == [exact, stem_only]
    assert marked_words(hits[0].snippet) == ["الحكومة"]
    assert marked_words(hits[1].snippet) == ["الحكومات", "الحكومات", "الحكومات"]  # marked by stem
