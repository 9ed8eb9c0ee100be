"""Template overrides: the user's templates/ first, defaults reachable as "default:<name>"."""
from __future__ import annotations

import pytest
from lxml import html as lxml_html
from test_digest_support import NOW, MarkdownRender, make_config, make_site, sample_posts

from feedpub import templating
from feedpub.digest import render_digest, select


def render_with(tmp_path, files, **sections):
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    for name, text in files.items():
        (templates / name).write_text(text, "utf-8")
    config = make_config(tmp_path, **sections)
    site = make_site(config, sample_posts(tmp_path))
    return render_digest(select(site, now=NOW), MarkdownRender(), config, NOW)


def test_a_user_template_replaces_the_default_whole(tmp_path):
    email = render_with(tmp_path, {
        "digest.txt.j2": "{{ subject }}\n{% for post in posts %}* {{ post.title }} {{ post.url }}\n{% endfor %}",
    })
    assert email.text == (
        "Test Blog: 3 new posts\n"
        "* Third & <last> post https://example.com/2026/11/22/third.html\n"
        "* Second post https://example.com/2026/11/20/second.html\n"
        "* First post https://example.com/2026/11/17/first.html\n"
    )
    assert "Read more" in email.html  # the HTML default is untouched


def test_a_user_template_extends_the_default_and_overrides_one_block(tmp_path):
    email = render_with(tmp_path, {
        "digest.html.j2": (
            '{% extends "default:digest.html.j2" %}\n'
            '{% block footer %}<tr><td class="footer">Thanks, {{ site.title }} & friends! '
            '<a href="{{ links.unsubscribe }}">Leave</a></td></tr>{% endblock %}\n'
        ),
    })
    tree = lxml_html.document_fromstring(email.html)
    footer = tree.xpath("//td[contains(@class,'footer')]")[0]
    assert footer.text_content().strip() == "Thanks, Test Blog & friends! Leave"
    assert "text-align:center" in footer.get("style").replace(" ", "")  # the default CSS still applies
    assert len(tree.xpath("//h2[contains(@class,'post-title')]")) == 3    # every other block is the default's
    assert "View in browser" not in email.html


def test_overriding_one_post_block_keeps_the_loop(tmp_path):
    email = render_with(tmp_path, {
        "digest.txt.j2": '{% extends "default:digest.txt.j2" %}{% block post %}\n>> {{ post.title }}\n{% endblock %}',
    })
    assert ">> Third & <last> post\n" in email.text and ">> First post\n" in email.text
    assert "Unsubscribe:" in email.text


def test_the_css_alone_can_be_replaced(tmp_path):
    email = render_with(tmp_path, {"digest.css": ".post-title { color: #ff0000; }\n"})
    title = lxml_html.document_fromstring(email.html).xpath("//h2[contains(@class,'post-title')]")[0]
    assert title.get("style") == "color:#ff0000"
    assert "<style" not in email.html  # no @media rules left, so no <style> at all


def test_html_is_autoescaped_text_is_not(tmp_path):
    env = templating.environment(user_dir=tmp_path)
    (tmp_path / "t.html.j2").write_text("{{ v }}")
    (tmp_path / "t.txt.j2").write_text("{{ v }}")
    assert templating.render(env, "t.html.j2", {"v": "<b>&"}) == "&lt;b&gt;&amp;"
    assert templating.render(env, "t.txt.j2", {"v": "<b>&"}) == "<b>&"


def test_syntax_error_names_the_file_and_line(tmp_path):
    (tmp_path / "broken.html.j2").write_text("line one\n{% if x %}\nno endif\n")
    env = templating.environment(user_dir=tmp_path)
    with pytest.raises(templating.TemplateError) as info:
        templating.render(env, "broken.html.j2", {"x": 1})
    assert info.value.path.endswith("broken.html.j2")
    assert info.value.line is not None and "syntax error" in info.value.message


def test_undefined_variable_is_an_error_with_its_name(tmp_path):
    (tmp_path / "t.txt.j2").write_text("ok\n{{ pots }}\n")
    env = templating.environment(user_dir=tmp_path)
    with pytest.raises(templating.TemplateError, match="'pots' is undefined") as info:
        templating.render(env, "t.txt.j2", {})
    assert info.value.path.endswith("t.txt.j2") and info.value.line == 2


def test_missing_template(tmp_path):
    env = templating.environment(user_dir=tmp_path)
    with pytest.raises(templating.TemplateError, match="'nope.html.j2' not found"):
        templating.render(env, "nope.html.j2", {})


def test_defaults_only_without_a_user_folder(tmp_path):
    env = templating.environment(user_dir=tmp_path / "missing")
    assert "digest-date" in env.loader.get_source(env, "digest.html.j2")[0]
    assert env.loader.get_source(env, "default:digest.css")[0] == env.loader.get_source(env, "digest.css")[0]


def test_a_template_added_later_replaces_the_cached_default(tmp_path):
    before = templating.render(templating.environment(user_dir=tmp_path), "digests_index.html.j2",
                               {"site": {"title": "T", "url": "https://x/", "lang": "en"}, "digests": []})
    assert "past newsletters" in before
    (tmp_path / "digests_index.html.j2").write_text("mine\n")
    after = templating.render(templating.environment(user_dir=tmp_path), "digests_index.html.j2", {})
    assert after == "mine\n"
