"""The digest email as clients see it: HTML structure, inlined styles, text part, subject."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html
from test_digest_support import NOW, MarkdownRender, days_ago, make_config, make_site, sample_posts, write_post

from feedpub.digest import UNSUBSCRIBE_PLACEHOLDER, fill_unsubscribe, render_digest, select, size_warning
from feedpub.digest.render import email_html
from feedpub.errors import DigestError

CSS = (Path(__file__).resolve().parent.parent / "templates" / "digest.css").read_text("utf-8")


def build(tmp_path, posts=None, **sections):
    config = make_config(tmp_path, **sections)
    site = make_site(config, posts if posts is not None else sample_posts(tmp_path))
    digest = select(site, now=NOW)
    render = MarkdownRender()
    return render_digest(digest, render, config, NOW), digest, render


@pytest.fixture
def email(tmp_path):
    return build(tmp_path)[0]


def doc(html):
    return lxml_html.document_fromstring(html)


def test_no_scripts_forms_or_external_css(email):
    tree = doc(email.html)
    for tag in ("script", "form", "input", "button", "iframe", "object", "embed", "link"):
        assert tree.xpath(f"//{tag}") == [], tag
    assert not re.search(r"\son\w+\s*=", email.html)


def test_every_image_is_absolute_with_alt_and_fits(tmp_path):
    email = build(tmp_path, digest={"content": "full"})[0]
    imgs = doc(email.html).xpath("//img")
    assert imgs
    for img in imgs:
        assert urlsplit(img.get("src")).scheme == "https"
        assert img.get("alt") is not None
        assert 0 < int(img.get("width")) <= 560
        assert "max-width:100%" in img.get("style").replace(" ", "")
        assert "height:auto" in img.get("style").replace(" ", "")
        assert img.get("height") is None


def test_no_relative_links(email):
    hrefs = doc(email.html).xpath("//@href | //@src")
    assert hrefs
    for href in hrefs:
        scheme = urlsplit(href).scheme
        assert scheme in ("https", "mailto") or href == UNSUBSCRIBE_PLACEHOLDER, href
    assert "https://example.com/2026/11/about/" in hrefs  # ../about/ resolved against the post


def _plain_rules(css):
    """(selectors, declarations) of every rule outside @media blocks."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, i = [], 0
    while i < len(css):
        if css.startswith("@media", i):
            depth, k = 1, css.index("{", i) + 1
            while depth:
                depth += {"{": 1, "}": -1}.get(css[k], 0)
                k += 1
            i = k
            continue
        out.append(css[i])
        i += 1
    return [([s.strip() for s in sel.split(",")], body) for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", "".join(out))]


def _xpath(selector):
    """XPath for the simple selectors digest.css uses: tag, .class, tag.class, descendants."""
    steps = []
    for part in selector.split():
        tag, _, cls = part.partition(".")
        step = "//" + (tag or "*")
        if cls:
            step += f"[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]"
        steps.append(step)
    return "".join(steps)


def test_every_element_style_is_inlined_and_only_media_rules_stay(email):
    tree = doc(email.html)
    styles = tree.xpath("//style")
    assert len(styles) == 1, "one <style> with the @media rules (phone spacing, dark mode)"
    leftover = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", styles[0].text_content()).strip()
    assert leftover == "", f"non-@media CSS left un-inlined: {leftover[:200]}"
    assert styles[0].getparent().tag == "head"
    checked = 0
    for selectors, body in _plain_rules(CSS):
        for selector in selectors:
            first_prop = body.split(":")[0].strip()
            for el in tree.xpath(_xpath(selector)) if _selectable(selector) else []:
                assert first_prop in (el.get("style") or ""), (selector, el.tag)
                checked += 1
    assert checked > 30
    for el in tree.xpath("//body//*[@class]"):
        if el.get("class") in ("body",):
            continue
        assert el.get("style"), f"<{el.tag} class={el.get('class')}> has no inline style"


def _selectable(selector):
    return ":" not in selector and "@" not in selector


def test_preheader_comes_first_and_is_hidden(email):
    body = doc(email.html).body
    first = body[0]
    assert "preheader" in first.get("class")
    assert "display:none" in first.get("style").replace(" ", "")
    assert first.text_content().startswith("The newest post, with a relative link and an image.")


def test_preheader_can_be_configured(tmp_path):
    email = build(tmp_path, digest={"preheader": "This week: <three> posts"})[0]
    first = doc(email.html).body[0]
    assert first.text_content().startswith("This week: <three> posts")
    assert "This week: &lt;three&gt; posts" in email.html


def test_head_declares_color_scheme_and_charset_early(email):
    tree = doc(email.html)
    assert tree.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    assert email.html.index('<meta charset="utf-8">') < 1024
    assert "prefers-color-scheme: dark" in tree.xpath("//style")[0].text_content()


def test_header_posts_and_footer(email):
    tree = doc(email.html)
    assert tree.xpath("//h1//a/text()") == ["Test Blog"]
    assert "November 23, 2026" in tree.xpath("string(//*[contains(@class,'digest-date')])")
    titles = tree.xpath("//h2[contains(@class,'post-title')]/a")
    assert [a.text for a in titles] == ["Third & <last> post", "Second post", "First post"]
    assert titles[0].get("href") == "https://example.com/2026/11/22/third.html"
    meta = tree.xpath("string((//*[contains(@class,'post-meta')])[1])")
    assert "November 22, 2026" in meta and "Bo Writer" in meta and "news, python" in meta
    meta2 = tree.xpath("string((//*[contains(@class,'post-meta')])[2])")
    assert "Ann Author" in meta2  # the site's author for posts without one
    assert len(tree.xpath("//*[contains(@class,'read-more')]/a")) == 3
    footer = tree.xpath("//td[contains(@class,'footer')]")[0]
    links = {a.text: a.get("href") for a in footer.xpath(".//a")}
    assert links == {
        "Test Blog": "https://example.com/",
        "Feed": "https://example.com/feed.xml",
        "View in browser": "https://example.com/digests/2026-11-23.html",
        "Unsubscribe": UNSUBSCRIBE_PLACEHOLDER,
    }


def test_titles_are_escaped_not_markup(email):
    assert "Third &amp; &lt;last&gt; post" in email.html
    assert "<last>" not in email.html


def test_excerpt_mode_renders_only_the_excerpt(email):
    assert "More text." not in email.html
    assert "The first post of the week." in email.html


def test_full_content_mode(tmp_path):
    email = build(tmp_path, digest={"content": "full"})[0]
    tree = doc(email.html)
    assert "More text." in email.html
    assert tree.xpath("//*[contains(@class,'read-more')]") == []
    pre = tree.xpath("//pre")[0]
    style = pre.get("style").replace(" ", "")
    assert "white-space:pre-wrap" in style and "overflow-x:auto" in style


def test_more_posts_are_links_and_not_rendered(tmp_path):
    email, digest, render = build(tmp_path, digest={"max_posts": 1})
    tree = doc(email.html)
    assert tree.xpath("//h2[contains(@class,'more-title')]/text()") == ["More posts"]
    items = tree.xpath("//li[contains(@class,'more-item')]/a")
    assert [(a.text, a.get("href")) for a in items] == [
        ("Second post", "https://example.com/2026/11/20/second.html"),
        ("First post", "https://example.com/2026/11/17/first.html"),
    ]
    assert render.rendered == [digest.posts[0].id]  # lazy: "More posts" are not rendered
    assert "More posts\n----------\n- Second post (November 20, 2026)\n  https://example.com/2026/11/20/second.html" in email.text


def test_subject_default_plural_and_singular(tmp_path):
    assert build(tmp_path)[0].subject == "Test Blog: 3 new posts"
    one = [write_post(tmp_path, "one", "Only one", "Hi.\n", date=days_ago(1))]
    assert build(tmp_path, posts=one)[0].subject == "Test Blog: 1 new post"


def test_subject_template(tmp_path):
    email = build(tmp_path, digest={"subject": "{first_title} and more ({count} {posts}, {date})"})[0]
    assert email.subject == "Third & <last> post and more (3 posts, November 23, 2026)"


def test_subject_template_with_unknown_key_names_the_key(tmp_path):
    with pytest.raises(DigestError, match=r"digest\.subject.*'titel'") as info:
        build(tmp_path, digest={"subject": "{titel}"})
    assert "{site_title}" in info.value.hint


def test_subject_is_one_line(tmp_path):
    posts = [write_post(tmp_path, "x", "Line\nbreak", "Hi.\n", date=days_ago(1))]
    assert build(tmp_path, posts=posts, digest={"subject": "{first_title}\r\nBcc: x@y"})[0].subject == "Line break Bcc: x@y"


def test_text_part_is_readable_on_its_own(email):
    text = email.text
    assert "<" not in text.replace("<https://", "").replace("<last>", "")
    assert text.startswith("Test Blog\n=========\nNovember 23, 2026 - 3 new posts\n")
    assert "\nThird & <last> post\n-------------------\nNovember 22, 2026 · Bo Writer · news, python\n" in text
    assert "relative link <https://example.com/2026/11/about/>" in " ".join(text.split())
    assert "Read more: https://example.com/2026/11/20/second.html" in text
    assert "Unsubscribe: " + UNSUBSCRIBE_PLACEHOLDER in text
    assert "View in your browser: https://example.com/digests/2026-11-23.html" in text
    for line in text.splitlines():
        assert len(line) <= 72 or "https://" in line, line


def test_text_part_of_full_content_keeps_structure(tmp_path):
    text = build(tmp_path, digest={"content": "full"})[0].text
    assert "\n- one\n- two\n" in text
    assert "\n    x = 'a very long line" in text  # code stays verbatim, indented
    assert "[image]" in text


def test_unsubscribe_headers_and_fill(email):
    assert email.headers == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE_PLACEHOLDER}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    filled = fill_unsubscribe(email, "https://example.com/unsub?e=a%40b&t=1")
    assert UNSUBSCRIBE_PLACEHOLDER not in filled.html + filled.text + str(filled.headers)
    assert 'href="https://example.com/unsub?e=a%40b&amp;t=1"' in filled.html
    assert "Unsubscribe: https://example.com/unsub?e=a%40b&t=1" in filled.text
    with pytest.raises(ValueError):
        fill_unsubscribe(email, "https://x/\r\nBcc: y")


