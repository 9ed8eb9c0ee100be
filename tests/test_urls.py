"""feedpub.urls: relative URLs become absolute against the post URL; bad schemes are dropped."""
from __future__ import annotations

import pytest

from feedpub import urls

BASE = "https://example.com/blog/2024/07/18/post.html"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("img/a.png", "https://example.com/blog/2024/07/18/img/a.png"),
        ("../x.html", "https://example.com/blog/2024/07/x.html"),
        ("/about/", "https://example.com/about/"),
        ("//cdn.example.net/a.js", "https://cdn.example.net/a.js"),
        ("#fn:1", "https://example.com/blog/2024/07/18/post.html#fn:1"),
        ("?page=2", "https://example.com/blog/2024/07/18/post.html?page=2"),
        ("https://other.org/x", "https://other.org/x"),
        ("HTTP://Other.org/x", "HTTP://Other.org/x"),
        ("mailto:me@example.com", "mailto:me@example.com"),
        ("  spaced.html  ", "https://example.com/blog/2024/07/18/spaced.html"),
        ("", "https://example.com/blog/2024/07/18/post.html"),
    ],
)
def test_absolute_resolves_against_the_post_url(value, expected):
    assert urls.absolute(value, BASE) == expected


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        " \x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://[::1",  # unparsable
        "\\\\evil.example/x",
    ],
)
def test_absolute_drops_unsafe_or_broken_urls(value):
    assert urls.absolute(value, BASE) is None


def test_media_schemes_are_narrower_than_link_schemes():
    assert urls.absolute("mailto:a@b.c", BASE, schemes=urls.MEDIA_SCHEMES) is None
    assert urls.absolute("x.mp4", BASE, schemes=urls.MEDIA_SCHEMES) == "https://example.com/blog/2024/07/18/x.mp4"


def test_srcset_every_candidate_absolute_and_descriptors_kept():
    value = "a.png 1x, /img/b.png 2x,//cdn.x/c.png 640w"
    assert urls.absolute_srcset(value, BASE) == (
        "https://example.com/blog/2024/07/18/a.png 1x, https://example.com/img/b.png 2x, https://cdn.x/c.png 640w"
    )


def test_srcset_drops_unsafe_candidates_and_keeps_commas_inside_urls():
    assert urls.absolute_srcset("javascript:x 1x, ok.png 2x", BASE) == "https://example.com/blog/2024/07/18/ok.png 2x"
    assert urls.absolute_srcset("javascript:x 1x", BASE) is None
    assert urls.parse_srcset("a,b.png 1x, c.png") == [("a,b.png", "1x"), ("c.png", "")]
    assert urls.parse_srcset("a.png, b.png 2x") == [("a.png", ""), ("b.png", "2x")]


def test_host_of():
    assert urls.host_of("https://WWW.YouTube.com/embed/x") == "www.youtube.com"
    assert urls.host_of("http://[::1") == ""
