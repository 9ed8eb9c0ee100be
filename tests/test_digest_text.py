"""Plain text from post HTML: structure kept, links as full URLs, nothing stripped blindly."""
from __future__ import annotations

from feedpub.digest.text import html_to_text, wrap


def test_paragraphs_are_wrapped_and_separated():
    text = html_to_text("<p>" + "word " * 30 + "</p><p>Second.</p>")
    lines = text.splitlines()
    assert all(len(line) <= 72 for line in lines)
    assert lines[-2:] == ["", "Second."]


def test_links_become_full_urls():
    text = html_to_text('<p>See <a href="/docs/">the docs</a> and <a href="https://x.org/">https://x.org/</a>.</p>',
                        base_url="https://example.com/blog/post.html")
    assert text == "See the docs <https://example.com/docs/> and https://x.org/."


def test_long_urls_are_not_broken():
    url = "https://example.com/" + "a" * 100
    text = html_to_text(f'<p>Go <a href="{url}">here</a> now.</p>')
    assert f"<{url}>" in text


def test_lists_headings_quotes_code_tables():
    text = html_to_text(
        "<h2>Title</h2><p>Intro</p><ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>"
        "<ol><li>one</li><li>two</li></ol><blockquote><p>quoted</p></blockquote>"
        "<pre><code>def f():\n    return 1 &lt; 2\n</code></pre>"
        "<table><tr><th>k</th><th>v</th></tr><tr><td>1</td><td>2</td></tr></table><hr><p>end<br>line</p>"
    )
    assert text == (
        "## Title\n\nIntro\n\n- a\n   - b\n- c\n\n1. one\n2. two\n\n> quoted\n\n"
        "    def f():\n        return 1 < 2\n\nk | v\n1 | 2\n\n--------\n\nend\nline"
    )


def test_scripts_styles_and_images():
    text = html_to_text('<style>p{}</style><script>alert(1)</script><p><img src="x.png" alt="A cat"> <img src="y.png"></p>')
    assert text == "[image: A cat] [image]"


def test_entities_are_decoded():
    assert html_to_text("<p>Fish &amp; chips &lt;3 &eacute;</p>") == "Fish & chips <3 é"


def test_wrap_keeps_paragraphs():
    assert wrap("a b\n\n\nc", width=10, indent="  ") == "  a b\n\n  c"