def test_without_unsubscribe_config_there_is_no_link_or_header(tmp_path):
    email = build(tmp_path, send={"unsubscribe_url": ""})[0]
    assert email.headers == {}
    assert "Unsubscribe" not in email.html and "Unsubscribe" not in email.text


def test_mailto_only_unsubscribe_has_no_one_click(tmp_path):
    email = build(tmp_path, send={"unsubscribe_url": "", "unsubscribe_mailto": "leave@example.com"})[0]
    assert email.headers == {"List-Unsubscribe": "<mailto:leave@example.com?subject=unsubscribe>"}
    assert UNSUBSCRIBE_PLACEHOLDER in email.html  # the sender fills in each recipient's link


def test_web_copy_has_no_personal_or_self_links(tmp_path):
    config = make_config(tmp_path)
    site = make_site(config, sample_posts(tmp_path))
    email = render_digest(select(site, now=NOW), MarkdownRender(), config, NOW, web=True)
    assert UNSUBSCRIBE_PLACEHOLDER not in email.html + email.text
    assert "View in browser" not in email.html and "View in your browser" not in email.text


def test_email_fields(tmp_path):
    email, digest, _ = build(tmp_path)
    assert email.digest_id == digest.digest_id
    assert email.post_ids == digest.post_ids
    assert email.newest == days_ago(1)
    assert email.date == NOW
    assert email.from_addr == "Test Blog <news@example.com>"


