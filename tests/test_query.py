"""The query language parses to the tree the brief documents, and refuses bad queries with one QueryError."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.core.errors import QueryError
from crawler.core.query import MAX_TERMS, And, Not, Or, Phrase, Term, parse, positive_terms, terms


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("لبنان", Term("لبنان")),
        ("لبنان سوريا", And((Term("لبنان"), Term("سوريا")))),
        ("لبنان AND سوريا", And((Term("لبنان"), Term("سوريا")))),
        ("لبنان OR سوريا", Or((Term("لبنان"), Term("سوريا")))),
        ("أ ب OR ج", Or((And((Term("أ"), Term("ب"))), Term("ج")))),  # AND binds tighter
        ("أ (ب OR ج)", And((Term("أ"), Or((Term("ب"), Term("ج")))))),
        ("أ -ب", And((Term("أ"), Not(Term("ب"))))),
        ("أ NOT ب", And((Term("أ"), Not(Term("ب"))))),
        ('"مجلس الأمن" قرار', And((Phrase("مجلس الأمن"), Term("قرار")))),
        ("انتخاب*", Term("انتخاب", prefix=True)),
        ("title:الحكومة", Term("الحكومة", field="title")),
        ("TITLE:الحكومة", Term("الحكومة", field="title")),
        ('title:"مجلس الأمن"', Phrase("مجلس الأمن", field="title")),
        ("title:(أ OR ب)", Or((Term("أ", field="title"), Term("ب", field="title")))),
        ("body:أ", Term("أ", field="body")),
        ("http://x.example", Term("http://x.example")),     # not a field: one chunk
        ("and or not", And((Term("and"), Term("or"), Term("not")))),
        ("co-op", Term("co-op")),                           # a dash inside a word is no NOT
        ("أ - ب", And((Term("أ"), Term("-"), Term("ب")))),  # a lone dash is a (wordless) chunk
        ("", None),
        ("   ", None),
    ],
)
def test_parse(query, tree):
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"مجلس', "unclosed quote"),
        ("(أ", "( without its )"),
        ("أ)", ") without its ("),
        ("AND", "AND needs a word"),
        ("أ OR", "ends where a word"),
        ("title:", "needs a word after the colon"),
        (" ".join(["ك"] * (MAX_TERMS + 1)), f"more than {MAX_TERMS} words"),
        ("(" * 9 + "أ" + ")" * 9, "nested deeper"),
        ("NOT " * 9 + "أ", "nested deeper"),
        ("أ" * 1001, "longer than"),
    ],
)
def test_bad_queries_are_one_line_query_errors(query, message):
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_terms_and_positive_terms():
    tree = parse('أ (ب OR "ج د") -هـ')
    assert terms(tree) == [Term("أ"), Term("ب"), Phrase("ج د"), Term("هـ")]
    assert positive_terms(tree) == [Term("أ"), Term("ب"), Phrase("ج د")]


@given(st.text(max_size=300))
@settings(max_examples=500, deadline=None)
def test_any_text_parses_or_raises_query_error(query):
    try:
        parse(query)
    except QueryError:
        pass
