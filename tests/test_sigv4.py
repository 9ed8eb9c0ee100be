"""feedpub's hashlib/hmac SigV4 signer gives byte-for-byte botocore's signature."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

botocore_auth = pytest.importorskip("botocore.auth")
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from feedpub.send.sigv4 import AwsCredentials, sign  # noqa: E402

WHEN = datetime(2026, 11, 23, 12, 34, 56, tzinfo=timezone.utc)


class AtTime(botocore_auth.SigV4Auth):
    """botocore's signer, at a fixed time instead of the wall clock."""

    def add_auth(self, request):
        request.context["timestamp"] = WHEN.strftime("%Y%m%dT%H%M%SZ")
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        if self.credentials.token:
            request.headers["X-Amz-Security-Token"] = self.credentials.token
        canonical = self.canonical_request(request)
        self._inject_signature_to_request(request, self.signature(self.string_to_sign(request, canonical), request))


CASES = [
    ("POST", "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails", b'{"a":"\xc3\xa9t\xc3\xa9"}', "application/json", ""),
    ("GET", "https://email.us-east-1.amazonaws.com/v2/email/suppression/addresses?PageSize=1000&NextToken=ab%2Bc%2F%3D%3D&Reason=BOUNCE&Reason=COMPLAINT", b"", None, ""),
    ("POST", "https://email.eu-central-1.amazonaws.com/v2/email/outbound-emails", b"{}", "application/json", "FwoGZXIvYXdzEBYaD token"),
    ("GET", "http://127.0.0.1:8080/v2/email/suppression/addresses", b"", None, ""),
]


@pytest.mark.parametrize("method, url, body, ctype, token", CASES)
def test_signature_matches_botocore(method, url, body, ctype, token):
    region = url.split("email.")[1].split(".")[0] if "amazonaws" in url else "eu-west-1"
    headers = {"Content-Type": ctype} if ctype else {}
    aws = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    AtTime(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token or None), "ses", region).add_auth(aws)
    ours = sign(method, url, headers, body, region=region, service="ses", when=WHEN,
                credentials=AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token))
    assert ours["Authorization"] == aws.headers["Authorization"]
    assert ours["X-Amz-Date"] == aws.headers["X-Amz-Date"] == "20261123T123456Z"
    assert ours.get("X-Amz-Security-Token") == (token or None)


def test_any_change_changes_the_signature():
    creds = AwsCredentials("AKID", "secret")
    base = sign("POST", "https://email.eu-west-1.amazonaws.com/v2/x", {}, b"{}", credentials=creds, region="eu-west-1", service="ses", when=WHEN)
    for args in [
        ("POST", "https://email.eu-west-1.amazonaws.com/v2/x", {}, b"{ }"),
        ("GET", "https://email.eu-west-1.amazonaws.com/v2/x", {}, b"{}"),
        ("POST", "https://email.eu-west-1.amazonaws.com/v2/y", {}, b"{}"),
    ]:
        assert sign(*args, credentials=creds, region="eu-west-1", service="ses", when=WHEN)["Authorization"] != base["Authorization"]
    other = sign("POST", "https://email.eu-west-1.amazonaws.com/v2/x", {}, b"{}", credentials=AwsCredentials("AKID", "secreT"), region="eu-west-1", service="ses", when=WHEN)
    assert other["Authorization"] != base["Authorization"]


def test_secret_never_in_output_or_repr():
    creds = AwsCredentials("AKID", "very-secret-key-value", "tok")
    out = sign("GET", "https://h/p", {}, b"", credentials=creds, region="r", service="ses", when=WHEN)
    assert "very-secret-key-value" not in repr(out) and "very-secret-key-value" not in repr(creds)
