"""Markdown rendering as users see it (one-line asserts through the real Renderer)."""
from __future__ import annotations

import time

import pytest

from feedpub import markdown_adapter
from feedpub.markdown_adapter import MarkdownAdapter, highlight, neutralize
from helpers.render_asserts import assert_renders, render

U = "https://example.com/2024/07/18/"


def test_paragraphs_and_emphasis():
    assert_renders("Hello *world* and __more__", "<p>Hello <em>world</em> and <strong>more</strong></p>")


def test_relative_link_and_image_become_absolute():
    assert_renders(
        "[a](other.html) ![cat](img/cat.png)",
        f'<p><a href="{U}other.html" rel="noopener noreferrer">a</a> <img alt="cat" src="{U}img/cat.png"></p>',
    )


def test_tables_with_alignment():
    assert_renders(
        "| a | b |\n|---|:-:|\n| 1 | 2 |",
        '<table><thead><tr><th>a</th><th style="text-align:center">b</th></tr></thead>'
        '<tbody><tr><td>1</td><td style="text-align:center">2</td></tr></tbody></table>',
    )


def test_definition_lists():
    assert_renders("Term\n: Definition", "<dl><dt>Term</dt><dd>Definition</dd></dl>")


def test_attr_list_on_headings():
    assert_renders("# Head {#intro .big}", '<h1 class="big" id="intro">Head</h1>')


def test_sane_lists_do_not_merge_ordered_and_unordered():
    assert_renders("1. one\n2. two\n\n* x", "<ol><li>one</li><li>two</li></ol><ul><li>x</li></ul>")


def test_footnotes_link_to_the_post_url():
    html = render("Text[^n].\n\n[^n]: The note.").html
    assert f'<a class="footnote-ref" href="{U}post.html#fn:n" rel="noopener noreferrer">1</a>' in html
    assert '<li id="fn:n">' in html and "The note." in html


def test_fenced_code_is_highlighted_with_inline_styles_that_wrap():
    html = render("```python\ndef f():\n    return 1\n```").html
    assert 'class="codehilite" style="background:#f8f8f8' in html
    assert '<pre style="white-space:pre-wrap;word-wrap:break-word;overflow-x:auto' in html
    assert '<span style="color:#008000;font-weight:bold">def</span>' in html
    assert "<style" not in html


def test_code_with_unknown_language_is_plain_escaped_text():
    html = render("```nosuchlang\nx < y && z\n```").html
    assert "x &lt; y &amp;&amp; z" in html


def test_raw_html_in_markdown_is_sanitized():
    assert_renders('a <b>bold</b> <span onclick="x">s</span>', "<p>a <b>bold</b> <span>s</span></p>")


def test_unicode_passes_through():
    assert_renders("Ünïcode “quotes” — 日本語", "<p>Ünïcode “quotes” — 日本語</p>")


def test_adapter_is_reusable_and_stateless_between_documents():
    md = MarkdownAdapter()
    first, _ = md.convert("a[^1]\n\n[^1]: one")
    second, _ = md.convert("plain")
    assert "footnote" in first and second == "<p>plain</p>"


def test_stash_inserts_html_verbatim_as_a_block():
    md = MarkdownAdapter()
    html, _ = md.convert("before\n\n" + markdown_adapter.STASH_TOKEN % 0 + "\n\nafter", ["<div>kept *as is*</div>"])
    assert html == "<p>before</p>\n<div>kept *as is*</div>\n<p>after</p>"


def test_highlight_with_line_numbers_and_unknown_language():
    assert "<span" in highlight("x = 1", "python") and "1" in highlight("x = 1", "python", linenos=True)
    assert highlight("a < b", "no-such-lexer").count("&lt;") == 1


@pytest.mark.parametrize(
    "source",
    ["[" * 50000, "[a " * 20000, "[x](" * 8000, "[x](y " * 8000, "<a " * 20000, "![" * 20000, "[[" * 5000 + "]]" * 5000],
)
def test_pathological_markdown_is_defused_and_shows_the_same_characters(source):
    md = MarkdownAdapter()
    start = time.perf_counter()
    html, notes = md.convert(source)
    elapsed = time.perf_counter() - start
    assert notes, "the neutralizer should have noticed"
    assert elapsed < 30  # a sanity bound, not a benchmark: unguarded these take minutes
    assert "\ufdd0" not in html and "\ufdd1" not in html and "\ufdd2" not in html
    visible = html.replace("&lt;", "<").replace("<p>", "").replace("</p>", "")
    assert visible.count("[") == source.count("[")


def test_neutralize_leaves_ordinary_posts_alone():
    text = "[a](b) " * 100 + "\n\n```\n[ < \n```"
    assert neutralize(text) == (text, [])


def test_neutralized_brackets_inside_code_blocks_still_show_as_brackets():
    source = "[" * 600 + "\n\n```\n[not a link\n```\n"
    html, notes = MarkdownAdapter().convert(source)
    assert notes and "[not a link" in html and "\\[" not in html


def test_matched_links_keep_working_next_to_pathological_brackets():
    html, _ = MarkdownAdapter().convert("[ok](https://example.com/) " + "[" * 1000)
    assert '<a href="https://example.com/">ok</a>' in html


def test_defusing_skips_code_blocks_so_highlighting_stays_clean():
    plain_code = MarkdownAdapter().convert("```python\nif a < b and c[0:\n    pass\n```")[0]
    source = "```python\nif a < b and c[0:\n    pass\n```\n\n" + "a < b " * 600 + "[" * 600
    html, notes = MarkdownAdapter().convert(source)
    assert notes
    assert html.startswith(plain_code)  # identical highlighting: no sentinel reached Pygments
    assert "1px solid" not in html
