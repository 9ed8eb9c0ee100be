"""What every command shares: --version, --quiet/--verbose, NO_COLOR, stderr, exit codes,
progress bars only on a terminal. Run as real processes (some through a pseudo-terminal),
because colour and progress depend on what stdout/stderr are."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedpub import __version__

ANSI = "\x1b["


def feedpub(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "feedpub", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)


def on_a_terminal(argv: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    """Run argv with stdin/stdout/stderr on a pseudo-terminal; (exit code, everything shown)."""
    pty = pytest.importorskip("pty")
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execve(argv[0], argv, env)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_version(tmp_path):
    for flag in ("--version", "-V"):
        proc = feedpub(flag, cwd=tmp_path)
        assert proc.returncode == 0
        assert proc.stdout.strip() == f"feedpub, version {__version__}"


def test_quiet_prints_nothing_but_does_the_work(tmp_path):
    proc = feedpub("-q", "init", "--title", "T", "--url", "https://t.example", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == "" and proc.stderr == ""
    assert (tmp_path / "feedpub.toml").is_file()


def test_quiet_still_prints_errors_on_stderr(tmp_path):
    proc = feedpub("-q", "new", "???", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "error:" in proc.stderr and "--slug" in proc.stderr


def test_verbose_prints_more(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = feedpub("init", "--title", "T", "--url", "https://t.example", cwd=tmp_path / "a")
    verbose = feedpub("-v", "init", "--title", "T", "--url", "https://t.example", cwd=tmp_path / "b")
    assert plain.returncode == verbose.returncode == 0
    assert "bytes" not in plain.stderr
    assert "bytes" in verbose.stderr


@pytest.mark.parametrize("args, fragment", [
    (["no-such-command"], "No such command"),
    (["init", "--no-such-flag"], "No such option"),
    (["new"], "Missing argument"),
    (["completion", "tcsh"], "Invalid value"),
])
def test_usage_errors_exit_2_on_stderr(tmp_path, args, fragment):
    proc = feedpub(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert fragment in proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_config_errors_exit_2_and_name_the_key(tmp_path):
    (tmp_path / "feedpub.toml").write_text('[site]\ntitle = "T"\nurl = "nope"\ntimezone = "Mars/Base"\n', "utf-8")
    proc = feedpub("new", "x", cwd=tmp_path)
    assert proc.returncode == 2
    assert "site.url" in proc.stderr and "site.timezone" in proc.stderr   # every bad key, not the first
    assert not (tmp_path / "posts").exists()


def test_help_exits_0(tmp_path):
    proc = feedpub("--help", cwd=tmp_path)
    assert proc.returncode == 0 and "Usage: feedpub" in proc.stdout
    for name in ("init", "new", "serve", "snippet", "completion", "config-reference"):
        assert name in proc.stdout


def test_errors_are_red_on_a_terminal_and_plain_with_no_color(tmp_path):
    argv = [sys.executable, "-m", "feedpub", "new", "???"]
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    env["TERM"] = "xterm"
    code, shown = on_a_terminal(argv, tmp_path, env)
    assert code == 1 and ANSI in shown and "error:" in shown
    code, shown = on_a_terminal(argv, tmp_path, {**env, "NO_COLOR": "1"})
    assert code == 1 and "error:" in shown and ANSI not in shown
    # and never colour into a pipe
    proc = feedpub("new", "???", cwd=tmp_path)
    assert ANSI not in proc.stderr


PROGRESS = """
import sys, time
from feedpub.cli.common import Ui
with Ui().progress(range(3), length=3, label="working") as bar:
    for _ in bar:
        pass
print("done", file=sys.stderr)
"""


def test_progress_bar_only_on_a_terminal(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI")}
    env["TERM"] = "xterm"
    code, shown = on_a_terminal([sys.executable, "-c", PROGRESS], tmp_path, env)
    assert code == 0 and "working" in shown and "100%" in shown
    code, shown = on_a_terminal([sys.executable, "-c", PROGRESS], tmp_path, {**env, "CI": "true"})
    assert code == 0 and "working" not in shown and "done" in shown
    piped = subprocess.run([sys.executable, "-c", PROGRESS], env=env, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and "working" not in piped.stderr and "done" in piped.stderr


def test_completion_scripts(tmp_path):
    for shell, marker in (("bash", "complete -o nosort -F _feedpub_completion feedpub"),
                          ("zsh", "#compdef feedpub"), ("fish", "complete --no-files --command feedpub")):
        proc = feedpub("completion", shell, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert marker in proc.stdout
    # the same as click's own environment-variable switch
    direct = feedpub(cwd=tmp_path, env={"_FEEDPUB_COMPLETE": "bash_source"})
    assert direct.stdout == feedpub("completion", "bash", cwd=tmp_path).stdout
    assert "_FEEDPUB_COMPLETE=bash_complete" in direct.stdout
    unknown = feedpub("completion", cwd=tmp_path, env={"SHELL": "/bin/tcsh"})
    assert unknown.returncode == 2 and "SHELL" in unknown.stderr


def test_completion_completes_commands_and_options(tmp_path):
    env = {"_FEEDPUB_COMPLETE": "bash_complete", "COMP_WORDS": "feedpub ne", "COMP_CWORD": "1"}
    assert "plain,new" in feedpub(cwd=tmp_path, env=env).stdout.splitlines()
    env = {"_FEEDPUB_COMPLETE": "bash_complete", "COMP_WORDS": "feedpub init --c", "COMP_CWORD": "2"}
    assert "plain,--ci" in feedpub(cwd=tmp_path, env=env).stdout.splitlines()


def test_config_reference_lists_every_key(tmp_path):
    from feedpub.config import reference_rows

    text = feedpub("config-reference", cwd=tmp_path).stdout
    md = feedpub("config-reference", "--format", "markdown", cwd=tmp_path).stdout
    for key, *_ in reference_rows():
        section, _, name = key.partition(".")
        assert f"[{section}]" in text and f"  {name} = " in text
        assert f"| `{key}` |" in md
    import json

    rows = json.loads(feedpub("config-reference", "--format", "json", cwd=tmp_path).stdout)
    assert [r["key"] for r in rows] == [k for k, *_ in reference_rows()]
