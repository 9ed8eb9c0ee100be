"""feedpub new: the file name Jekyll would give, front matter that parses back, no clobbering."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import frontmatter
import pytest
import yaml

from feedpub.cli import main
from feedpub.scaffold import jekyll_slug

from conftest import FIXED_NOW


@pytest.fixture
def site(make_site, monkeypatch) -> Path:
    root = make_site({}, toml='[site]\ntitle = "T"\nurl = "https://t.example"\ntimezone = "America/Denver"\n')
    monkeypatch.chdir(root)
    monkeypatch.setenv("FEEDPUB_NOW", FIXED_NOW.isoformat())
    return root


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("title, slug", [
    ("Hello, World!", "hello-world"),
    ("  Leading and trailing  ", "leading-and-trailing"),
    ("C++ & Rust: 2024 edition", "c-rust-2024-edition"),
    ("Ünïcode Ωmega naïve café", "ünïcode-ωmega-naïve-café"),
    ("snake_case and dots.in.names", "snake-case-and-dots-in-names"),
    ("日本語のタイトル", "日本語のタイトル"),
    ("e\u0301 combining", "e\u0301-combining"),     # marks stay with their letter (Jekyll keeps \p{M})
])
def test_slug_matches_jekyll_default_slugify(title, slug):
    assert jekyll_slug(title) == slug


def test_new_creates_a_dated_post_in_the_site_time_zone(site, capsys):
    code, out, err = run(capsys, "new", "Sales: what I learned", "--categories", "sales, careers", "--tags", "b2b")
    assert code == 0, err
    # 12:00 UTC is 05:00 in Denver, the same day
    assert out.strip() == "posts/2026-11-23-sales-what-i-learned.md"
    post = frontmatter.load(site / out.strip())
    assert post["title"] == "Sales: what I learned"
    assert post["categories"] == ["sales", "careers"] and post["tags"] == ["b2b"]
    assert post["date"] == "2026-11-23 05:00:00 -0700"   # Jekyll's format; PyYAML keeps it a string
    assert "draft" not in post.metadata


def test_new_uses_the_site_date_not_the_utc_date(site, capsys, monkeypatch):
    monkeypatch.setenv("FEEDPUB_NOW", "2026-11-24T03:00:00+00:00")  # still the 23rd in Denver
    code, out, _ = run(capsys, "new", "Late")
    assert out.strip() == "posts/2026-11-23-late.md"


@pytest.mark.parametrize("given, name, stored", [
    ("2024-07-18", "2024-07-18-x.md", date(2024, 7, 18)),
    ("2024-07-18T08:20", "2024-07-18-x.md", "2024-07-18 08:20:00 -0600"),
    ("2024-07-18T23:30:00+00:00", "2024-07-18-x.md", "2024-07-18 23:30:00 +0000"),
])
def test_new_with_date(site, capsys, given, name, stored):
    code, out, err = run(capsys, "new", "x", "--date", given)
    assert code == 0, err
    assert Path(out.strip()).name == name
    assert frontmatter.load(site / out.strip())["date"] == stored


def test_new_draft_and_slug(site, capsys):
    code, out, _ = run(capsys, "new", "!!!", "--slug", "Bang Bang", "--draft")
    assert out.strip() == "posts/2026-11-23-bang-bang.md"
    assert frontmatter.load(site / out.strip())["draft"] is True


def test_new_refuses_to_overwrite(site, capsys):
    run(capsys, "new", "Twice")
    path = site / "posts" / "2026-11-23-twice.md"
    path.write_text("---\ntitle: mine\n---\nmy words\n", "utf-8")
    code, out, err = run(capsys, "new", "Twice")
    assert code == 1
    assert "already exists" in err and "nothing was written" in err
    assert path.read_text("utf-8").endswith("my words\n")


def test_new_title_without_letters_needs_a_slug(site, capsys):
    code, out, err = run(capsys, "new", "???")
    assert code == 1 and "--slug" in err
    assert list((site / "posts").iterdir()) == []


def test_new_bad_date_is_a_usage_error(site, capsys):
    code, out, err = run(capsys, "new", "x", "--date", "next tuesday")
    assert code == 2 and "--date" in err and "ISO" in err


@pytest.mark.parametrize("title", ["yes", "null", "123", "- dash", "#hash", "a: b", "'quoted'", "[x]", "ünï ✓"])
def test_tricky_titles_round_trip_through_yaml(site, capsys, title):
    code, out, err = run(capsys, "new", "--slug", "t", "--", title)
    assert code == 0, err
    assert frontmatter.load(site / out.strip())["title"] == title


def test_new_writes_into_jekyll_posts_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "_config.yml").write_text("title: J\nurl: https://j.example\n", "utf-8")
    (tmp_path / "_posts").mkdir()
    code, out, err = run(capsys, "new", "Jekyll post", "--date", "2024-01-02")
    assert code == 0, err
    assert out.strip() == "_posts/2024-01-02-jekyll-post.md"


def test_new_without_config_uses_posts_and_utc(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FEEDPUB_NOW", "2026-01-01T23:30:00+00:00")
    code, out, err = run(capsys, "new", "No config")
    assert code == 0
    assert out.strip() == "posts/2026-01-01-no-config.md"
    assert "feedpub init" in err
    meta = yaml.safe_load((tmp_path / out.strip()).read_text("utf-8").split("---")[1])
    assert meta["date"] == "2026-01-01 23:30:00 +0000"
