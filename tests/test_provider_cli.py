"""`feedpub -v send --yes` through a provider on 127.0.0.1: the request dump is there, the key is not."""
from __future__ import annotations

import json

from werkzeug import Request, Response

from feedpub.cli import main

KEY = "pm-verbose-token-0a1b2c3d4e"


def test_verbose_send_dumps_requests_without_the_key(sample_site, httpserver, monkeypatch, capsys):
    toml = (sample_site / "feedpub.toml").read_text("utf-8").replace('provider = "outbox"', 'provider = "postmark"')
    (sample_site / "feedpub.toml").write_text(toml + f'base_url = "{httpserver.url_for("")}"\n', "utf-8")
    monkeypatch.chdir(sample_site)
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", KEY)
    monkeypatch.setenv("FEEDPUB_UNSUBSCRIBE_SECRET", "u" * 32)
    monkeypatch.setenv("FEEDPUB_NOW", "2024-07-20T12:00:00+00:00")
    monkeypatch.delenv("FEEDPUB_BASE_URL", raising=False)
    seen: list[Request] = []

    def batch(request: Request) -> Response:
        seen.append(request)
        body = json.loads(request.get_data())
        return Response(json.dumps([{"ErrorCode": 0, "Message": "OK", "MessageID": f"m{i}"} for i in range(len(body))]),
                        content_type="application/json")

    httpserver.expect_request("/message-streams/broadcast/suppressions/dump").respond_with_json({"Suppressions": []})
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(batch)
    code = main(["-v", "send", "--last", "1", "--yes"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert seen and seen[0].headers["X-Postmark-Server-Token"] == KEY  # the server did get it
    assert "> POST " in err and "/email/batch" in err  # the dump is there
    assert KEY not in out and KEY not in err
    assert "X-Postmark-Server-Token: [redacted]" in err or "x-postmark-server-token: [redacted]" in err
