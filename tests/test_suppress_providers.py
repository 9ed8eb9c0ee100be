"""Each provider's suppression list fetched from a real server on 127.0.0.1, every page of
it, and the addresses it names never receive the digest."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from werkzeug import Request, Response

from feedpub.config import SendConfig
from feedpub.errors import ProviderError
from feedpub.send import brevo, mailgun, postmark, resend, sendgrid, ses
from feedpub.send.suppress import provider_suppressions

from specs.helpers import load, response_schema, validate

KEY = "suppress-test-key-123"


def js(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def conf(httpserver, **kw) -> SendConfig:
    return SendConfig(base_url=httpserver.url_for(""), timeout=5, **kw)


def test_postmark_stream_suppressions(httpserver):
    answer = {"Suppressions": [
        {"EmailAddress": "Gone@Example.org", "SuppressionReason": "ManualSuppression", "Origin": "Recipient", "CreatedAt": "2026-11-01T10:00:00-04:00"},
        {"EmailAddress": "bounced@example.org", "SuppressionReason": "HardBounce", "Origin": "Recipient", "CreatedAt": "2026-11-02T10:00:00-04:00"},
    ]}
    httpserver.expect_oneshot_request("/message-streams/newsletter/suppressions/dump", method="GET",
                                      headers={"X-Postmark-Server-Token": KEY}).respond_with_json(answer)
    with postmark.create(conf(httpserver, message_stream="newsletter"), {"POSTMARK_SERVER_TOKEN": KEY}, None) as s:
        assert s.fetch_suppressions() == {"gone@example.org", "bounced@example.org"}
    httpserver.check_assertions()


SENDGRID_FIELDS = {
    "unsubscribes": {},
    "bounces": {"reason": "550 5.1.1 The email account does not exist.", "status": "5.1.1"},
    "spam_reports": {"ip": "10.63.202.100"},
}


def test_sendgrid_pages_through_three_lists(httpserver):
    def handler(request: Request) -> Response:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        kind = request.path.rsplit("/", 1)[1]
        offset = int(request.args["offset"])
        limit = int(request.args["limit"])
        total = {"unsubscribes": 501, "bounces": 2, "spam_reports": 0}[kind]
        page = [{"email": f"{kind}{i}@example.org", "created": 1700000000, **SENDGRID_FIELDS[kind]}
                for i in range(offset, min(offset + limit, total))]
        return js(page)

    for kind in ("unsubscribes", "bounces", "spam_reports"):
        httpserver.expect_request(f"/v3/suppression/{kind}", method="GET").respond_with_handler(handler)
    with sendgrid.create(conf(httpserver), {"SENDGRID_API_KEY": KEY}, None) as s:
        found = s.fetch_suppressions()
    assert len(found) == 503 and "unsubscribes500@example.org" in found and "bounces1@example.org" in found
    spec = load("sendgrid_suppressions_v3.yaml")
    assert spec["paths"]["/v3/suppression/unsubscribes"]["get"]["summary"] == "Retrieve all global suppressions"
    assert sendgrid.SendGridSender.PAGE == spec["components"]["parameters"]["PaginationCommonLimit"]["schema"]["maximum"]
    for kind, extra in SENDGRID_FIELDS.items():  # the pages served above are what SendGrid documents
        validate("sendgrid_suppressions_v3.yaml", response_schema("sendgrid_suppressions_v3.yaml", f"/v3/suppression/{kind}", "200", method="get"),
                 [{"email": "x@example.org", "created": 1700000000, **extra}])
    offsets = [(r.path, r.args["offset"]) for r, _ in httpserver.log]
    assert ("/v3/suppression/unsubscribes", "500") in offsets and ("/v3/suppression/spam_reports", "0") in offsets


def test_mailgun_follows_paging_links_on_our_host(httpserver):
    pages = {
        ("unsubscribes", ""): ([{"address": "U1@example.org", "tags": ["*"], "created_at": "Thu, 11 Dec 2025 01:49:40 UTC"}],
                               "https://api.mailgun.net/v3/mg.example.com/unsubscribes?page=next&address=U1%40example.org&limit=1000"),
        ("unsubscribes", "next"): ([{"address": "u2@example.org"}], "https://api.mailgun.net/v3/mg.example.com/unsubscribes?page=next&address=u2%40example.org&limit=1000"),
        ("bounces", ""): ([{"address": "b1@example.org", "code": "550", "error": "No such mailbox"}], "https://api.mailgun.net/v3/mg.example.com/bounces?page=next&address=b1%40example.org&limit=1000"),
        ("complaints", ""): ([], ""),
    }

    def handler(request: Request) -> Response:
        kind = request.path.rsplit("/", 1)[1]
        page = request.args.get("page", "")
        if page == "next" and (kind, "next") in pages and request.args["address"] == "U1@example.org":
            items, nxt = pages[(kind, "next")]
        elif page == "next":
            items, nxt = [], ""
        else:
            items, nxt = pages[(kind, "")]
        return js({"items": items, "paging": {"next": nxt, "first": "", "previous": "", "last": ""}})

    for kind in ("unsubscribes", "bounces", "complaints"):
        httpserver.expect_request(f"/v3/mg.example.com/{kind}", method="GET").respond_with_handler(handler)
    with mailgun.create(conf(httpserver, domain="mg.example.com"), {"MAILGUN_API_KEY": KEY}, None) as s:
        assert s.fetch_suppressions() == {"u1@example.org", "u2@example.org", "b1@example.org"}
    validate("mailgun.yaml", response_schema("mailgun.yaml", "/v3/{domain_name}/unsubscribes", "200", method="get"),
             # (created_at: Mailgun's description types it as an object, its own example as a string)
             {"items": [{"address": "a@example.org", "tags": ["*"], "created_at": {}}],
              "paging": {"next": "n", "first": "f", "previous": "p", "last": "l"}})


def test_resend_cursor_paging(httpserver):
    def handler(request: Request) -> Response:
        after = request.args.get("after")
        if after is None:
            return js({"object": "list", "has_more": True, "data": [{"id": "s1", "email": "A@example.org", "origin": "bounce"}]})
        assert after == "s1"
        return js({"object": "list", "has_more": False, "data": [{"id": "s2", "email": "b@example.org", "origin": "complaint"}]})

    httpserver.expect_request("/suppressions", method="GET").respond_with_handler(handler)
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        assert s.fetch_suppressions() == {"a@example.org", "b@example.org"}
    validate("resend.yaml", response_schema("resend.yaml", "/suppressions", "200", method="get"),
             {"object": "list", "has_more": False, "data": [{"id": "s2", "email": "b@example.org", "origin": "complaint"}]})


def test_brevo_blocked_contacts_offset_paging(httpserver):
    total = 130

    def handler(request: Request) -> Response:
        assert request.headers["api-key"] == KEY
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        assert limit <= 100  # Brevo's documented maximum
        contacts = [{"email": f"blocked{i}@example.org", "senderEmail": "news@blog.example.com",
                     "reason": {"code": "unsubscribedViaEmail", "message": "Unsubscribed"}, "blockedAt": "2026-11-01T10:00:00Z"}
                    for i in range(offset, min(total, offset + limit))]
        return js({"contacts": contacts, "count": total})

    httpserver.expect_request("/v3/smtp/blockedContacts", method="GET").respond_with_handler(handler)
    with brevo.create(conf(httpserver), {"BREVO_API_KEY": KEY}, None) as s:
        found = s.fetch_suppressions()
    assert len(found) == total and "blocked129@example.org" in found
    page = {"contacts": [{"email": "x@example.org", "senderEmail": "s@example.org", "reason": {"code": "hardBounce", "message": "m"}, "blockedAt": "2026-11-01T10:00:00Z"}], "count": 1}
    validate("brevo.yaml", response_schema("brevo.yaml", "/smtp/blockedContacts", "200", method="get"), page)


def test_ses_account_suppression_list_next_token(httpserver):
    import botocore.session
    from botocore.validate import ParamValidator

    def handler(request: Request) -> Response:
        assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        token = request.args.get("NextToken")
        if token is None:
            return js({"SuppressedDestinationSummaries": [{"EmailAddress": "Bounce@example.org", "Reason": "BOUNCE", "LastUpdateTime": 1.7e9}],
                       "NextToken": "tok+/=="})
        assert token == "tok+/=="
        return js({"SuppressedDestinationSummaries": [{"EmailAddress": "complaint@example.org", "Reason": "COMPLAINT", "LastUpdateTime": 1.7e9}]})

    httpserver.expect_request("/v2/email/suppression/addresses", method="GET").respond_with_handler(handler)
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": KEY, "AWS_REGION": "eu-west-1"}
    with ses.create(conf(httpserver), env, None) as s:
        assert s.fetch_suppressions() == {"bounce@example.org", "complaint@example.org"}
    op = botocore.session.get_session().get_service_model("sesv2").operation_model("ListSuppressedDestinations")
    assert not ParamValidator().validate({"PageSize": 1000, "NextToken": "tok+/=="}, op.input_shape).has_errors()
    assert {m: op.input_shape.members[m].serialization["name"] for m in ("PageSize", "NextToken")} == {"PageSize": "PageSize", "NextToken": "NextToken"}


def test_failed_fetch_is_loud_and_keeps_retryability(httpserver):
    httpserver.expect_request("/message-streams/broadcast/suppressions/dump").respond_with_data("", status=503)
    with postmark.create(conf(httpserver), {"POSTMARK_SERVER_TOKEN": KEY}, None) as s:
        with pytest.raises(ProviderError, match="suppression list") as info:
            provider_suppressions(s)
    assert info.value.retryable and KEY not in str(info.value)


def test_a_provider_that_cannot_be_asked_is_named():
    class Outbox:
        name = "outbox"

    result = provider_suppressions(Outbox())
    assert result.addresses is None and "outbox" in result.note


def test_provider_suppressions_lower_cases(httpserver):
    httpserver.expect_request("/suppressions").respond_with_json({"object": "list", "has_more": False, "data": [{"id": "1", "email": " MiXed@Example.org "}]})
    with resend.create(conf(httpserver), {"RESEND_API_KEY": KEY}, None) as s:
        result = provider_suppressions(s)
    assert result.provider == "resend" and result.addresses == frozenset({"mixed@example.org"})
