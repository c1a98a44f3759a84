"""storage.shapes: the readable forms the CLI and the web API share."""
from datetime import datetime, timedelta, timezone

from storage.shapes import iri, one_line, relative_score, utc_iso


def test_iri_decodes_non_ascii_text_and_keeps_what_would_change_the_url():
    assert iri("https://x.example/%D8%AE%D8%A8%D8%B1?q=%D9%85") == "https://x.example/خبر?q=م"
    # ASCII escapes name other resources when decoded (a slash, a space, a query separator): kept.
    assert iri("https://x.example/a%2Fb%20c%3Fd%D8%A8") == "https://x.example/a%2Fb%20c%3Fdب"
    # Bytes that are not UTF-8 (a lone lead byte, Latin-1) stay encoded.
    assert iri("https://x.example/%D8/%E9t%C3%A9") == "https://x.example/%D8/%E9té"
    assert iri(None) is None and iri("https://x.example/plain") == "https://x.example/plain"


def test_times_are_utc_with_their_zone():
    assert utc_iso(datetime(2024, 5, 20, 9, 0, 0, 123456)) == "2024-05-20T09:00:00+00:00"
    beirut = datetime(2024, 5, 20, 12, 0, tzinfo=timezone(timedelta(hours=3)))
    assert utc_iso(beirut) == "2024-05-20T09:00:00+00:00" and utc_iso(None) is None


def test_scores_and_snippets_read_easily():
    assert relative_score(1.99e-06, 1.99e-06) == 1.0 and relative_score(1.0e-06, 2.0e-06) == 0.5
    assert one_line("a\nb \n\n c\td") == "a b c d"
