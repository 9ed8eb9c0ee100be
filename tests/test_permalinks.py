"""Post URLs and ids, checked against Jekyll's own tests and fixtures."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from feedpub import permalinks
from feedpub.permalinks import PermalinkError, absolute, expand, jekyll_id, slugify, template_for, titleize

DATE = datetime(2008, 11, 21, 9, 5, 7, tzinfo=timezone.utc)


def url(pattern, *, slug="complex", stem="2008-11-21-complex", categories=(), path="/2008-11-21-complex", date=DATE):
    return expand(template_for(pattern), date=date, slug=slug, stem=stem, categories=list(categories), path=path)


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("date", "/2008/11/21/complex.html"),
        ("pretty", "/2008/11/21/complex/"),
        ("ordinal", "/2008/326/complex.html"),
        ("none", "/complex.html"),
        ("weekdate", "/2008/W47/Fri/complex.html"),
        ("/:year/:title/", "/2008/complex/"),
        ("/blog/:i_month/:i_day/:short_month-:long_month/:short_year/:hour:minute:second/:slug", "/blog/11/21/Nov-November/08/090507/complex"),
        ("/:collection/:path:output_ext", "/posts/2008-11-21-complex.html"),
        ("/:w_year/:week/:w_day/:y_day/:long_day", "/2008/47/5/326/Friday"),
    ],
)
def test_styles_and_placeholders(style, expected):
    assert url(style) == expected


def test_categories_lowercased_and_joined_like_jekyll():
    assert url("date", categories=["foo", "Bar", "foo", "bar"]) == "/foo/bar/2008/11/21/complex.html"
    assert url("date", categories=["sales engineering", "career"]) == "/sales%20engineering/career/2008/11/21/complex.html"
    assert url("/:slugified_categories/:title", categories=["Sales Engineering"]) == "/sales-engineering/complex"


def test_jekyll_test_url_oracles():
    # test/test_url.rb: the document "escape-+ #%20[].md"
    assert url("/methods/:title/:name:output_ext", slug="escape-+ #%20[]", stem="escape-+ #%20[]") == "/methods/escape-+-20/escape-20.html"
    # ":slug_" keeps the underscore (test "check for key without trailing underscore")
    assert url("/methods/:name-:slug_:collection_:title", slug="configuration", stem="configuration") == (
        "/methods/configuration-configuration_posts_configuration"
    )
    # unknown placeholders are errors (Jekyll raises NoMethodError)
    with pytest.raises(PermalinkError, match=":headline"):
        url("/methods/:headline")


def test_per_post_permalinks_from_jekyll_fixtures():
    assert url("my_category/permalinked-post") == "/my_category/permalinked-post"
    assert url("/:title", slug="extensionless-permalink") == "/extensionless-permalink"
    assert url("date", slug="trailing-dots") == "/2008/11/21/trailing-dots.html"


@pytest.mark.parametrize(
    "pattern",
    ["/%2e%2e/%2e%2e/%2e%2e/baddie.html", "/a/%2E%2E/b", "/%2e/x", "/a/%5c%2e%2e%5cb", "/x/%2e%2e"],
)
def test_traversal_rejected(pattern):
    with pytest.raises(PermalinkError, match="climbs out of the site"):
        url(pattern)


def test_literal_dots_are_sanitized_like_jekyll():
    assert url("/../../etc/:title") == "/etc/complex"
    assert url("/./a/.//b") == "/a/b"


def test_slugify_modes():
    assert slugify("Escape-+ #%20[]", "pretty", cased=True) == "Escape-+-20"
    assert slugify("Escape-+ #%20[]") == "escape-20"
    assert slugify("The _config.yml file") == "the-config-yml-file"
    assert slugify("The _config.yml file", "pretty") == "the-_config.yml-file"
    assert slugify("Ünïcode Ωmega 42") == "ünïcode-ωmega-42"
    assert slugify("--") == ""


def test_titleize_like_jekyll():
    assert titleize("i-dont-like-zeroes") == "I Dont Like Zeroes"
    assert titleize("escape-+ %20[]") == "Escape + %20[]"
    assert titleize("mixedCASE") == "Mixedcase"


def test_id_is_jekyll_document_id():
    assert jekyll_id("/2008/11/21/complex.html", "complex") == "/2008/11/21/complex"
    assert jekyll_id("/2008/11/21/complex/", "complex") == "/2008/11/21/complex"   # Ruby's dirname
    assert jekyll_id("/extensionless-permalink", "extensionless-permalink") == "/extensionless-permalink"
    assert jekyll_id("/my_category/permalinked-post", "permalinked-post") == "/my_category/permalinked-post"


def test_absolute_urls_normalize_like_addressable():
    site = "https://example.com/blog"
    assert absolute(site, "/2024/01/01/a.html") == "https://example.com/blog/2024/01/01/a.html"
    assert absolute(site, "img/a.png") == "https://example.com/blog/img/a.png"
    assert absolute(site, "/my page/") == "https://example.com/blog/my%20page/"
    assert absolute(site, "/%7e%41/b%2fc") == "https://example.com/blog/~A/b%2Fc"
    assert absolute(site, "/2014/03/22/escape-+ %20[]") == "https://example.com/blog/2014/03/22/escape-+%20%20%5B%5D"
    # "#" starts a fragment for Addressable, so jekyll-feed's id keeps it
    assert absolute(site, "/2009/03/12/hash-#1") == "https://example.com/blog/2009/03/12/hash-#1"
    assert absolute(site, "/caf%C3%A9") == "https://example.com/blog/caf%C3%A9"


def test_compiled_patterns_are_cached():
    permalinks._compile.cache_clear()
    url("date")
    url("date")
    assert permalinks._compile.cache_info().hits >= 1
