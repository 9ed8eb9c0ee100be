"""Reading one file: bytes, encodings, line endings, front matter boundaries."""
from __future__ import annotations

import os

import pytest

from feedpub.errors import PostError
from feedpub.source import decode, is_ignored, read_bytes, split_front_matter


@pytest.mark.parametrize(
    ("data", "line", "byte"),
    [
        (b"caf\xe9", 1, "0xE9"),
        (b"a\nb\nc\xff", 3, "0xFF"),
        (b"a\r\nb\r\n\xc3", 3, "0xC3"),           # CRLF counts once
        (b"a\rb\r\x80", 3, "0x80"),                # old Mac CR line endings
        (b"\xef\xbb\xbfx\n\xe9", 2, "0xE9"),      # the BOM is not a line
    ],
)
def test_invalid_utf8_names_line_and_byte(data, line, byte):
    with pytest.raises(PostError) as info:
        decode(data, "posts/x.md")
    assert str(info.value).startswith(f"posts/x.md:{line}: invalid UTF-8 byte {byte}")


@pytest.mark.parametrize(
    "data",
    [
        b"---\ntitle: A\n---\nBody\nmore\n",
        b"\xef\xbb\xbf---\ntitle: A\n---\nBody\nmore\n",
        b"---\r\ntitle: A\r\n---\r\nBody\r\nmore\r\n",
        b"\xef\xbb\xbf---\rtitle: A\r---\rBody\rmore\r",
    ],
)
def test_bom_crlf_cr_read_like_lf(data):
    text = decode(data, "x.md")
    assert text == "---\ntitle: A\n---\nBody\nmore\n"
    parts = split_front_matter(text, "x.md")
    assert (parts.front, parts.body, parts.body_line) == ("title: A\n", "Body\nmore\n", 4)


def test_split_like_jekyll():
    # trailing blanks after the markers, "..." as the closing marker
    parts = split_front_matter("---  \nextra: spaces\n...\n\nBody", "x.md")
    assert parts.front == "extra: spaces\n"
    assert parts.body == "\nBody"
    assert parts.body_line == 4
    # no front matter at all: the whole file is the body
    assert split_front_matter("No YAML.\n", "x.md").front is None
    # empty front matter
    parts = split_front_matter("---\n---\nEmpty YAML.", "x.md")
    assert parts.front == "" and parts.body == "Empty YAML." and parts.body_line == 3
    # "---" inside a value does not close it
    assert split_front_matter("---\ntitle: Foo --- Bar\n---\n", "x.md").front == "title: Foo --- Bar\n"
    # a file that ends right after the closing marker
    assert split_front_matter("---\na: 1\n---", "x.md").body == ""


@pytest.mark.parametrize("text", ["---\ntitle: x\n\nbody", "---", "---\n", "--- \ntitle: a\n----\n"])
def test_never_closed_names_the_opening_line(text):
    with pytest.raises(PostError) as info:
        split_front_matter(text, "posts/x.md")
    assert info.value.line == 1
    assert "never closed" in info.value.message


@pytest.mark.parametrize("name", [".#a.md", "a.md~", "#a.md#", ".DS_Store", ".a.md.swp", "Thumbs.db", ".hidden.md"])
def test_editor_and_hidden_files_are_ignored(name):
    assert is_ignored(name)


@pytest.mark.parametrize("name", ["2024-01-01-a.md", "a.markdown", "_posts", "notes.txt"])
def test_ordinary_names_are_not_ignored(name):
    assert not is_ignored(name)


def test_size_cap(tmp_path):
    path = tmp_path / "big.md"
    path.write_bytes(b"x" * 101)
    with pytest.raises(PostError) as info:
        read_bytes(path, "posts/big.md", max_bytes=100)
    assert "larger than 100 bytes" in str(info.value)
    assert read_bytes(path, "posts/big.md", max_bytes=101) == b"x" * 101


def test_symlink_out_of_root_refused(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("---\ntitle: secret\n---\n")
    root = tmp_path / "posts"
    root.mkdir()
    link = root / "2024-01-01-link.md"
    os.symlink(outside, link)
    with pytest.raises(PostError) as info:
        read_bytes(link, "posts/2024-01-01-link.md", max_bytes=1000, root=root.resolve())
    assert "symlink points outside the posts folder" in str(info.value)


def test_vanished_file(tmp_path):
    with pytest.raises(PostError) as info:
        read_bytes(tmp_path / "gone.md", "posts/gone.md", max_bytes=10)
    assert "vanished" in str(info.value)
