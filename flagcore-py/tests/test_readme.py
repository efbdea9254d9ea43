"""The README's examples run: its first ```json block is written to flags.json in a
temporary directory, then its ```python blocks run there in order, in one namespace."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(README.read_text(encoding="utf-8")) if lang == language]


@pytest.fixture
def in_tmp_dir(tmp_path: Path) -> Iterator[Path]:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


def test_readme_has_examples() -> None:
    assert len(blocks("json")) >= 1
    assert len(blocks("python")) >= 5


def test_readme_examples_run(in_tmp_dir: Path) -> None:
    pytest.importorskip("openfeature")
    from openfeature import api

    (in_tmp_dir / "flags.json").write_text(blocks("json")[0], encoding="utf-8")
    namespace: dict[str, object] = {"__name__": "readme"}
    try:
        for number, code in enumerate(blocks("python"), 1):
            exec(compile(code, f"README.md python block {number}", "exec"), namespace)
    finally:
        api.clear_providers()
