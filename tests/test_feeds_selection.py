"""Which posts go in which feed file: paths, slugs, archive pages."""
from __future__ import annotations

from pathlib import Path

import pytest

from feedpub.errors import ConfigError
from feedpub.feeds.selection import archive_path, select_feeds

from test_feeds_support import config, post, site


@pytest.mark.parametrize("path,page,expected", [
    ("feed.xml", 1, "feed-archive-1.xml"),
    ("feeds/all.json", 12, "feeds/all-archive-12.json"),
    ("atom", 2, "atom-archive-2"),
])
def test_archive_path(path: str, page: int, expected: str) -> None:
    assert archive_path(path, page) == expected


def test_selection_without_rendering(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"limit": 2, "categories": True, "tags": ["b"]})
    posts = [post(i, categories=("x",) if i % 2 else ("y", "x"), tags=("b",) if i > 2 else ()) for i in range(6)]
    posts.append(post(9, in_feeds=False, categories=("z",)))
    specs = {(s.kind, s.name): s for s in select_feeds(site(cfg, posts))}
    assert sorted(specs) == [("category", "x"), ("category", "y"), ("main", ""), ("tag", "b")]
    assert [p.title for p in specs["main", ""].posts] == ["Post number 5", "Post number 4"]
    assert [p.title for p in specs["category", "y"].posts] == ["Post number 4", "Post number 2"]
    assert specs["category", "x"].paths == {"atom": "categories/x/feed.xml", "rss": "categories/x/rss.xml",
                                            "json": "categories/x/feed.json"}
    assert specs["tag", "b"].paths["json"] == "tags/b/feed.json"


def test_excluded_posts_are_replaced_by_older_ones(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"limit": 2})
    posts = [post(i) for i in range(4)]
    [main] = select_feeds(site(cfg, posts), exclude=frozenset({posts[3].id}))
    assert [p.id for p in main.posts] == [posts[2].id, posts[1].id]


@pytest.mark.parametrize("value", ["/abs/feed.xml", "a/../../x.xml", "..", "dir/"])
def test_bad_main_paths(tmp_path: Path, value: str) -> None:
    if value.startswith("/"):
        # A leading slash means "at the site root", not the file system root.
        [spec] = select_feeds(site(config(tmp_path, feeds={"atom": value}), [post(1)]))
        assert spec.paths["atom"] == "abs/feed.xml"
        return
    with pytest.raises(ConfigError, match="feeds.atom"):
        select_feeds(site(config(tmp_path, feeds={"atom": value}), [post(1)]))
