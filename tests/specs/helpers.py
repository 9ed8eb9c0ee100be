"""Helpers for the provider tests: schema validators over the vendored API descriptions,
sample messages, and a TCP server that drops every connection."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from feedpub.send.base import OutgoingMessage

SPECS = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict:
    with open(SPECS / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


def validate(spec: str, schema: dict, instance: Any) -> None:
    """Validate ``instance`` against ``schema`` (may hold $refs) of a vendored description."""
    doc = load(spec)
    if "swagger" in doc:  # Swagger 2.0: definitions are JSON Schema draft 4
        import jsonschema

        root = {**schema, "definitions": doc.get("definitions", {})}
        jsonschema.Draft4Validator(root).validate(instance)
        return
    from openapi_schema_validator import OAS30Validator, OAS31Validator

    cls = OAS31Validator if str(doc.get("openapi", "")).startswith("3.1") else OAS30Validator
    root = {**schema, "components": doc.get("components", {})}
    cls(root).validate(instance)


def request_schema(spec: str, path: str, method: str = "post", content: str = "application/json") -> dict:
    op = load(spec)["paths"][path][method]
    if "requestBody" in op:
        body = op["requestBody"]
        if "$ref" in body:
            name = body["$ref"].rsplit("/", 1)[1]
            body = load(spec)["components"]["requestBodies"][name]
        return body["content"][content]["schema"]
    for p in op.get("parameters", []):  # Swagger 2.0
        if p.get("in") == "body":
            return p["schema"]
    raise KeyError(f"{spec} {path} has no JSON request body")


def response_schema(spec: str, path: str, status: str, method: str = "post") -> dict:
    resp = load(spec)["paths"][path][method]["responses"][status]
    if "schema" in resp:
        return resp["schema"]
    return resp["content"]["application/json"]["schema"]


def messages(n: int, *, unsubscribe: bool = True) -> list[OutgoingMessage]:
    """n rendered per-recipient copies of one digest, as the engine makes them."""
    out = []
    for i in range(n):
        addr = f"reader{i}@example.org"
        url = f"https://blog.example.com/unsubscribe?email=reader{i}%40example.org&token=t{i:04d}abcdef"
        headers = {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        if unsubscribe:
            headers["List-Unsubscribe"] = f"<{url}>, <mailto:leave@blog.example.com>"
        out.append(OutgoingMessage(
            to=addr,
            to_name=f"Reader Number {i}" if i % 2 == 0 else "",
            from_addr="Test Blog <news@blog.example.com>",
            subject="Test Blog: 2 new posts",
            html=f'<p>Hello</p><p><a href="{url.replace("&", "&amp;")}">Unsubscribe</a></p>',
            text=f"Hello\n\nUnsubscribe: {url}\n",
            reply_to="editor@blog.example.com",
            headers=headers,
            message_id=f"digest-abc.{i}@blog.example.com",
        ))
    return out


@contextmanager
def dropping_server() -> Iterator[str]:
    """http://127.0.0.1:PORT where every connection is accepted, read, then closed unanswered."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(1)
                conn.recv(65536)
            except OSError:
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        sock.close()
