"""Jekyll Liquid in post bodies: tags, variables, filters, and graceful failure."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import shared_path
from feedpub.render import Renderer
from helpers.render_asserts import make_post, make_site, read_post_file, render


def render_in(root: Path, body: str, *, others: list = (), **post_kw):
    """Render ``body`` as posts/2024-07-18-post.md of a site in ``root``."""
    post = make_post(body, root=root, **post_kw)
    site = make_site([post, *others], root=root, site={"baseurl": "/blog"})
    return Renderer(site, read_body=lambda p: body).render(post)


def messages(rendered) -> list[str]:
    return [str(w) for w in rendered.warnings]


# ---- variables and filters --------------------------------------------------------------
def test_site_and_page_variables():
    r = render(
        "{{ page.title }} | {{ page.custom }} | {{ site.url }}{{ site.baseurl }} | {{ site.title }} | {{ site.lang }}",
        front_matter={"title": "A Post", "custom": "from front matter"},
        site={"baseurl": "/blog", "lang": "de"},
    )
    assert r.html == "<p>A Post | from front matter | https://example.com/blog | Test Blog | de</p>"
    assert r.warnings == ()


def test_unknown_variables_render_empty_like_jekyll():
    assert render("a{{ site.nothing }}b{{ page.no.such }}c").html == "<p>abc</p>"


def test_jekyll_filters():
    r = render(
        '{{ "img/a.png" | absolute_url }} {{ "/x/" | relative_url }} {{ "<a&b>" | xml_escape }} '
        '{{ page.date | date_to_xmlschema }} {{ page.date | date_to_string }} {{ "Hello, World!" | slugify }} '
        '{{ "a b  c" | number_of_words }} {{ page.tags | array_to_sentence_string }} {{ "x y" | cgi_escape }}',
        site={"baseurl": "/blog"},
    )
    assert r.html == (
        "<p>https://example.com/blog/img/a.png /blog/x/ &lt;a&amp;b&gt; 2024-07-18T14:20:00+00:00 "
        "18 Jul 2024 hello-world 3  x+y</p>"
    )


def test_standard_liquid_tags_work():
    r = render('{% assign who = "Ann" %}{% if who == "Ann" %}Hi {{ who | upcase }}{% endif %}'
               "{% for i in (1..3) %}{{ i }}{% endfor %}{% capture c %}cap{% endcapture %} {{ c }}")
    assert r.html == "<p>Hi ANN123 cap</p>"


def test_site_posts_are_available_to_loops():
    others = [make_post("x", relpath=f"posts/2024-0{i}-01-p{i}.md", title=f"P{i}", url=f"https://example.com/p{i}.html") for i in (1, 2)]
    body = "{% for p in site.posts %}[{{ p.title }}]({{ p.url }}) {% endfor %}"
    post = make_post(body)
    site = make_site([post, *others])
    html = Renderer(site, read_body=lambda p: body).render(post).html
    assert html.count("<a href=") == 3 and ">P1</a>" in html and ">A Post</a>" in html


# ---- Jekyll tags ------------------------------------------------------------------------
def test_raw_keeps_liquid_text():
    assert render("{% raw %}{{ keep }} {% tag %}{% endraw %}").html == "<p>{{ keep }} {% tag %}</p>"


def test_highlight_is_a_styled_block_with_verbatim_code():
    r = render('Intro\n{% highlight ruby linenos %}\ndef foo\n  "{{ x }}"\nend\n{% endhighlight %}\nafter')
    html = r.html
    assert html.startswith("<p>Intro</p>\n<div class=\"highlight\" style=\"background:#f8f8f8")
    assert '<span style="color:#008000;font-weight:bold">def</span>' in html
    assert "{{ x }}" in html  # Jekyll 4: highlight content is not run as Liquid
    assert ">1</span>" in html and ">3</span>" in html  # line numbers
    assert html.endswith("<p>after</p>") and "<p><div" not in html
    assert r.warnings == ()


def test_post_url_resolves_to_the_other_posts_absolute_url(tmp_path):
    other = make_post("x", root=tmp_path, relpath="posts/2010-07-21-other-post.md", url="https://example.com/blog/2010/07/21/other-post.html")
    nested = make_post("x", root=tmp_path, relpath="posts/sub/2011-01-01-nested.md", url="https://example.com/blog/nested.html")
    r = render_in(tmp_path, "[o]({% post_url 2010-07-21-other-post %}) [n]({% post_url sub/2011-01-01-nested %})", others=[other, nested])
    assert 'href="https://example.com/blog/2010/07/21/other-post.html"' in r.html
    assert 'href="https://example.com/blog/nested.html"' in r.html
    assert r.warnings == ()


def test_unknown_post_url_is_a_warning_with_file_and_line(tmp_path):
    r = render_in(tmp_path, "one\n\n[x]({% post_url 1999-01-01-nope %})", body_line=7)
    assert "{%" not in r.html
    assert messages(r) == ["posts/2024-07-18-post.md:9: warning: Liquid: post_url '1999-01-01-nope' matches no published post"]


def test_link_to_a_post_file_and_to_a_page(tmp_path):
    other = make_post("x", root=tmp_path, relpath="posts/2010-07-21-other.md", url="https://example.com/blog/other.html")
    (tmp_path / "about.md").write_text("about")
    r = render_in(tmp_path, "[a]({% link posts/2010-07-21-other.md %}) [b]({% link _posts/2010-07-21-other.md %}) [c]({% link about.md %})", others=[other])
    assert r.html.count('href="https://example.com/blog/other.html"') == 2
    assert 'href="https://example.com/blog/about.html"' in r.html
    assert r.warnings == ()


def test_link_to_a_missing_file_warns(tmp_path):
    r = render_in(tmp_path, "{% link nowhere.md %}")
    assert messages(r) == ["posts/2024-07-18-post.md:4: warning: Liquid: link 'nowhere.md' names no file in the site"]


def test_include_with_parameters_from_the_sites_includes(tmp_path):
    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "note.html").write_text('<aside class="note">{{ include.text }} ({{ page.title }})</aside>')
    r = render_in(tmp_path, '{% include note.html text="Careful" %}')
    assert r.html == '<aside class="note">Careful (A Post)</aside>'


def test_include_relative_reads_beside_the_post(tmp_path):
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "snippet.md").write_text("*included*")
    assert render_in(tmp_path, "{% include_relative snippet.md %}").html == "<p><em>included</em></p>"


@pytest.mark.parametrize("tag", ["include ../../secret.txt", "include_relative ../../secret.txt", "include /etc/hostname"])
def test_includes_never_read_outside_the_site(tmp_path, tag):
    site_root = tmp_path / "site"
    (site_root / "_includes").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    r = render_in(site_root, "{% " + tag + " %}")
    assert "SECRET" not in r.html
    assert len(r.warnings) == 1 and r.warnings[0].path == "posts/2024-07-18-post.md"
    assert "outside the site" in r.warnings[0].message or "not found" in r.warnings[0].message


def test_missing_include_warns(tmp_path):
    r = render_in(tmp_path, "a\n{% include missing.html %}")
    assert r.html == "<p>a</p>"
    assert messages(r) == ["posts/2024-07-18-post.md:5: warning: Liquid: include 'missing.html' not found (_includes/missing.html)"]


def test_recursive_include_is_bounded(tmp_path):
    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "loop.html").write_text("x{% include loop.html %}")
    r = render_in(tmp_path, "{% include loop.html %}")
    assert "x" in r.html and r.warnings
    assert any("_includes/loop.html" == w.path or "depth" in w.message for w in r.warnings)


# ---- failures degrade -------------------------------------------------------------------
def test_unknown_tag_is_a_warning_naming_file_and_line_in_the_file():
    r = render("first line\n\nthird {% tweet 123 %} line\n{% youtube xyz %}", body_line=10)
    assert "{%" not in r.html and "third  line" in r.html
    assert messages(r) == [
        "posts/2024-07-18-post.md:12: warning: Liquid: unexpected tag 'tweet'",
        "posts/2024-07-18-post.md:13: warning: Liquid: unexpected tag 'youtube'",
    ]


def test_unknown_block_tag_keeps_its_content():
    r = render("{% do_nothing %}inside{% enddo_nothing %}")
    assert r.html == "<p>inside</p>" and len(r.warnings) == 2


@pytest.mark.parametrize(
    "body",
    ["a {% b", "x {{ y", "{% if %}z", "{% for x in %}a{% endfor %}", "{% if a %}unclosed", "{{ x | nofilter }}",
     "{% assign = %}", "{% highlight %}never closed", "{{ 1 | divided_by: 0 }}"],
)
def test_liquid_errors_degrade_to_warnings_never_raw_markup(body):
    r = render(body)
    assert "{%" not in r.html and "{{" not in r.html
    assert r.warnings and all(w.severity == "warning" and w.path == "posts/2024-07-18-post.md" for w in r.warnings)


def test_bodies_without_liquid_markers_are_not_run_through_liquid():
    r = render("100% sure { not liquid } %} and }}")
    assert r.html == "<p>100% sure { not liquid } %} and }}</p>" and r.warnings == ()


# ---- real posts ---------------------------------------------------------------------------
def _corpus(name: str):
    root = shared_path("corpora")
    posts, bodies = [], {}
    for f in sorted((root / name).rglob("*")):
        if f.is_file() and f.suffix in (".md", ".markdown"):
            post, body = read_post_file(f, root)
            posts.append(post)
            bodies[post.relpath] = body
    return root, posts, bodies


_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)


def test_jekyll_docs_posts_render_without_raw_liquid():
    root, posts, bodies = _corpus("jekyll-docs")
    renderer = Renderer(make_site(posts, root=root), read_body=lambda p: bodies[p.relpath])
    with_liquid = 0
    for post in posts:
        body = bodies[post.relpath]
        rendered = renderer.render(post)
        shown = sum(block.count("{%") for block in _RAW.findall(body))  # {% raw %} shows Liquid on purpose
        assert rendered.html.count("{%") <= shown, post.relpath
        assert not [w for w in rendered.warnings if "unexpected tag" in w.message], post.relpath
        with_liquid += "{%" in body
    assert with_liquid >= 10  # the corpus really exercises Liquid


def test_jekyll_fixture_posts_include_relative_and_degrade():
    root, posts, bodies = _corpus("jekyll-test")
    renderer = Renderer(make_site(posts, root=root), read_body=lambda p: bodies[p.relpath])
    by_name = {Path(p.relpath).name: p for p in posts}
    rel = renderer.render(by_name["2014-09-02-relative-includes.markdown"])
    assert rel.html.count("relative_included") == 7 and "<li>var1 = foo</li>" in rel.html
    odd = renderer.render(by_name["2018-11-15-excerpt-liquid-block.md"])
    assert "{%" not in odd.html and any("do_nothing" in w.message for w in odd.warnings)


def test_an_unclosed_block_is_reported_at_its_opening_line():
    r = render("a\n\n{% if x %}\nb\n{% for y in z %}\nunclosed", body_line=5)
    assert sorted(messages(r)) == [
        "posts/2024-07-18-post.md:7: warning: Liquid: 'if' is never closed with 'endif'",
        "posts/2024-07-18-post.md:9: warning: Liquid: 'for' is never closed with 'endfor'",
    ]


def test_runaway_loops_and_output_are_capped_with_a_warning():
    r = render("{% for i in (1..1000000000) %}x{% endfor %}")
    assert r.html == "" and "loop iteration limit" in r.warnings[0].message


def test_liquid_in_a_front_matter_summary_is_evaluated():
    assert render("Body", summary="About {{ page.title }}").summary_html == "<p>About A Post</p>"


def test_jekyll_url_idioms_all_end_up_absolute(tmp_path):
    other = make_post("x", root=tmp_path, relpath="posts/2010-07-21-other.md", url="https://example.com/blog/2010/07/21/other.html")
    body = (
        "[a]({% post_url 2010-07-21-other %}) [b]({{ site.url }}{% post_url 2010-07-21-other %}) "
        "[c]({{ page.url | absolute_url }}) [d]({{ site.baseurl }}{{ page.url }}) [e]({{ page.url | relative_url }})"
    )
    r = render_in(tmp_path, body, others=[other], url="https://example.com/blog/2024/07/18/post.html")
    hrefs = re.findall(r'href="([^"]+)"', r.html)
    assert hrefs == ["https://example.com/blog/2010/07/21/other.html"] * 2 + ["https://example.com/blog/2024/07/18/post.html"] * 3


def test_common_plugin_tags_gist_and_include_cached(tmp_path):
    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "c.html").write_text("cached {{ include.x }}")
    r = render_in(tmp_path, '{% gist octocat/6cad326836d38bd3a7ae %} {% include_cached c.html x="y" %}')
    assert r.html == '<p><a href="https://gist.github.com/octocat/6cad326836d38bd3a7ae" rel="noopener noreferrer">Gist octocat/6cad326836d38bd3a7ae</a> cached y</p>'
    assert r.warnings == ()
    bad = render_in(tmp_path, '{% gist "><script>x</script> %}')
    assert "<script" not in bad.html and bad.warnings


def test_include_parameters_from_variables(tmp_path):
    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "n.html").write_text("[{{ include.a }}|{{ include.b }}|{{ include.c }}]")
    r = render_in(tmp_path, '{% assign v = "V" %}{% include n.html a=page.title b=v c="lit" %}')
    assert r.html == "<p>[A Post|V|lit]</p>"
