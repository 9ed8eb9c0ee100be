"""The YAML adapter: coercions under control, hostile YAML rejected, lines in the file."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub import yamlsafe
from feedpub.errors import PostError


def load(text, first_line=2):
    return yamlsafe.load(text, "posts/x.md", first_line)


@pytest.mark.parametrize("raw", ["2024", "no", "yes", "off", "1.10", "0x1F", "1:30", "2024-07-18", "null-ish", "~x"])
def test_titles_stay_the_text_written(raw):
    fm, problems = load(f"title: {raw}\n")
    assert fm.text("title") == raw
    assert problems == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("false", False), ("yes", True), ("No", False), ('"yes"', True), ("'off'", False),
     ("ON", True), ("y", True), ("n", False), ("TRUE", True)],
)
def test_booleans_in_usual_spellings(raw, expected):
    fm, _ = load(f"draft: {raw}\n")
    assert fm.flag("draft") is expected


@pytest.mark.parametrize(("raw", "got"), [("maybe", "text 'maybe'"), ("1", "a number '1'"), ("[a]", "a list"), ("{a: 1}", "a mapping")])
def test_other_booleans_are_errors_naming_key_and_type(raw, got):
    fm, _ = load(f"title: x\ndraft: {raw}\n")
    with pytest.raises(PostError) as info:
        fm.flag("draft")
    assert info.value.line == 3
    assert info.value.message == f"'draft' must be true or false, got {got}"


def test_text_key_given_a_list_is_an_error():
    fm, _ = load("title: [a, b]\n")
    with pytest.raises(PostError) as info:
        fm.text("title")
    assert "'title' must be text, got a list" in info.value.message
    assert info.value.line == 2


def test_dates_stay_text_and_plain_values_convert():
    fm, _ = load("date: 2024-07-18 08:20:00\nn: 3\nf: 1.5\nb: yes\nz: ~\nl: [1, a]\nm: {k: v}\n")
    assert fm.data == {"date": "2024-07-18 08:20:00", "n": 3, "f": 1.5, "b": True, "z": None, "l": [1, "a"], "m": {"k": "v"}}


def test_error_lines_are_lines_in_the_file():
    with pytest.raises(PostError) as info:
        load("title: ok\nbad: [1,\nnext: x\n", first_line=5)
    assert info.value.line == 8  # libyaml notices at the end of the front matter
    assert "while parsing a flow sequence that starts on line 6" in info.value.message
    with pytest.raises(PostError) as info:
        load("title: ok\n  bad: indent\n", first_line=2)
    assert info.value.line == 3


def test_mapping_required():
    with pytest.raises(PostError) as info:
        load("- a\n- b\n")
    assert info.value.message == "front matter must be a mapping, got list"
    for empty in ("", "# only a comment\n", "~\n"):
        fm, problems = load(empty)
        assert fm.data == {} and problems == []


def test_duplicate_keys_warn_with_both_lines_and_last_wins():
    fm, problems = load("title: A\nx: 1\ntitle: B\nauthor:\n  name: a\n  name: b\n")
    assert fm.text("title") == "B"
    messages = {(p.line, p.message) for p in problems}
    assert (4, "duplicate key 'title' on lines 2 and 4; the last one wins") in messages
    assert (7, "duplicate key 'author.name' on lines 6 and 7; the last one wins") in messages
    assert all(p.severity == "warning" for p in problems)


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!custom x", "!!python/tuple [1]"])
def test_unsafe_tags_rejected(tag):
    with pytest.raises(PostError) as info:
        load(f"title: ok\nx: {tag}\n")
    assert "is not allowed" in info.value.message
    assert info.value.line == 3


def test_billion_laughs_rejected_before_expansion():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(PostError) as info:
        load("\n".join(lines) + "\n")
    assert "YAML alias '*a' is not allowed" in info.value.message
    assert info.value.line == 3


def test_star_in_text_is_not_an_alias():
    fm, _ = load('title: "*Bold* and 5 * 3"\ndescription: a * b\n')
    assert fm.text("title") == "*Bold* and 5 * 3"


@pytest.mark.parametrize("text", ["x: " + "[" * 5000 + "]" * 5000, "x: " + "{a: " * 3000 + "1" + "}" * 3000, "x:\n" + "- " * 5000 + "a", "x: " + "[" * 60000])
def test_deep_nesting_rejected_without_libyaml(text):
    with pytest.raises(PostError) as info:
        load(text + "\n")
    assert "nested more than" in info.value.message


def test_ordinary_nesting_and_long_lists_are_fine():
    text = "tags:\n" + "".join(f"  - tag{i}\n" for i in range(500)) + "author:\n  name: A\n  links:\n    - {a: [1, 2]}\n"
    fm, _ = load(text)
    assert len(fm.strings("tags")) == 500
    assert fm.data["author"]["links"] == [{"a": [1, 2]}]


def test_oversized_front_matter_rejected():
    with pytest.raises(PostError) as info:
        load("x: " + "a" * (yamlsafe.MAX_FRONT_MATTER_BYTES + 1) + "\n")
    assert "larger than" in info.value.message


def test_illegal_characters_removed_with_a_warning_per_field():
    fm, problems = load('title: "a\\x00b\\x1Fc"\nsummary: raw\x01text\nok: fine\n')
    assert fm.text("title") == "abc"
    assert fm.text("summary") == "rawtext"
    assert {(p.key, p.line) for p in problems} == {("title", 2), ("summary", 3)}
    assert all("XML 1.0" in p.message for p in problems)


def test_strings_flattens_and_drops_nulls():
    fm, _ = load("tags: [a, [b, c], ~, 2013]\ncat: solo\n")
    assert fm.strings("tags") == ["a", "b", "c", "2013"]
    assert fm.strings("cat") == "solo"
    assert fm.strings("missing") is None


@settings(max_examples=200, deadline=2000)
@given(st.text(max_size=300))
def test_any_text_loads_or_raises_post_error(text):
    try:
        fm, problems = yamlsafe.load(text, "posts/x.md", 2)
    except PostError as exc:
        assert exc.path == "posts/x.md"
    else:
        assert isinstance(fm.data, dict)


@settings(max_examples=100, deadline=2000)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
                    max_leaves=20))
def test_dumped_yaml_round_trips(value):
    import yaml

    text = yaml.safe_dump({"v": value}, allow_unicode=True)
    try:
        fm, _ = yamlsafe.load(text, "posts/x.md", 2)
    except PostError as exc:
        # only characters YAML refuses, or nesting over the cap, may fail
        assert "nested" in exc.message or "YAML" in exc.message
        return
    assert set(fm.data) == {"v"}


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("".join("  " * i + f"k{i}:\n" for i in range(30)) + "  " * 30 + "x\n", True),    # 2-space indentation
        ("".join("    " * i + f"k{i}:\n" for i in range(30)) + "    " * 30 + "x\n", True),  # 4-space indentation
        ("".join("  " * i + f"k{i}:\n" for i in range(45)) + "  " * 45 + "x\n", False),
        ("x:\n" + "- " * 50 + "a\n", False),                                           # compact sequences
        ("a:\n" + "".join("  " * i + "- b:\n" for i in range(25)), False),              # seq/map pairs
        ("tags:\n" + "- t\n" * 300 + "categories:\n" + "- c\n" * 300, True),            # long indentless lists
    ],
)
def test_depth_bound_follows_indentation(text, ok):
    if ok:
        load(text)
    else:
        with pytest.raises(PostError, match="nested more than"):
            load(text)