def test_rendering_is_deterministic(tmp_path):
    assert build(tmp_path)[0] == build(tmp_path)[0]


def test_email_html_fixes_post_markup():
    html = email_html(
        '<p><a href="#sec">x</a> <img src="a.png" alt="A" width="300"></p>'
        '<iframe src="https://www.youtube.com/embed/1" title="Demo"></iframe>'
        '<table><tr><td>1</td></tr></table><pre style="color: red">code</pre>',
        "https://example.com/2024/post.html",
    )
    tree = lxml_html.fragment_fromstring(html, create_parent="div")
    assert tree.xpath("//a/@href")[0] == "https://example.com/2024/post.html#sec"
    img = tree.xpath("//img")[0]
    assert img.get("src") == "https://example.com/2024/a.png" and img.get("width") == "300" and img.get("alt") == "A"
    assert tree.xpath("//iframe") == []
    assert tree.xpath("//a[contains(., 'Demo')]/@href") == ["https://www.youtube.com/embed/1"]
    assert tree.xpath("//table/parent::div/@style") == ["overflow-x:auto;max-width:100%"]
    assert tree.xpath("//pre/@style")[0].startswith("color: red;white-space:pre-wrap")
    unsafe = email_html('<a href="javascript:alert(1)">x</a><img src="vbscript:x" alt="">', "https://e.com/p")
    assert "script:" not in unsafe and "<a>x</a>" in unsafe
    data = email_html('<a href="data:text/html,x">x</a><img src="data:image/png;base64,AA==" alt="">', "https://e.com/p")
    assert "data:text" not in data and 'src="data:image/png;base64,AA=="' in data


