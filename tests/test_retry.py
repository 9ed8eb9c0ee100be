"""Retry decisions, backoff with full jitter, Retry-After, and the shared token bucket."""
from __future__ import annotations

import smtplib
import threading
from datetime import datetime, timezone

import httpx
import pytest

from feedpub.errors import CredentialsError, ProviderError
from feedpub.send.ratelimit import TokenBucket
from feedpub.send.retry import Backoff, Verdict, classify, parse_retry_after

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, expected", [
    ("30", 30.0), ("0", 0.0), ("2.5", 2.5), ("-1", 0.0),
    ("Mon, 23 Nov 2026 12:01:30 GMT", 90.0), ("Mon, 23 Nov 2026 11:00:00 GMT", 0.0),
    ("tomorrow", None), ("", None), (None, None),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_http_date_needs_a_reference_time():
    assert parse_retry_after("Mon, 23 Nov 2026 12:01:30 GMT") is None


def err(status=None, retryable=False, retry_after=None):
    return ProviderError("x", provider="p", status=status, retryable=retryable, retry_after=retry_after)


@pytest.mark.parametrize("exc, retryable, fatal", [
    (err(429, True, 3.0), True, False),
    (err(500, True), True, False),
    (err(503), True, False),            # a 5xx is retried even if a provider forgot the flag
    (err(408), True, False),
    (err(400), False, False),
    (err(404), False, False),
    (err(422), False, False),
    (err(401), False, True),
    (err(403), False, True),
    (CredentialsError("KEY is not set"), False, True),
    (httpx.ReadTimeout("slow"), True, False),
    (httpx.ConnectError("refused"), True, False),
    (httpx.RemoteProtocolError("dropped"), True, False),
    (TimeoutError(), True, False),
    (ConnectionResetError(), True, False),
    (smtplib.SMTPServerDisconnected(), True, False),
    (ValueError("bug"), False, False),
])
def test_classify(exc, retryable, fatal):
    v = classify(exc)
    assert (v.retryable, v.fatal) == (retryable, fatal)


def test_classify_reads_an_http_status_error_and_its_retry_after():
    request = httpx.Request("POST", "http://127.0.0.1/x")
    response = httpx.Response(429, headers={"Retry-After": "12"}, request=request)
    v = classify(httpx.HTTPStatusError("429", request=request, response=response))
    assert v.retryable and v.retry_after == 12.0
    response = httpx.Response(422, request=request)
    assert not classify(httpx.HTTPStatusError("422", request=request, response=response)).retryable


def test_full_jitter_stays_under_the_exponential_cap():
    rolls = iter([1.0, 1.0, 1.0, 0.5, 0.0] * 3)
    b = Backoff(base=0.5, cap=4.0, random=lambda: next(rolls))
    v = Verdict(True)
    assert [b.delay(a, v) for a in range(5)] == [0.5, 1.0, 2.0, 2.0, 0.0]  # 4.0 cap * 0.5, then 0


def test_retry_after_is_honoured_and_bounded():
    b = Backoff(random=lambda: 0.0, max_wait=60)
    assert b.delay(0, Verdict(True, retry_after=20.0)) == 20.0
    assert b.should_retry(0, Verdict(True, retry_after=20.0))
    assert not b.should_retry(0, Verdict(True, retry_after=3600.0))   # give up rather than hang for an hour
    assert not b.should_retry(0, Verdict(False))
    assert not Backoff(retries=2).should_retry(2, Verdict(True))


def test_wait_uses_the_injected_sleep():
    slept = []
    Backoff(sleep=slept.append, random=lambda: 1.0).wait(2, Verdict(True))
    assert slept == [2.0]


class FakeClock:
    def __init__(self):
        self.t = 0.0
        self.lock = threading.Lock()

    def __call__(self):
        return self.t

    def sleep(self, s):
        with self.lock:
            self.t += s


def test_token_bucket_spaces_requests_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(4.0, clock=clock, sleep=clock.sleep)
    for _ in range(9):
        bucket.acquire()
    assert clock.t == pytest.approx(2.0)   # the first is free, then 8 at 4/s


def test_token_bucket_refills_while_idle_up_to_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(2.0, burst=3, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.t += 100.0
    start = clock.t
    for _ in range(3):
        bucket.acquire()
    assert clock.t == start                 # three in a burst, no wait
    bucket.acquire()
    assert clock.t == pytest.approx(start + 0.5)


def test_zero_rate_never_waits():
    clock = FakeClock()
    bucket = TokenBucket(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        assert bucket.acquire() == 0.0
    assert clock.t == 0.0


def test_token_bucket_is_shared_across_threads():
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=lambda: [bucket.acquire() for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.t >= 1.9 - 1e-9   # 20 requests at 10/s: at least 1.9 s of (fake) time, whoever took them
