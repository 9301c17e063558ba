"""The code's shape, as README's "How it works" map promises it (issue #14's rules, kept)."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from flask import Blueprint

ROOT = Path(__file__).resolve().parent.parent
APP_SOURCES = [ROOT / "app.py", *sorted((ROOT / "auth").glob("*.py")), *sorted((ROOT / "blueprints").glob("*.py")),
               *sorted((ROOT / "wiki").glob("*.py"))]
TOP_LEVEL_PACKAGES = {"auth", "bench", "blueprints", "devwiki", "tests", "wiki"}


@pytest.mark.parametrize("source", APP_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_400_lines_and_no_function_over_60(source):
    text = source.read_text()
    assert len(text.splitlines()) <= 400
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno - node.lineno + 1 <= 60, f"{node.name} is longer than 60 lines"


@pytest.mark.parametrize("source", sorted((ROOT / "blueprints").glob("*.py")), ids=lambda p: p.name)
def test_blueprints_holds_blueprints_only(source):
    if source.name == "__init__.py":
        return
    module = importlib.import_module(f"blueprints.{source.stem}")
    assert isinstance(getattr(module, "bp", None), Blueprint), f"{source.name} is not a blueprint"


def test_the_top_level_is_what_the_readme_says():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == TOP_LEVEL_PACKAGES


def test_readme_map_names_every_module():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How it works", 1)[1].split("\n## ", 1)[0]
    for package in ("auth", "wiki", "blueprints", "devwiki"):
        for source in (ROOT / package).glob("*.py"):
            if source.name != "__init__.py":
                assert source.name in section, f"README's map does not mention {package}/{source.name}"
