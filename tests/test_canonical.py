"""canonical: one article, one key, however its address is spelled."""
from __future__ import annotations

from urllib.parse import quote

import lxml.html
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crawler.core.canonical import TRACKING_PARAMS, canonicalize_url, is_tracking_param, page_canonical

# --- examples --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("HTTP://WWW.Example.COM/news", "http://www.example.com/news"),
        ("http://example.com:80/news", "http://example.com/news"),
        ("https://example.com:443/news", "https://example.com/news"),
        ("https://example.com:8443/news", "https://example.com:8443/news"),
        ("https://example.com/news#comments", "https://example.com/news"),
        ("https://example.com/news/", "https://example.com/news"),
        ("https://example.com/a/./b/../news", "https://example.com/a/news"),
        ("https://example.com/news?", "https://example.com/news"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com./news", "https://example.com/news"),
        ("https://example.com/news?b=2&a=1", "https://example.com/news?a=1&b=2"),
        ("https://example.com/news?id=5&utm_source=twitter&utm_medium=social&fbclid=IwAR0", "https://example.com/news?id=5"),
        ("https://example.com/news?UTM_Campaign=x&gclid=1&xtor=RSS-1&at_medium=rss&id=5", "https://example.com/news?id=5"),
        ("https://example.com/news?%75tm_source=x", "https://example.com/news"),
        ("https://example.com/news?q=a+b", "https://example.com/news?q=a+b"),
        ("https://example.com/news?q=a%20b", "https://example.com/news?q=a+b"),
        ("https://example.com/%7Enews", "https://example.com/~news"),
        (" https://example.com/news \n", "https://example.com/news"),
    ],
)
def test_examples(variant, canonical):
    assert canonicalize_url(variant) == canonical


ARABIC_PATH = "/ar/أخبار/سياسة/123-وزير-الخارجية"


def test_arabic_path_raw_and_percent_encoded_are_equal():
    encoded = quote(ARABIC_PATH, safe="/")
    variants = [
        "https://www.youm7.com" + ARABIC_PATH,
        "https://www.youm7.com" + encoded,
        "https://www.youm7.com" + encoded.lower(),
        "https://www.youm7.com" + encoded + "/",
    ]
    keys = {canonicalize_url(v) for v in variants}
    assert keys == {"https://www.youm7.com" + encoded}  # quote() writes UTF-8 with upper-case hex
    assert "/ar/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/" in keys.pop()


def test_arabic_query_values_are_encoded_once():
    raw = canonicalize_url("https://example.com/search?q=غزة")
    assert raw == canonicalize_url("https://example.com/search?q=%d8%ba%d8%b2%d8%a9")
    assert raw.endswith("q=%D8%BA%D8%B2%D8%A9")


def test_idn_host_becomes_punycode():
    assert canonicalize_url("https://مثال.مصر/خبر") == canonicalize_url("https://xn--mgbh0fb.xn--wgbh1c/%D8%AE%D8%A8%D8%B1")
    assert canonicalize_url("https://مثال.مصر/").startswith("https://xn--mgbh0fb.xn--wgbh1c/")


def test_meaningful_parameters_and_paths_are_kept():
    assert canonicalize_url("https://example.com/news?id=5") != canonicalize_url("https://example.com/news?id=6")
    assert canonicalize_url("https://example.com/news?page=2") != canonicalize_url("https://example.com/news")
    assert canonicalize_url("https://example.com/News") != canonicalize_url("https://example.com/news")
    assert canonicalize_url("http://example.com/news") != canonicalize_url("https://example.com/news")
    assert canonicalize_url("https://www.example.com/a") != canonicalize_url("https://example.com/a")


@pytest.mark.parametrize("bad", ["", "/news/1", "mailto:desk@example.com", "javascript:void(0)", "ftp://example.com/a", "https:///a"])
def test_non_http_urls_are_refused(bad):
    with pytest.raises(ValueError):
        canonicalize_url(bad)


def test_tracking_param_names():
    assert is_tracking_param("utm_source") and is_tracking_param("UTM_TERM") and is_tracking_param("fbclid")
    assert all(is_tracking_param(name) for name in TRACKING_PARAMS)
    assert not any(is_tracking_param(name) for name in ("id", "p", "page", "story", "ref", "lang", "q"))


# --- properties --------------------------------------------------------------------------------

_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
_host = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(_label, min_size=1, max_size=3),
                  st.sampled_from(["com", "net", "eg", "ma", "xn--wgbh1c", "مصر", "com."]))
_segment_chars = st.sampled_from(list("abcXYZ019-_.~!$'()*+,;=:@") + ["%2F", "%20", "%d8%a3", "%D8%A3"]
                                 + list("أخبارسياسةغزة٢٠"))
