"""The Renderer end to end: excerpts, limits, errors, the memo, and real posts."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedpub import markdown_adapter
from feedpub.config import load_config
from feedpub.errors import PostError, RenderError
from feedpub.posts import scan
from feedpub.render import Renderer, excerpt_source
from helpers.render_asserts import make_post, make_site, render

U = "https://example.com/2024/07/18/"


# ---- excerpts ---------------------------------------------------------------------------
def test_excerpt_is_the_first_paragraph_by_default():
    r = render("First *para* with [a link](a.html).\n\nSecond para.")
    assert r.summary_html == f'<p>First <em>para</em> with <a href="{U}a.html" rel="noopener noreferrer">a link</a>.</p>'
    assert r.summary_text == "First para with a link."
    assert "Second para." in r.html


def test_more_comment_always_ends_the_excerpt():
    r = render("One.\n\nTwo.\n<!--more-->\nThree.")
    assert r.summary_html == "<p>One.</p>\n<p>Two.</p>"
    assert "Three." in r.html and "more" not in r.html


def test_configured_excerpt_separator():
    r = render("A.\n\nB.\n\n~~~cut~~~\n\nC.", site={"excerpt_separator": "~~~cut~~~"})
    assert r.summary_text == "A. B."


def test_front_matter_summary_is_rendered_as_markdown_sanitized_and_absolute():
    r = render("Body.", summary='Short *summary* [x](x.html) <script>alert(1)</script>')
    assert r.summary_html == f'<p>Short <em>summary</em> <a href="{U}x.html" rel="noopener noreferrer">x</a> </p>'
    assert r.summary_text == "Short summary x"


def test_excerpt_keeps_reference_links_defined_later():
    r = render("See [the docs][d].\n\nMore.\n\n[d]: /docs/")
    assert r.summary_html == '<p>See <a href="https://example.com/docs/" rel="noopener noreferrer">the docs</a>.</p>'


def test_excerpt_keeps_only_the_footnotes_it_references():
    r = render("Intro[^a].\n\nLater[^b].\n\n[^a]: Note A.\n[^b]: Note B.")
    assert "Note A." in r.summary_html and "Note B." not in r.summary_html


def test_summary_text_collapses_whitespace_and_drops_markup():
    r = render("Fish &amp; *chips*\n   and\tpeas  \nnow")
    assert r.summary_text == "Fish & chips and peas now"


def test_excerpt_never_ends_inside_a_code_block():
    r = render("```python\na = 1\n\nb = 2\n```\n\nSecond para.")
    assert r.summary_text == "a = 1 b = 2" and "Second" not in r.summary_html
    assert "```" not in r.summary_html


def test_excerpt_source_edge_cases():
    assert excerpt_source("\n\nA\n\nB", "\n\n") == "A"
    assert excerpt_source("Only one", "\n\n") == "Only one"


# ---- hostile and broken bodies ----------------------------------------------------------
def test_xml_illegal_characters_and_surrogates_never_reach_the_output():
    r = render("a\x00b\x08c\x1b[31md\ud800e\ufffe f\n\nsecond \x0c")
    for text in (r.html, r.summary_html, r.summary_text):
        assert not any(ch in text for ch in "\x00\x08\x1b\ud800\ufffe\x0c")
    assert r.summary_text == "abc[31mde f"
    assert [str(w) for w in r.warnings] == [
        "posts/2024-07-18-post.md:4: warning: removed 6 character(s) that XML feeds cannot carry "
        "(control characters, lone surrogates, noncharacters) from the body; the first was U+0000"
    ]


def test_post_html_never_carries_script_or_handlers():
    r = render('<script>alert(1)</script><img src="x.png" onerror="alert(1)">[x](javascript:alert(1))')
    assert "<script" not in r.html and "onerror" not in r.html and "javascript" not in r.html
    assert f'<img src="{U}x.png">' in r.html


def test_a_too_large_body_is_a_render_error_naming_the_file():
    with pytest.raises(RenderError) as exc:
        _render_with({"max_post_bytes": 1000}, "x" * 2000)
    assert exc.value.path == "posts/2024-07-18-post.md"
    assert "max_post_bytes" in str(exc.value)


def test_a_too_large_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "posts" / "2024-07-18-post.md"
    path.parent.mkdir()
    path.write_text("x" * 5000)
    post = make_post("x", root=tmp_path)
    site = make_site([post], root=tmp_path, build={"max_post_bytes": 1000})

    def never(_post):
        raise AssertionError("the body must not be read")

    with pytest.raises(RenderError, match="5,000 bytes"):
        Renderer(site, read_body=never).render(post)


def _render_with(build: dict, body: str, post=None):
    post = post or make_post(body)
    site = make_site([post], build=build)
    return Renderer(site, read_body=lambda p: body).render(post)


def test_pathological_markdown_times_out_and_other_posts_still_render(monkeypatch):
    monkeypatch.setattr(markdown_adapter, "NEUTRALIZE_THRESHOLD", 10**9)  # bypass the guard: test the backstop
    bad_body, good_body = "[" * 30000, "fine *text*"
    bad = make_post(bad_body, relpath="posts/2024-01-01-bad.md")
    good = make_post(good_body, relpath="posts/2024-01-02-good.md")
    site = make_site([bad, good], build={"render_timeout": 0.3})
    bodies = {bad.relpath: bad_body, good.relpath: good_body}
    renderer = Renderer(site, read_body=lambda p: bodies[p.relpath])
    start = time.monotonic()
    with pytest.raises(RenderError) as exc:
        renderer.render(bad)
    assert time.monotonic() - start < 5
    assert exc.value.path == "posts/2024-01-01-bad.md" and "longer than 0.3 s" in exc.value.message
    assert renderer.render(good).html == "<p>fine <em>text</em></p>"
    time.sleep(0.4)  # a late interrupt must never hit later work
    assert renderer.render(good).html == "<p>fine <em>text</em></p>"


def test_timeout_also_works_outside_the_main_thread(monkeypatch):
    monkeypatch.setattr(markdown_adapter, "NEUTRALIZE_THRESHOLD", 10**9)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            _render_with({"render_timeout": 0.2}, "[" * 30000)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], RenderError)


def test_pathological_markdown_with_the_guard_renders_with_a_warning():
    r = _render_with({"render_timeout": 5}, "[" * 50000)
    assert r.html.count("[") == 50000
    assert r.warnings and "treated as text" in r.warnings[0].message and r.warnings[0].path == "posts/2024-07-18-post.md"


def test_unreadable_body_is_a_render_error_naming_the_file():
    post = make_post("x")

    def broken(_post):
        raise OSError(5, "Input/output error")

    with pytest.raises(RenderError) as exc:
        Renderer(make_site([post]), read_body=broken).render(post)
    assert exc.value.path == post.relpath


def test_post_errors_from_the_reader_pass_through():
    post = make_post("x")

    def changed(_post):
        raise PostError("file changed since it was scanned", path=_post.relpath)

    with pytest.raises(PostError, match="changed since"):
        Renderer(make_site([post]), read_body=changed).render(post)


def test_a_crash_inside_a_renderer_library_names_the_post(monkeypatch):
    post = make_post("x")
    renderer = Renderer(make_site([post]), read_body=lambda p: "x")

    def boom(*_a, **_k):
        raise ValueError("library bug")

    monkeypatch.setattr(renderer._md, "convert", boom)
    with pytest.raises(RenderError) as exc:
        renderer.render(post)
    assert exc.value.path == post.relpath and "library bug" in str(exc.value)


def test_a_post_rendered_twice_is_rendered_once():
    post = make_post("x")
    calls = []
    renderer = Renderer(make_site([post]), read_body=lambda p: calls.append(p) or "x")
    assert renderer.render(post) is renderer.render(post)
    assert len(calls) == 1 and renderer.stats == {"rendered": 1, "cache_hits": 0}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list("[]()<>{}%*_`#!\n|:-^"))))
def test_any_body_renders_to_xml_safe_script_free_html(body):
    r = render(body)
    for text in (r.html, r.summary_html, r.summary_text):
        assert "<script" not in text.lower()
        assert not any(0xD800 <= ord(c) <= 0xDFFF or (ord(c) < 32 and c not in "\t\n\r") for c in text)


# ---- real posts through posts.scan / posts.read_body ------------------------------------
def test_sample_blog_renders_with_the_default_body_reader(sample_site, now):
    config = load_config(root=sample_site)
    site = scan(config, now)
    renderer = Renderer(site)
    rendered = [renderer.render(p) for p in site.posts]
    assert len(rendered) == 2
    newest = rendered[0]
    assert newest.post.url.startswith("https://blog.example.com/")
    # "[Bitrise](bitrise.io)" is a relative link: it resolves against the post URL.
    base = newest.post.url.rsplit("/", 1)[0]
    assert f'<a href="{base}/bitrise.io" rel="noopener noreferrer">Bitrise</a>' in newest.html
    assert newest.summary_text.startswith("In 2021 my career was a Toyota Camry.")
    assert "<h2>What actually sells</h2>" in newest.html
    assert rendered[1].summary_text.startswith("I believe that software developers")


@pytest.mark.parametrize("body", ["<div>" * 100_000, "<span>" * 100_000, "<b>" * 100_000])
def test_deeply_nested_html_fails_fast_naming_the_file(body):
    start = time.monotonic()
    with pytest.raises(RenderError, match="nests at least") as exc:
        render(body)
    assert exc.value.path == "posts/2024-07-18-post.md"
    assert time.monotonic() - start < 5


@pytest.mark.slow
@pytest.mark.parametrize("body", ["> " * 100_000, "1. " * 30_000, "[^1]" * 20_000 + "\n\n[^1]: x"])
def test_other_pathological_markdown_is_bounded_by_the_timeout(body):
    start = time.monotonic()
    try:
        _render_with({"render_timeout": 1.0}, body)
    except RenderError as exc:
        assert exc.path == "posts/2024-07-18-post.md"
    assert time.monotonic() - start < 8


def test_a_timeout_interrupts_only_the_thread_that_ran_late(monkeypatch):
    monkeypatch.setattr(markdown_adapter, "NEUTRALIZE_THRESHOLD", 10**9)
    results: dict[str, object] = {}

    def slow() -> None:
        try:
            _render_with({"render_timeout": 0.3}, "[" * 30000)
        except RenderError as exc:
            results["slow"] = exc

    def steady() -> None:
        outputs = []
        deadline = time.monotonic() + 1.5  # keeps rendering while the other thread is interrupted
        while time.monotonic() < deadline:
            outputs.append(_render_with({"render_timeout": 30}, "*ok* " * 200).html)
        results["steady"] = outputs

    threads = [threading.Thread(target=slow), threading.Thread(target=steady)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert isinstance(results["slow"], RenderError)
    assert results["steady"] and all(h.startswith("<p><em>ok</em>") for h in results["steady"])
