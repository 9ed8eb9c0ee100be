"""feedpub unsubscribe: one address, --import, --verify (RFC 8058 one-click POST)."""
from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from feedpub.cli import main

TOML = """\
[site]
title = "Test Blog"
url = "https://example.com"

[send]
suppress = "lists/unsubscribed.csv"
"""


@pytest.fixture
def site(make_site, monkeypatch):
    root = make_site({}, toml=TOML)
    monkeypatch.chdir(root)
    monkeypatch.setenv("FEEDPUB_NOW", "2026-11-23T12:00:00+00:00")
    return root


def run(capsys, *args):
    code = main(["unsubscribe", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_one_address_with_reason(site, capsys):
    code, out, _ = run(capsys, "Ann@Example.org", "--reason", "replied STOP")
    assert code == 0 and "Ann@Example.org will not receive the digest again" in out
    assert (site / "lists/unsubscribed.csv").read_text("utf-8") == "email,reason,date\nAnn@Example.org,replied STOP,2026-11-23\n"
    code, out, _ = run(capsys, "ann@example.ORG")
    assert code == 0 and "already on the suppression list" in out
    assert (site / "lists/unsubscribed.csv").read_text("utf-8").count("\n") == 2


def test_invalid_address_is_a_usage_error(site, capsys):
    code, _, err = run(capsys, "not-an-address")
    assert code == 2 and "not a valid email address" in err
    assert not (site / "lists/unsubscribed.csv").exists()


def test_import_reports_bad_lines_with_numbers(site, capsys):
    (site / "old.txt").write_text("a@example.org\nB@example.org\nbroken\na@example.org\n", "utf-8")
    run(capsys, "b@example.org")
    code, out, err = run(capsys, "--import", "old.txt")
    assert code == 0
    assert "added 1 address(es)" in out and "2 already there" in out and "1 invalid skipped" in out
    assert "old.txt:3: 'broken' is not a valid email address; skipped" in err
    rows = (site / "lists/unsubscribed.csv").read_text("utf-8").splitlines()
    assert rows[-1] == "a@example.org,imported from old.txt,2026-11-23"


def test_import_json(site, capsys):
    (site / "old.csv").write_text("email\nx@example.org\nbad\n", "utf-8")
    code, out, _ = run(capsys, "--import", "old.csv", "--json")
    data = json.loads(out)
    assert code == 0 and data["added"] == ["x@example.org"] and data["invalid"][0]["line"] == 3


def test_needs_a_configured_list(make_site, monkeypatch, capsys):
    monkeypatch.chdir(make_site({}))
    code, _, err = run(capsys, "a@example.org")
    assert code == 2 and "[send] suppress" in err


def test_exactly_one_mode(site, capsys):
    assert run(capsys)[0] == 2
    assert run(capsys, "a@example.org", "--verify", "https://x.example")[0] == 2


def one_click(request: Request) -> Response:
    ok = (request.method == "POST" and request.get_data() == b"List-Unsubscribe=One-Click"
          and request.content_type == "application/x-www-form-urlencoded" and "Cookie" not in request.headers)
    return Response("", status=200 if ok else 400)


def test_verify_accepts_a_good_endpoint(httpserver, capsys):
    httpserver.expect_request("/unsub", method="POST").respond_with_handler(one_click)
    code, out, _ = run(capsys, "--verify", httpserver.url_for("/unsub?email=a%40example.org&token=t"), "--insecure")
    assert code == 0 and "ok:" in out and "HTTP 200" in out
    assert httpserver.log[0][0].args["token"] == "t"


@pytest.mark.parametrize("status, words", [(405, "HTTP 405"), (500, "HTTP 500"), (302, "redirect")])
def test_verify_rejects_bad_answers(httpserver, capsys, status, words):
    headers = {"Location": "https://example.com/login"} if status == 302 else {}
    httpserver.expect_request("/unsub").respond_with_data("", status=status, headers=headers)
    code, _, err = run(capsys, "--verify", httpserver.url_for("/unsub"), "--insecure")
    assert code == 1 and words in err


def test_verify_wants_https(httpserver, capsys):
    code, _, err = run(capsys, "--verify", httpserver.url_for("/unsub"))
    assert code == 1 and "https" in err
    assert httpserver.log == []  # nothing was posted


def test_verify_json_and_unreachable(capsys):
    code, out, _ = run(capsys, "--verify", "http://127.0.0.1:9/unsub", "--insecure", "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["problems"]