def test_size_warning_says_what_to_do(tmp_path):
    assert size_warning("x" * 1000) is None
    message = size_warning("é" * 50_000)  # 100,000 bytes
    assert "98 KB" in message and "102 KB" in message and "max_posts" in message and "excerpt" in message


def test_big_full_digest_passes_the_warning_threshold(tmp_path):
    body = "\n\n".join(f"Paragraph {i} " + "words " * 60 for i in range(60))
    posts = [write_post(tmp_path, f"p{i}", f"Post {i}", body, date=days_ago(1 + i / 10)) for i in range(6)]
    email = build(tmp_path, posts=posts, digest={"content": "full"})[0]
    assert size_warning(email.html) is not None
    small = build(tmp_path, posts=posts)[0]
    assert size_warning(small.html) is None


def test_front_matter_image_leads_the_excerpt(tmp_path):
    from feedpub.model import Image

    posts = [write_post(tmp_path, "pic", "With a picture", "Text.\n", date=days_ago(1),
                        image=Image("https://cdn.example.com/hero.jpg", "A hero"))]
    tree = doc(build(tmp_path, posts=posts)[0].html)
    (img,) = tree.xpath("//img")
    assert (img.get("src"), img.get("alt"), img.get("width")) == ("https://cdn.example.com/hero.jpg", "A hero", "560")
    assert "max-width:100%" in img.get("style").replace(" ", "")


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn", "Zl", "Zp")), min_size=1, max_size=60).filter(str.strip)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_TEXT, category=_TEXT)
def test_any_title_and_category_survive_as_text(tmp_path, title, category):
    posts = [write_post(tmp_path, "p", "placeholder", "Body.\n", date=days_ago(1), categories=(category,))]
    posts = [dataclasses.replace(posts[0], title=title)]
    email = build(tmp_path, posts=posts)[0]
    tree = doc(email.html)
    shown = tree.xpath("string(//h2[contains(@class,'post-title')]/a)")
    assert " ".join(shown.split()) == " ".join(title.split())
    assert " ".join(category.split()) in " ".join(tree.xpath("string(//*[contains(@class,'post-meta')])").split())
    assert tree.xpath("//script") == []
    one_line = " ".join(title.split())
    assert f"\n{one_line}\n{'-' * len(one_line)}\n" in email.text
