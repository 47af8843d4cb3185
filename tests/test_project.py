"""The project's own promises: the README's two commands and what CI runs."""

from __future__ import annotations

import re

from conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(python3 -m venv .+)\n```", text)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, "README.md must give exactly two set-up commands"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == commands[1], ".ci/run must run the README's test command, unchanged"


def test_readme_main_command_settles_a_bundled_case() -> None:
    main = _readme_commands()[0]
    case = re.search(r"mediation settle (\S+)", main)
    assert case is not None
    assert (ROOT / case.group(1)).is_file()
