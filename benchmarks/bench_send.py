"""Send benchmark: one digest to 10,000 recipients through each batch-capable provider.

The sample blog's digest (the newest 2 posts, with per-recipient unsubscribe links) goes
to N generated recipients, streamed from a CSV, through the real engine (journal with
fsync, batches, threads) and each provider module whose batches hold more than one
message, against a local HTTP server (its own process) that answers like the provider.
The outbox writes real .eml files. Each provider runs in a fresh process; printed:
messages per second and that process's peak RSS.

    python -m benchmarks.bench_send [--recipients 10000] [--providers outbox,postmark,...]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
DUMMY_ENV = {
    "POSTMARK_SERVER_TOKEN": "bench-postmark", "SENDGRID_API_KEY": "bench-sendgrid", "MAILGUN_API_KEY": "bench-mailgun",
    "RESEND_API_KEY": "bench-resend", "BREVO_API_KEY": "bench-brevo", "AWS_ACCESS_KEY_ID": "AKIABENCH",
    "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_REGION": "eu-west-1", "FEEDPUB_UNSUBSCRIBE_SECRET": "bench-unsub",
}


# ---- the fake provider (runs in its own process) -------------------------------------

class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = self.path.split("?")[0]
        status, headers, payload = 200, {}, b""
        if path == "/email/batch":                                   # Postmark
            items = json.loads(body)
            payload = json.dumps([{"ErrorCode": 0, "Message": "OK", "MessageID": str(uuid.uuid4()), "To": i.get("To")}
                                  for i in items]).encode()
        elif path == "/v3/mail/send":                                # SendGrid
            status, headers = 202, {"X-Message-Id": uuid.uuid4().hex}
        elif path.endswith("/messages"):                             # Mailgun
            payload = json.dumps({"id": f"<{uuid.uuid4().hex}@mg.example.com>", "message": "Queued. Thank you."}).encode()
        elif path == "/emails/batch":                                # Resend
            payload = json.dumps({"data": [{"id": str(uuid.uuid4())} for _ in json.loads(body)]}).encode()
        elif path == "/v3/smtp/email":                               # Brevo
            data = json.loads(body)
            n = len(data.get("messageVersions") or [None])
            payload = json.dumps({"messageIds": [f"<{uuid.uuid4().hex}@smtp-relay.mailin.fr>" for _ in range(n)]}).encode()
        elif path.startswith("/v2/email/outbound-emails"):           # SES
            payload = json.dumps({"MessageId": uuid.uuid4().hex}).encode()
        else:
            status, payload = 404, b'{"message":"unknown path"}'
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST


def serve(port_queue: "multiprocessing.Queue[int]") -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


# ---- one provider, in a fresh process ------------------------------------------------

def sample_email():
    from feedpub.config import load_config
    from feedpub.digest import select
    from feedpub.digest.render import render_digest
    from feedpub.posts import scan
    from feedpub.render import Renderer

    config = load_config(REPO / "feedpub.toml")
    site = scan(config, NOW)
    digest = select(site, now=NOW, last=2)
    with tempfile.TemporaryDirectory() as cache:
        email = render_digest(digest, Renderer(site, cache_dir=Path(cache)).render, config, NOW)
    return config, email


def run_one(provider: str, port: int, n: int) -> dict:
    from feedpub.send import deliver
    from feedpub.send.journal import Journal
    from feedpub.send.recipients import RecipientSource
    from feedpub.send.registry import make_sender
    from feedpub.send.unsubscribe import Unsubscribe

    config, email = sample_email()
    work = Path(tempfile.mkdtemp(prefix=f"feedpub-bench-{provider}-"))
    try:
        csv_path = work / "subs.csv"
        with open(csv_path, "w") as fh:
            fh.write("email,name\n")
            fh.writelines(f"reader{i}@example.com,Reader {i}\n" for i in range(n))
        send = dataclasses.replace(
            config.send, provider=provider, base_url=f"http://127.0.0.1:{port}", domain="mg.example.com",
            region="eu-west-1" if provider == "ses" else "", outbox=str(work / "outbox"), journal=str(work / "journal.jsonl"),
        )
        env = dict(os.environ, **DUMMY_ENV)
        sender = make_sender(send, env)
        if sender.batch_size <= 1:
            return {"provider": provider, "skipped": f"one message per request (batch_size {sender.batch_size})"}
        unsub = Unsubscribe.from_config(send, env)
        start = time.perf_counter()
        report = deliver(email, RecipientSource(csv_path=csv_path), sender, Journal(Path(send.journal)), now=NOW,
                         concurrency=send.concurrency, rate=1e9, retries=0, unsubscribe=unsub)
        seconds = time.perf_counter() - start
        sender.close()
        if not report.complete:
            return {"provider": provider, "error": f"incomplete: {report.as_dict()}"}
        return {
            "provider": provider, "messages": report.sent, "batch_size": sender.batch_size, "batches": report.batches,
            "seconds": seconds, "per_second": report.sent / seconds, "html_kb": len(email.html.encode()) / 1024,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_send", description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--providers", default="", help="comma-separated (default: every provider in the registry but smtp)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.port, args.recipients)))
        return

    from feedpub.send.registry import PROVIDERS

    names = [p for p in (args.providers.split(",") if args.providers else PROVIDERS) if p and p != "smtp"]
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    server.start()
    port = queue.get(timeout=30)
    print(f"send: one digest to {args.recipients:,} recipients per provider (engine + provider module, local server)")
    print(f"{'provider':<10} {'batch':>6} {'batches':>8} {'seconds':>8} {'msg/s':>9} {'peak MB':>8}")
    try:
        for name in names:
            out = subprocess.run([sys.executable, "-m", "benchmarks.bench_send", "--one", name, "--port", str(port),
                                  "--recipients", str(args.recipients)],
                                 cwd=REPO, capture_output=True, text=True, check=False)
            lines = out.stdout.strip().splitlines()
            if out.returncode != 0 or not lines:
                tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
                print(f"{name:<10} failed: {tail}", flush=True)
                continue
            r = json.loads(lines[-1])
            if "skipped" in r or "error" in r:
                print(f"{name:<10} {r.get('skipped') or r.get('error')}", flush=True)
                continue
            print(f"{name:<10} {r['batch_size']:>6} {r['batches']:>8} {r['seconds']:>8.2f} {r['per_second']:>9.0f} "
                  f"{r['peak_mb']:>8.1f}", flush=True)
    finally:
        server.terminate()
        server.join(timeout=5)


if __name__ == "__main__":
    main()
