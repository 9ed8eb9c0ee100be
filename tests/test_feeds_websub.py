"""WebSub: hub links in every format, and `feedpub ping` against a hub on 127.0.0.1."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lxml import etree
from werkzeug import Request, Response

from feedpub.feeds import write_feeds
from feedpub.feeds.websub import publish

from test_feeds_support import Render, config, post, site

HUB = "https://hub.example.com/"


def test_hub_links_in_atom_rss_and_json(tmp_path: Path) -> None:
    cfg = config(tmp_path, feeds={"hub": HUB})
    out = tmp_path / "public"
    write_feeds(site(cfg, [post(1)]), Render(), out)
    atom = etree.parse(str(out / "feed.xml")).getroot()
    rels = {l.get("rel"): l.get("href") for l in atom.findall("{http://www.w3.org/2005/Atom}link")}
    assert rels["hub"] == HUB and rels["self"] == "https://blog.example.com/feed.xml"
    rss = etree.parse(str(out / "rss.xml")).getroot()
    rels = {l.get("rel"): l.get("href") for l in rss.findall("channel/{http://www.w3.org/2005/Atom}link")}
    assert rels == {"hub": HUB, "self": "https://blog.example.com/rss.xml"}
    j = json.loads((out / "feed.json").read_text())
    assert j["hubs"] == [{"type": "WebSub", "url": HUB}]


def test_no_hub_no_links(tmp_path: Path) -> None:
    out = tmp_path / "public"
    write_feeds(site(config(tmp_path), [post(1)]), Render(), out)
    assert b'rel="hub"' not in (out / "feed.xml").read_bytes()
    assert "hubs" not in json.loads((out / "feed.json").read_text())


def _recorder(answers: list[int]):
    calls: list[dict[str, list[str]]] = []

    def handler(request: Request) -> Response:
        calls.append(parse_qs(request.get_data(as_text=True)))
        status = answers.pop(0) if answers else 204
        headers = {"Retry-After": "0"} if status == 429 else {}
        return Response("busy" if status >= 400 else "", status=status, headers=headers)

    return calls, handler


def test_publish_posts_form_and_retries_transient_errors(httpserver) -> None:
    calls, handler = _recorder([503, 429, 204, 400])
    httpserver.expect_request("/", method="POST").respond_with_handler(handler)
    sleeps: list[float] = []
    results = publish(httpserver.url_for("/"), ["https://b.example/feed.xml", "https://b.example/rss.xml"],
                      retries=3, backoff=0.5, sleep=sleeps.append)
    assert [(r.ok, r.status, r.attempts) for r in results] == [(True, 204, 3), (False, 400, 1)]
    assert results[1].error == "HTTP 400: busy"
    assert calls[0] == {"hub.mode": ["publish"], "hub.url": ["https://b.example/feed.xml"]}
    assert calls[-1]["hub.url"] == ["https://b.example/rss.xml"]
    assert sleeps == [0.5, 1.0]


def test_publish_gives_up_after_the_retries(httpserver) -> None:
    calls, handler = _recorder([500, 500, 500])
    httpserver.expect_request("/", method="POST").respond_with_handler(handler)
    [result] = publish(httpserver.url_for("/"), ["https://b.example/feed.xml"], retries=2, sleep=lambda s: None)
    assert (result.ok, result.status, result.attempts) == (False, 500, 3)
    assert len(calls) == 3


def test_publish_network_error_is_a_result_not_an_exception() -> None:
    [result] = publish("http://127.0.0.1:9/", ["https://b.example/feed.xml"], retries=1, sleep=lambda s: None)
    assert not result.ok and result.status is None and result.attempts == 2 and result.error


def _feedpub(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDPUB_NOW": "2026-11-23T12:00:00+00:00", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "feedpub", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_ping_command_announces_every_feed(sample_site: Path, httpserver) -> None:
    pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")
    calls, handler = _recorder([])
    httpserver.expect_request("/hub", method="POST").respond_with_handler(handler)
    hub = httpserver.url_for("/hub")
    result = _feedpub(sample_site, "ping", "--hub", hub)
    assert result.returncode == 0, result.stderr
    announced = sorted(c["hub.url"][0] for c in calls)
    assert "https://blog.example.com/feed.xml" in announced
    assert "https://blog.example.com/categories/career/rss.xml" in announced
    assert len(announced) == 12        # main + 3 categories, 3 formats each
    assert result.stdout.splitlines()[-1] == f"12 of 12 feed(s) announced to {hub}"


def test_ping_failure_exits_1_and_json(sample_site: Path, httpserver) -> None:
    pytest.importorskip("feedpub.posts", reason="feedpub/posts.py (scan) has not landed yet")
    httpserver.expect_request("/hub", method="POST").respond_with_data("no", status=503)
    result = _feedpub(sample_site, "ping", "--hub", httpserver.url_for("/hub"), "--retries", "0", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert all(not r["ok"] and r["status"] == 503 for r in report["results"])


def test_ping_without_a_hub_is_a_usage_error(sample_site: Path) -> None:
    result = _feedpub(sample_site, "ping")
    assert result.returncode == 2
    assert "[feeds] hub" in result.stderr
