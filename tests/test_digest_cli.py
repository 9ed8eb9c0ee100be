"""feedpub digest end to end: real posts on disk, real scan and render, files written."""
from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from test_digest_support import SITE_TOML

from feedpub.cli import main

NOW = "2026-11-23T12:00:00+00:00"
TOML = SITE_TOML


def post(date: str, title: str, body: str = "Hello there.\\n\\nSecond paragraph.\\n") -> tuple[str, str]:
    slug = title.lower().replace(" ", "-")
    return f"posts/{date}-{slug}.md", f"---\ntitle: {title}\ndate: {date} 10:00:00 +0000\n---\n{body}"


@pytest.fixture
def site(make_site, monkeypatch):
    root = make_site(dict([
        post("2026-11-22", "Fresh post", "A **fresh** post with [a link](/about/).\n\nMore.\n"),
        post("2026-11-19", "Older post"),
        post("2026-10-01", "Archive post"),
    ]), toml=TOML)
    monkeypatch.chdir(root)
    monkeypatch.setenv("FEEDPUB_NOW", NOW)
    return root


def run(capsys, *args):
    code = main(["digest", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_first_run_writes_the_three_files(site, capsys):
    code, out, err = run(capsys)
    assert code == 0, err
    assert "Subject: Test Blog: 2 new posts" in out
    assert "posts of the last 7 days (no digest has been sent yet)" in out
    folder = site / "public" / "digest"
    assert sorted(p.name for p in folder.iterdir()) == ["digest.eml", "digest.html", "digest.txt"]
    for name in ("digest.html", "digest.txt", "digest.eml"):
        assert str(folder / name) in out
    html = (folder / "digest.html").read_text("utf-8")
    assert "Fresh post" in html and "Older post" in html and "Archive post" not in html
    assert 'href="https://example.com/about/"' in html
    assert "%%UNSUBSCRIBE_URL%%" not in html
    assert "https://example.com/unsubscribe?email=reader%40example.com&amp;token=preview" in html
    msg = email.message_from_bytes((folder / "digest.eml").read_bytes(), policy=email.policy.default)
    assert msg["To"] == "reader@example.com" and msg["Subject"] == "Test Blog: 2 new posts"
    assert msg.get_body(("html",)).get_content() == html
    assert msg.get_body(("plain",)).get_content() == (folder / "digest.txt").read_text("utf-8")
    assert msg["List-Unsubscribe"] == "<https://example.com/unsubscribe?email=reader%40example.com&token=preview>"


def test_last_and_out_and_json(site, capsys, tmp_path):
    code, out, _ = run(capsys, "--last", "3", "--out", str(tmp_path / "o"), "--json")
    assert code == 0
    data = json.loads(out)["digest"]
    assert data["subject"] == "Test Blog: 3 new posts"
    assert data["posts"] == 3 and data["more"] == 0 and data["reason"] == "the last 3 posts"
    assert data["paths"]["eml"] == str(tmp_path / "o" / "digest.eml")
    assert data["html_bytes"] == len((tmp_path / "o" / "digest.html").read_bytes())
    assert not (site / "public").exists()


def test_since(site, capsys):
    code, out, _ = run(capsys, "--since", "2026-11-20")
    assert code == 0 and "Subject: Test Blog: 1 new post" in out and "posts since 2026-11-20" in out


def test_nothing_new_exits_0_and_writes_nothing(site, capsys):
    code, out, _ = run(capsys, "--since", "2026-11-23")
    assert code == 0
    assert "nothing new: no posts since 2026-11-23; no digest written" in out
    assert not (site / "public").exists()
    code, out, _ = run(capsys, "--since", "2026-11-23", "--json")
    assert json.loads(out)["digest"] is None


def test_since_the_last_sent_digest_from_the_journal(site, capsys):
    journal = site / ".feedpub" / "journal.jsonl"
    journal.parent.mkdir()
    journal.write_text(json.dumps({
        "event": "complete", "digest": "x" * 24, "date": "2026-11-20T12:00:00+00:00",
        "newest": "2026-11-19T10:00:00+00:00", "post_ids": [], "subject": "S",
    }) + "\n", "utf-8")
    code, out, err = run(capsys)
    assert code == 0, err
    assert "Subject: Test Blog: 1 new post" in out and "since the last digest" in out


def test_since_and_last_together_is_a_usage_error(site, capsys):
    code, _, err = run(capsys, "--since", "2026-11-01", "--last", "2")
    assert code == 2 and "not both" in err


def test_bad_since_date(site, capsys):
    code, _, err = run(capsys, "--since", "yesterday")
    assert code == 1 and "expected a date like 2024-07-18" in err


def test_size_warning_is_printed(make_site, monkeypatch, capsys):
    big = "\n\n".join("Paragraph " + "words " * 80 for _ in range(60))
    root = make_site(dict(post(f"2026-11-2{i}", f"Big {i}", big) for i in range(3)),
                     toml=TOML + '\n[digest]\ncontent = "full"\n')
    monkeypatch.chdir(root)
    monkeypatch.setenv("FEEDPUB_NOW", NOW)
    code, _, err = run(capsys, "--last", "3")
    assert code == 0
    assert "Gmail clips" in err and "max_posts" in err


def test_open_opens_the_html(site, capsys, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    code, _, _ = run(capsys, "--last", "1", "--open")
    assert code == 0 and opened == [(site / "public" / "digest" / "digest.html").as_uri()]


def test_help_documents_every_option(capsys):
    assert main(["digest", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--since", "--last", "--out", "--open", "--json", "--config"):
        assert option in out


def test_compose_takes_another_journal(site, now):
    from feedpub.config import load_config
    from feedpub.digest.compose import compose

    journal = site / "elsewhere.jsonl"
    journal.write_text(json.dumps({
        "event": "complete", "digest": "y" * 24, "date": "2026-11-21T12:00:00+00:00",
        "newest": "2026-11-20T00:00:00+00:00", "post_ids": [], "subject": "S",
    }) + "\n", "utf-8")
    config = load_config(site / "feedpub.toml", root=site)
    result = compose(config, now, journal=journal)
    assert [p.title for p in result.digest.all_posts] == ["Fresh post"]
    assert result.last_sent.isoformat() == "2026-11-20T00:00:00+00:00"
    assert compose(config, now).digest.count == 2  # the default journal is empty: first-run window


def test_max_posts_is_reported(make_site, monkeypatch, capsys):
    root = make_site(dict(post(f"2026-11-2{i}", f"Post {i}") for i in range(3)), toml=TOML + "\n[digest]\nmax_posts = 1\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("FEEDPUB_NOW", NOW)
    code, out, _ = run(capsys, "--last", "3")
    assert code == 0
    assert "Posts:   3 (1 shown, 2 under More posts), chosen as the last 3 posts" in out
    assert "More posts" in (root / "public" / "digest" / "digest.txt").read_text("utf-8")


def test_a_broken_post_stops_the_digest(site, capsys):
    (site / "posts" / "2026-11-21-broken.md").write_text("---\ntitle: [unclosed\n---\nBody\n", "utf-8")
    code, _, err = run(capsys, "--last", "2")
    assert code == 1
    assert "2026-11-21-broken.md" in err and "no digest written" in err
    assert not (site / "public").exists()
