"""The search query language, parsed to a small tree (no SQL here: storage.search compiles it).

::

    الحكومة الموازنة          both words (AND is implied; writing AND is the same)
    "مجلس الأمن"              the exact phrase: these words next to each other, in this order
    لبنان OR سوريا            either word
    NOT سوريا, -سوريا         articles without the word (beside at least one word they must have)
    انتخاب*                   any word beginning so
    (لبنان OR سوريا) حكومة    parentheses group
    title:الحكومة             the word in the title (also title:"..." and title:(...)); body: the text

Operators are written in capitals (``and``, ``or``, ``not`` are plain words).  A query longer than
:data:`MAX_QUERY_CHARS`, with more than :data:`MAX_TERMS` words or nested deeper than
:data:`MAX_DEPTH` is refused, as are unbalanced quotes and parentheses and operators with nothing
to work on: every refusal is one :class:`~crawler.core.errors.QueryError` with a one-line message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from crawler.core.errors import QueryError

MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
MAX_DEPTH = 8
#: Fields a term can be limited to (``title:word``).
FIELDS = ("title", "body")
OPERATORS = ("AND", "OR", "NOT")


@dataclass(frozen=True)
class Term:
    """One word as typed (``prefix``: written ``word*``); ``field`` limits it to a column."""

    text: str
    prefix: bool = False
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    """Words that must stand next to each other in this order."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Union[Term, Phrase, And, Or, Not]


@dataclass(frozen=True)
class _Tok:
    kind: str  # word, phrase, op, open, close, neg
    text: str = ""
    field: str | None = None


def _lex(query: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Tok("open" if ch == "(" else "close"))
            i += 1
        elif ch == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != "-":
            out.append(_Tok("neg"))
            i += 1
        elif ch == '"':
            i = _phrase(query, i, None, out)
        else:
            i = _word(query, i, out)
    return out


def _phrase(query: str, i: int, field: str | None, out: list[_Tok]) -> int:
    end = query.find('"', i + 1)
    if end < 0:
        raise QueryError('the query has an unclosed quote (")')
    out.append(_Tok("phrase", query[i + 1 : end], field))
    return end + 1


def _word(query: str, i: int, out: list[_Tok]) -> int:
    j = i
    while j < len(query) and not query[j].isspace() and query[j] not in '()"':
        j += 1
    chunk = query[i:j]
    field, sep, rest = chunk.partition(":")
    if sep and field.lower() in FIELDS:
        field = field.lower()
        if rest:
            out.append(_Tok("word", rest, field))
            return j
        if j < len(query) and query[j] == '"':
            return _phrase(query, j, field, out)
        if j < len(query) and query[j] == "(":
            out.append(_Tok("open", field=field))
            return j + 1
        raise QueryError(f"{chunk} needs a word after the colon")
    if chunk in OPERATORS:
        out.append(_Tok("op", chunk))
    else:
        out.append(_Tok("word", chunk))
    return j


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0
        self.terms = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse_or(self, depth: int, field: str | None) -> Node:
        items = [self.parse_and(depth, field)]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "OR":
            self.take()
            items.append(self.parse_and(depth, field))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self, depth: int, field: str | None) -> Node:
        items = [self.parse_unary(depth, field)]
        while (tok := self.peek()) is not None and tok.kind != "close" and not (tok.kind == "op" and tok.text == "OR"):
            if tok.kind == "op" and tok.text == "AND":
                self.take()
            items.append(self.parse_unary(depth, field))
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self, depth: int, field: str | None) -> Node:
        tok = self.peek()
        if tok is not None and (tok.kind == "neg" or (tok.kind == "op" and tok.text == "NOT")):
            self.take()
            if depth >= MAX_DEPTH:
                raise QueryError(f"the query is nested deeper than {MAX_DEPTH} levels")
            return Not(self.parse_unary(depth + 1, field))
        return self.parse_primary(depth, field)

    def parse_primary(self, depth: int, field: str | None) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError("the query ends where a word was expected")
        self.take()
        if tok.kind == "op":
            raise QueryError(f"{tok.text} needs a word on each side (write it in lower case to search for it)")
        if tok.kind == "close":
            raise QueryError("the query has a ) without its (")
        if tok.kind == "open":
            if depth >= MAX_DEPTH:
                raise QueryError(f"the query is nested deeper than {MAX_DEPTH} levels")
            inner = self.parse_or(depth + 1, tok.field or field)
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError("the query has a ( without its )")
            self.take()
            return inner
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(f"the query has more than {MAX_TERMS} words")
        if tok.kind == "phrase":
            return Phrase(tok.text, tok.field or field)
        prefix = tok.text.endswith("*")
        return Term(tok.text.rstrip("*") if prefix else tok.text, prefix, tok.field or field)


def parse(query: str) -> Node | None:
    """The tree of ``query``; ``None`` when it holds nothing (empty or only spaces)."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    toks = _lex(query)
    if not toks:
        return None
    parser = _Parser(toks)
    tree = parser.parse_or(0, None)
    if parser.peek() is not None:  # only a stray ) stops the top level early
        raise QueryError("the query has a ) without its (")
    return tree


def terms(node: Node) -> list[Term | Phrase]:
    """Every term and phrase of the tree, in order (negated ones too)."""
    if isinstance(node, (Term, Phrase)):
        return [node]
    if isinstance(node, Not):
        return terms(node.item)
    return [t for item in node.items for t in terms(item)]


def positive_terms(node: Node) -> list[Term | Phrase]:
    """The terms of the tree that are not under a NOT (those a matching article holds)."""
    if isinstance(node, (Term, Phrase)):
        return [node]
    if isinstance(node, Not):
        return []
    return [t for item in node.items for t in positive_terms(item)]