_segment = st.lists(_segment_chars, max_size=8).map("".join) | st.sampled_from([".", ".."])
_path = st.lists(_segment, max_size=5).map(lambda segs: "/" + "/".join(segs)) | st.just("")
_key = st.sampled_from(["id", "page", "q", "cat", "s", "لغة"]) | _label
# (no raw blanks: a URL's surrounding white space is stripped, as browsers do with href values)
_value = st.lists(st.sampled_from(list("ab1+%&=") + ["%20", "%2b", "غ"]), max_size=6).map("".join)
_params = st.lists(st.tuples(_key, _value), max_size=4)
_tracking = st.lists(
    st.tuples(st.sampled_from(["utm_source", "utm_medium", "UTM_Campaign", "fbclid", "gclid", "_ga", "mc_cid",
                               "yclid", "igshid", "ref_src", "msclkid", "dclid", "mc_eid"]), _value),
    min_size=1, max_size=4,
)
_fragment = st.text(max_size=10)


def _url(scheme: str, host: str, port: str, path: str, params: list[tuple[str, str]], fragment: str | None) -> str:
    query = "&".join(f"{k}={v.replace('&', '%26').replace('=', '%3D')}" for k, v in params)
    url = f"{scheme}://{host}{port}{path}"
    if query:
        url += "?" + query
    if fragment is not None:
        url += "#" + fragment
    return url


_urls = st.builds(
    _url,
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    _host,
    st.sampled_from(["", ":80", ":443", ":8080"]),
    _path,
    _params,
    st.none() | _fragment,
)


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(_urls)
@settings(max_examples=400, deadline=None, derandomize=True)
def test_idempotent(url):
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_idempotent_or_refused_on_any_string(text):
    for candidate in (text, "https://example.com/" + text):
        try:
            once = canonicalize_url(candidate)
        except ValueError:
            continue
        assert canonicalize_url(once) == once


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(_urls, _tracking, st.randoms(use_true_random=False))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_tracking_parameter_variants_are_equal(url, tracking, rnd):
    base, _, fragment = url.partition("#")
    path_part, _, query = base.partition("?")
    params = [p for p in query.split("&") if p]
    assume(not any(is_tracking_param(p.split("=", 1)[0]) for p in params))
    mixed = params + [f"{k}={v.replace('&', '%26').replace('=', '%3D')}" for k, v in tracking]
    rnd.shuffle(mixed)
    with_tracking = path_part + ("?" + "&".join(mixed) if mixed else "") + ("#" + fragment if fragment else "")
    assert canonicalize_url(with_tracking) == canonicalize_url(url)


@pytest.mark.e2e  # slow: many generated cases or a big input
@given(_urls, _fragment, _fragment)
@settings(max_examples=300, deadline=None, derandomize=True)
def test_fragment_only_variants_are_equal(url, frag_a, frag_b):
    base = url.partition("#")[0]
    assert canonicalize_url(base + "#" + frag_a) == canonicalize_url(base + "#" + frag_b) == canonicalize_url(base)


# --- page_canonical ----------------------------------------------------------------------------

BASE = "https://www.example.com/news/2024/05/20/story-123?utm_source=rss"


def _page(head: str) -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body><p>نص</p></body></html>"


def test_link_canonical_is_resolved_and_canonicalised():
    html = _page('<link rel="canonical" href="/news/2024/05/20/story-123/?fbclid=x#top">')
    assert page_canonical(html, BASE) == "https://www.example.com/news/2024/05/20/story-123"


def test_link_canonical_wins_over_og_url():
    html = _page('<meta property="og:url" content="https://www.example.com/og"><link rel="canonical" href="/c">')
    assert page_canonical(html, BASE) == "https://www.example.com/c"


def test_og_url_when_no_canonical_link():
    html = _page('<meta property="og:url" content="https://m.example.com/news/123">')
    assert page_canonical(html, BASE) == "https://m.example.com/news/123"


def test_rel_is_a_token_list_and_case_insensitive():
    html = _page('<link rel="alternate" href="/amp"><link rel="Canonical" href="/news/9">')
    assert page_canonical(html, BASE) == "https://www.example.com/news/9"


def test_accepts_a_parsed_tree_and_bytes():
    html = _page('<link rel="canonical" href="https://www.example.com/ar/أخبار/1">')
    expected = "https://www.example.com/ar/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/1"
    assert page_canonical(lxml.html.document_fromstring(html), BASE) == expected
    assert page_canonical(html.encode("utf-8"), BASE) == expected


@pytest.mark.parametrize(
    "head",
    [
        '<link rel="canonical" href="">',
        '<link rel="canonical" href="   ">',
        '<link rel="canonical" href="https://www.example.com/">',  # CMS default: every article "is" the home page
        '<link rel="canonical" href="https://other.example.org/">',
        '<link rel="canonical" href="javascript:void(0)">',
        '<meta property="og:url" content="">',
        "",
    ],
)
def test_useless_claims_are_ignored(head):
    assert page_canonical(_page(head), BASE) is None


def test_rejected_link_falls_through_to_og_url():
    html = _page('<link rel="canonical" href="https://www.example.com/"><meta property="og:url" content="/news/7">')
    assert page_canonical(html, BASE) == "https://www.example.com/news/7"


def test_root_page_may_claim_the_root():
    html = _page('<link rel="canonical" href="https://www.example.com/">')
    assert page_canonical(html, "https://www.example.com/?utm_source=x") == "https://www.example.com/"


@pytest.mark.parametrize("html", ["", "   ", "<?xml version='1.0' encoding='utf-8'?><html><head></head></html>"])
def test_empty_or_declared_documents(html):
    assert page_canonical(html, BASE) is None
