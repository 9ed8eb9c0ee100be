"""AWS Signature Version 4 for one request, with hashlib/hmac only (no boto at runtime).

The steps of https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html:
canonical request -> string to sign -> signing key (date, region, service) -> signature.
Tested against botocore's own ``SigV4Auth`` on the same request.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit, parse_qsl

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    access_key: str
    secret_key: str
    session_token: str = ""

    def __repr__(self) -> str:  # never show the secret (nor the key id) in tracebacks
        return "AwsCredentials(<hidden>)"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _canonical_path(path: str) -> str:
    return quote(path or "/", safe="/-_.~")


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: AwsCredentials,
    region: str,
    service: str,
    when: datetime,
) -> dict[str, str]:
    """The headers to add: ``X-Amz-Date``, ``Authorization`` (+ ``X-Amz-Security-Token``).

    ``headers`` are the headers to sign besides those (``Host`` is taken from the URL
    when absent); ``when`` is the signing time (a parameter, so tests are repeatable).
    """
    parts = urlsplit(url)
    amz_date = when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    datestamp = amz_date[:8]
    to_sign = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    to_sign.setdefault("host", parts.netloc)
    to_sign["x-amz-date"] = amz_date
    added = {"X-Amz-Date": amz_date}
    if credentials.session_token:
        to_sign["x-amz-security-token"] = credentials.session_token
        added["X-Amz-Security-Token"] = credentials.session_token
    names = sorted(to_sign)
    signed_headers = ";".join(names)
    canonical = "\n".join([
        method.upper(),
        _canonical_path(parts.path),
        _canonical_query(parts.query),
        "".join(f"{n}:{to_sign[n]}\n" for n in names),
        signed_headers,
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{datestamp}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(("AWS4" + credentials.secret_key).encode("utf-8"), datestamp)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return added
