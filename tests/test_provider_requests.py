"""What each provider puts on the wire, checked by a real server on 127.0.0.1: auth, path,
and a body that validates against the provider's published API description (or, for
Mailgun, which publishes none we could vendor, its documented form fields) and that
gives every recipient exactly their own message."""
from __future__ import annotations

import json
import uuid
from email.utils import formataddr
from typing import Any

import pytest
from werkzeug import Request, Response

from feedpub.config import SendConfig
from feedpub.errors import ProviderError
from feedpub.send import brevo, mailgun, postmark, resend, sendgrid, ses
from feedpub.send.base import OutgoingMessage

from specs.helpers import load, messages, request_schema, response_schema, validate

SECRET = "test-key-9f8e7d6c5b4a"


class Capture:
    """A handler that records each request and answers with a fixed response."""

    def __init__(self, response: Response) -> None:
        self.response = response
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append({
            "headers": dict(request.headers), "path": request.path, "body": request.get_data(),
            "form": request.form.to_dict(flat=False), "content_type": request.content_type,
            "method": request.method, "url": request.url, "query": request.query_string,
        })
        return self.response

    @property
    def json(self) -> Any:
        return json.loads(self.requests[-1]["body"])


def ok_json(data: Any, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json", headers=headers)


def cfg(httpserver, **kw: Any) -> SendConfig:
    return SendConfig(base_url=httpserver.url_for(""), timeout=5, **kw)


# ---- Postmark ----------------------------------------------------------------------------

def test_postmark_batch_request(httpserver):
    batch = messages(3)
    answer = [{"ErrorCode": 0, "Message": "OK", "MessageID": f"id-{i}", "To": m.to, "SubmittedAt": "2026-11-23T12:00:00Z"}
              for i, m in enumerate(batch)]
    validate("postmark.yaml", response_schema("postmark.yaml", "/email/batch", "200"), answer)
    cap = Capture(ok_json(answer))
    httpserver.expect_oneshot_request("/email/batch", method="POST").respond_with_handler(cap)
    with postmark.create(cfg(httpserver), {"POSTMARK_SERVER_TOKEN": SECRET}, None) as sender:
        result = sender.send_batch(batch, idempotency_key="k")
    req = cap.requests[0]
    assert req["headers"]["X-Postmark-Server-Token"] == SECRET
    assert req["headers"]["Accept"] == "application/json" and req["content_type"] == "application/json"
    body = cap.json
    validate("postmark.yaml", request_schema("postmark.yaml", "/email/batch"), body)
    assert [b["MessageStream"] for b in body] == ["broadcast"] * 3
    for item, m in zip(body, batch):
        assert set(item) <= {"From", "To", "Subject", "HtmlBody", "TextBody", "ReplyTo", "Headers", "MessageStream"}
        assert item["To"] == (formataddr((m.to_name, m.to)) if m.to_name else m.to)
        assert item["HtmlBody"] == m.html and item["TextBody"] == m.text and item["ReplyTo"] == m.reply_to
        assert {h["Name"]: h["Value"] for h in item["Headers"]} == dict(m.headers)
    assert result.message_ids == ("id-0", "id-1", "id-2") and not result.rejected
    assert sender.batch_size == 500


def test_postmark_message_stream_from_config(httpserver):
    cap = Capture(ok_json([{"ErrorCode": 0, "MessageID": "a", "Message": "OK"}]))
    httpserver.expect_oneshot_request("/email/batch").respond_with_handler(cap)
    with postmark.create(cfg(httpserver, message_stream="newsletter"), {"POSTMARK_SERVER_TOKEN": SECRET}, None) as s:
        s.send_batch(messages(1), idempotency_key="k")
    assert cap.json[0]["MessageStream"] == "newsletter"


def test_postmark_per_message_errors_are_rejections_not_batch_failures(httpserver):
    batch = messages(3)
    answer = [
        {"ErrorCode": 0, "Message": "OK", "MessageID": "id-0", "To": batch[0].to},
        {"ErrorCode": 406, "Message": "You tried to send to a recipient that has been marked as inactive."},
        {"ErrorCode": 0, "Message": "OK", "MessageID": "id-2", "To": batch[2].to},
    ]
    httpserver.expect_oneshot_request("/email/batch").respond_with_handler(Capture(ok_json(answer)))
    with postmark.create(cfg(httpserver), {"POSTMARK_SERVER_TOKEN": SECRET}, None) as s:
        result = s.send_batch(batch, idempotency_key="k")
    assert result.message_ids == ("id-0", "", "id-2")
    assert list(result.rejected) == [batch[1].to] and "406" in result.rejected[batch[1].to]


def test_postmark_same_error_for_every_message_is_a_request_error(httpserver):
    answer = [{"ErrorCode": 300, "Message": "Invalid 'From' address."}] * 2
    httpserver.expect_oneshot_request("/email/batch").respond_with_handler(Capture(ok_json(answer)))
    with postmark.create(cfg(httpserver), {"POSTMARK_SERVER_TOKEN": SECRET}, None) as s:
        with pytest.raises(ProviderError, match="Invalid 'From'") as info:
            s.send_batch(messages(2), idempotency_key="k")
    assert not info.value.retryable


def test_postmark_wrong_number_of_results_is_loud(httpserver):
    httpserver.expect_oneshot_request("/email/batch").respond_with_handler(Capture(ok_json([])))
    with postmark.create(cfg(httpserver), {"POSTMARK_SERVER_TOKEN": SECRET}, None) as s:
        with pytest.raises(ProviderError, match="0 results for 2 messages"):
            s.send_batch(messages(2), idempotency_key="k")


# ---- SendGrid ----------------------------------------------------------------------------

def _substitute(text: str, subs: dict[str, str]) -> str:
    for tag, value in subs.items():
        text = text.replace(tag, value)
    return text


def test_sendgrid_one_personalization_per_recipient(httpserver):
    batch = messages(4)
    cap = Capture(Response("", status=202, headers={"X-Message-Id": "sg-abc"}))
    httpserver.expect_oneshot_request("/v3/mail/send", method="POST").respond_with_handler(cap)
    with sendgrid.create(cfg(httpserver), {"SENDGRID_API_KEY": SECRET}, None) as s:
        result = s.send_batch(batch, idempotency_key="k")
    assert cap.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
    body = cap.json
    validate("sendgrid_mail_v3.yaml", request_schema("sendgrid_mail_v3.yaml", "/v3/mail/send"), body)
    assert body["from"] == {"email": "news@blog.example.com", "name": "Test Blog"}
    assert body["reply_to"] == {"email": "editor@blog.example.com"}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert len(body["personalizations"]) == 4
    for p, m in zip(body["personalizations"], batch):
        assert [t["email"] for t in p["to"]] == [m.to]
        assert p["headers"] == dict(m.headers)
        subs = p.get("substitutions", {})
        # What SendGrid will deliver to this recipient is exactly their own message:
        assert _substitute(body["content"][0]["value"], subs) == m.text
        assert _substitute(body["content"][1]["value"], subs) == m.html
        assert _substitute(body["subject"], subs) == m.subject
    assert result.message_ids == ("sg-abc",)


def test_sendgrid_full_batch_validates(httpserver):
    batch = messages(1000)
    body = sendgrid.SendGridSender(key=SECRET, config=SendConfig(), base="http://x", client=None).payload(batch)
    validate("sendgrid_mail_v3.yaml", request_schema("sendgrid_mail_v3.yaml", "/v3/mail/send"), body)
    assert len(body["personalizations"]) == 1000 == sendgrid.SendGridSender.batch_size
    too_many = {**body, "personalizations": body["personalizations"] * 2}
    with pytest.raises(Exception):
        validate("sendgrid_mail_v3.yaml", request_schema("sendgrid_mail_v3.yaml", "/v3/mail/send"), too_many)


def test_sendgrid_refuses_a_batch_it_cannot_express(httpserver):
    batch = messages(2)
    batch[1] = OutgoingMessage(**{**{f: getattr(batch[1], f) for f in batch[1].__slots__}, "html": "<p>another digest</p>"})
    with sendgrid.create(cfg(httpserver), {"SENDGRID_API_KEY": SECRET}, None) as s:
        with pytest.raises(ProviderError, match="one body per request") as info:
            s.send_batch(batch, idempotency_key="k")
    assert not info.value.retryable
    assert httpserver.log == []  # nothing was sent


# ---- Mailgun -----------------------------------------------------------------------------

def test_mailgun_multipart_with_recipient_variables(httpserver):
    batch = messages(3)
    answer = {"id": "<20261123.1@mg.example.com>", "message": "Queued. Thank you."}
    validate("mailgun.yaml", response_schema("mailgun.yaml", "/v3/{domain_name}/messages", "200"), answer)
    cap = Capture(ok_json(answer))
    httpserver.expect_oneshot_request("/v3/mg.example.com/messages", method="POST").respond_with_handler(cap)
    with mailgun.create(cfg(httpserver, domain="mg.example.com"), {"MAILGUN_API_KEY": SECRET}, None) as s:
        result = s.send_batch(batch, idempotency_key="k")
    req = cap.requests[0]
    import base64
    assert req["headers"]["Authorization"] == "Basic " + base64.b64encode(f"api:{SECRET}".encode()).decode()
    assert req["content_type"].startswith("multipart/form-data")
    form = req["form"]
    schema = request_schema("mailgun.yaml", "/v3/{domain_name}/messages", content="multipart/form-data")
    props = load("mailgun.yaml")["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]["properties"]
    instance = {k: v if props.get(k, {}).get("type") == "array" else v[0] for k, v in form.items()}
    assert all(len(v) == 1 for k, v in form.items() if props.get(k, {}).get("type") != "array")
    validate("mailgun.yaml", schema, instance)
    assert all(k in props or k.startswith("h:") for k in form), form.keys()
    assert form["to"] == [formataddr((m.to_name, m.to)) if m.to_name else m.to for m in batch]
    variables = json.loads(form["recipient-variables"][0])
    assert list(variables) == [m.to for m in batch]

    def render(text: str, to: str) -> str:
        for k, v in variables[to].items():
            text = text.replace(f"%recipient.{k}%", v)
        return text

    for m in batch:  # every recipient's copy, after Mailgun's substitution, is their own message
        assert render(form["subject"][0], m.to) == m.subject
        assert render(form["html"][0], m.to) == m.html
        assert render(form["text"][0], m.to) == m.text
        assert {k[2:]: render(v[0], m.to) for k, v in form.items() if k.startswith("h:") and k != "h:Reply-To"} == dict(m.headers)
    assert form["h:Reply-To"] == ["editor@blog.example.com"]
    assert result.message_ids == ("<20261123.1@mg.example.com>",)


def test_mailgun_single_recipient_still_gets_recipient_variables(httpserver):
    cap = Capture(ok_json({"id": "<1@mg>", "message": "Queued. Thank you."}))
    httpserver.expect_oneshot_request("/v3/mg.example.com/messages").respond_with_handler(cap)
    with mailgun.create(cfg(httpserver, domain="mg.example.com"), {"MAILGUN_API_KEY": SECRET}, None) as s:
        s.send_batch(messages(1), idempotency_key="k")
    assert json.loads(cap.requests[0]["form"]["recipient-variables"][0]) == {"reader0@example.org": {}}


@pytest.mark.parametrize("region, host", [("", "https://api.mailgun.net"), ("us", "https://api.mailgun.net"),
                                          ("eu", "https://api.eu.mailgun.net"), ("EU", "https://api.eu.mailgun.net")])
def test_mailgun_region_hosts(region, host):
    s = mailgun.create(SendConfig(domain="mg.example.com", region=region), {"MAILGUN_API_KEY": SECRET}, None)
    assert s._base_url == host and host in repr(s)
    s.close()


# ---- Resend ------------------------------------------------------------------------------

def test_resend_batch_with_idempotency_key(httpserver):
    batch = messages(3)
    answer = {"data": [{"id": f"re-{i}"} for i in range(3)]}
    validate("resend.yaml", response_schema("resend.yaml", "/emails/batch", "200"), answer)
    cap = Capture(ok_json(answer))
    httpserver.expect_oneshot_request("/emails/batch", method="POST").respond_with_handler(cap)
    with resend.create(cfg(httpserver), {"RESEND_API_KEY": SECRET}, None) as s:
        result = s.send_batch(batch, idempotency_key="digest-abc/batch-0001")
    req = cap.requests[0]
    assert req["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert req["headers"]["Idempotency-Key"] == "digest-abc/batch-0001"
    body = cap.json
    validate("resend.yaml", request_schema("resend.yaml", "/emails/batch"), body)
    for item, m in zip(body, batch):
        assert item["headers"] == dict(m.headers) and item["html"] == m.html and item["text"] == m.text
        assert item["to"] == [formataddr((m.to_name, m.to)) if m.to_name else m.to]
    assert result.message_ids == ("re-0", "re-1", "re-2")
    assert s.idempotent and s.batch_size == 100


def test_resend_same_key_on_retry(httpserver):
    cap = Capture(ok_json({"data": [{"id": "a"}]}))
    httpserver.expect_request("/emails/batch").respond_with_handler(cap)
    with resend.create(cfg(httpserver), {"RESEND_API_KEY": SECRET}, None) as s:
        s.send_batch(messages(1), idempotency_key="d/1")
        s.send_batch(messages(1), idempotency_key="d/1")
    assert [r["headers"]["Idempotency-Key"] for r in cap.requests] == ["d/1", "d/1"]
    assert cap.requests[0]["body"] == cap.requests[1]["body"]  # same key, same payload


# ---- Brevo -------------------------------------------------------------------------------

def test_brevo_one_recipient_per_request_with_its_headers(httpserver):
    cap = Capture(ok_json({"messageId": "<202611231200.1@smtp-relay.mailin.fr>"}, status=201))
    httpserver.expect_oneshot_request("/v3/smtp/email", method="POST").respond_with_handler(cap)
    conf = cfg(httpserver, unsubscribe_url="https://blog.example.com/unsubscribe?email={email}&token={token}")
    with brevo.create(conf, {"BREVO_API_KEY": SECRET}, None) as s:
        assert s.batch_size == 1 and s.idempotent
        m = messages(1)[0]
        result = s.send_batch([m], idempotency_key="digest-abc/batch-0001")
    assert cap.requests[0]["headers"]["Api-Key"] == SECRET
    body = cap.json
    validate("brevo.yaml", request_schema("brevo.yaml", "/smtp/email"), body)
    assert body["to"] == [{"email": m.to, "name": m.to_name}]
    assert body["sender"] == {"email": "news@blog.example.com", "name": "Test Blog"}
    assert body["replyTo"] == {"email": "editor@blog.example.com"}
    headers = dict(body["headers"])
    key = headers.pop("idempotencyKey")
    assert headers == dict(m.headers)
    assert uuid.UUID(key) and key == s.idempotency_uuid("digest-abc/batch-0001")
    assert key != s.idempotency_uuid("digest-abc/batch-0002")
    assert result.message_ids == ("<202611231200.1@smtp-relay.mailin.fr>",)


def test_brevo_message_versions_without_per_recipient_headers(httpserver):
    batch = [OutgoingMessage(**{**{f: getattr(m, f) for f in m.__slots__}, "html": "<p>Same for all</p>", "text": "Same"})
             for m in messages(3, unsubscribe=False)]
    cap = Capture(ok_json({"messageIds": ["<a@x>", "<b@x>", "<c@x>"]}, status=201))
    httpserver.expect_oneshot_request("/v3/smtp/email").respond_with_handler(cap)
    with brevo.create(cfg(httpserver), {"BREVO_API_KEY": SECRET}, None) as s:
        assert s.batch_size == 1000
        result = s.send_batch(batch, idempotency_key="k")
    body = cap.json
    top = {k: v for k, v in body.items() if k != "messageVersions"}
    validate("brevo.yaml", request_schema("brevo.yaml", "/smtp/email"), {**top, "to": [{"email": "x@example.org"}]})
    documented_version_fields = {"to", "params", "bcc", "cc", "replyTo", "subject", "htmlContent", "textContent"}
    assert [v["to"] for v in body["messageVersions"]] == [
        [{"email": m.to, "name": m.to_name} if m.to_name else {"email": m.to}] for m in batch]
    assert all(set(v) <= documented_version_fields for v in body["messageVersions"])
    assert "to" not in body
    assert result.message_ids == ("<a@x>", "<b@x>", "<c@x>")


def test_brevo_refuses_versions_with_different_headers(httpserver):
    with brevo.create(cfg(httpserver), {"BREVO_API_KEY": SECRET}, None) as s:
        with pytest.raises(ProviderError, match="per-recipient headers"):
            s.send_batch(messages(2), idempotency_key="k")
    assert httpserver.log == []


# ---- SES ---------------------------------------------------------------------------------

def test_ses_send_email_request_is_signed_and_valid(httpserver):
    import botocore.auth
    import botocore.credentials
    import botocore.session
    from botocore.awsrequest import AWSRequest
    from botocore.validate import ParamValidator

    cap = Capture(ok_json({"MessageId": "0100018c-ses"}))
    httpserver.expect_oneshot_request("/v2/email/outbound-emails", method="POST").respond_with_handler(cap)
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": SECRET,
           "AWS_SESSION_TOKEN": "session-token-xyz", "AWS_REGION": "eu-west-1"}
    m = messages(1)[0]
    with ses.create(cfg(httpserver), env, None) as s:
        result = s.send_batch([m], idempotency_key="k")
    req = cap.requests[0]
    body = json.loads(req["body"])
    # botocore's own sesv2 model validates the input:
    model = botocore.session.get_session().get_service_model("sesv2")
    op = model.operation_model("SendEmail")
    report = ParamValidator().validate(body, op.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert op.http["requestUri"] == "/v2/email/outbound-emails" and op.http["method"] == "POST"
    assert body["Destination"] == {"ToAddresses": [formataddr((m.to_name, m.to))]}
    assert {h["Name"]: h["Value"] for h in body["Content"]["Simple"]["Headers"]} == dict(m.headers)
    # botocore's own signer gives the same Authorization for the request the server saw:
    headers = req["headers"]
    assert headers["X-Amz-Security-Token"] == "session-token-xyz"
    aws = AWSRequest(method="POST", url=req["url"], data=req["body"],
                     headers={"Content-Type": headers["Content-Type"], "Host": headers["Host"],
                              "X-Amz-Date": headers["X-Amz-Date"]})
    creds = botocore.credentials.Credentials("AKIDEXAMPLE", SECRET, "session-token-xyz")

    class FixedTime(botocore.auth.SigV4Auth):
        def add_auth(self, request):  # sign at the time the request carries
            import datetime as dt
            when = dt.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
            request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
            if self.credentials.token:
                request.headers["X-Amz-Security-Token"] = self.credentials.token
            canonical = self.canonical_request(request)
            sts = self.string_to_sign(request, canonical)
            sig = self.signature(sts, request)
            self._inject_signature_to_request(request, sig)

    FixedTime(creds, model.signing_name, "eu-west-1").add_auth(aws)
    assert headers["Authorization"] == aws.headers["Authorization"]
    assert f"/eu-west-1/ses/aws4_request" in headers["Authorization"]
    assert result.message_ids == ("0100018c-ses",)
    assert s.batch_size == 1


def test_ses_default_endpoint_is_regional():
    env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE7", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMIsecret", "AWS_REGION": "us-east-2"}
    s = ses.create(SendConfig(), env, None)
    assert s._base_url == "https://email.us-east-2.amazonaws.com"
    assert "wJalrXUtnFEMIsecret" not in repr(s) and "AKIAEXAMPLE7" not in repr(s)
    assert "wJalrXUtnFEMIsecret" not in repr(s._credentials)
    s.close()


@pytest.mark.parametrize("name, retryable", [("concurrent_idempotent_requests", True), ("invalid_idempotent_request", False)])
def test_resend_409_idempotency_answers(httpserver, name, retryable):
    body = {"statusCode": 409, "name": name, "message": f"{name.replace('_', ' ')}."}
    httpserver.expect_request("/emails/batch").respond_with_response(ok_json(body, status=409))
    with resend.create(cfg(httpserver), {"RESEND_API_KEY": SECRET}, None) as s:
        with pytest.raises(ProviderError) as info:
            s.send_batch(messages(1), idempotency_key="d/1")
    assert info.value.retryable is retryable and info.value.status == 409


@pytest.mark.parametrize("spec, path, content, bad", [
    ("postmark.yaml", "/email/batch", "application/json", [{"To": ["not", "a", "string"]}]),
    ("sendgrid_mail_v3.yaml", "/v3/mail/send", "application/json", {"from": {"email": "a@b.c"}}),
    ("resend.yaml", "/emails/batch", "application/json", [{"to": "a@b.c", "subject": "s"}]),
    ("brevo.yaml", "/smtp/email", "application/json", {"sender": {"email": "a@b.c"}, "subject": "s"}),
    ("mailgun.yaml", "/v3/{domain_name}/messages", "multipart/form-data", {"from": "a@b.c", "subject": "s"}),
])
def test_vendored_schemas_do_reject_bad_bodies(spec, path, content, bad):
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        validate(spec, request_schema(spec, path, content=content), bad)
