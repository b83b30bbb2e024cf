"""The shape of ``helpers``: layers that import downwards only, short functions, public names."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest
from nbtools import notebooks

HELPERS = Path(__file__).resolve().parent.parent / "helpers"
MAX_LINES = 60
# each layer, and the layers it may import from (the foundation imports only itself)
LAYERS = {
    "core": {"core"},
    "lessons": {"core", "lessons"},
    "checks": {"core", "lessons", "checks"},
    "widgets": {"core", "lessons", "widgets"},
    "cli": {"core", "lessons", "cli"},
}
LESSONS = [
    "install", "client", "pubsub", "notifications", "job_creation", "kue_log", "testmode",
    "stock", "seats", "seat_app", "breaking", "throughput",
]  # fmt: skip


def layer(module: str) -> str:
    """The layer of ``helpers.x.y``: its first part, or 'lessons' for a top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in LAYERS else "lessons"


def modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(HELPERS.rglob("*.py")):
        name = ".".join(("helpers", *path.relative_to(HELPERS).with_suffix("").parts))
        found.append((name.removesuffix(".__init__"), ast.parse(path.read_text())))
    return found


def test_no_function_is_over_60_lines():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert not long


def test_each_module_imports_only_from_the_layers_below_it():
    wrong = []
    for name, tree in modules():
        if name in ("helpers", "helpers.__main__"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("helpers.") and layer(target) not in LAYERS[layer(name)]:
                    wrong.append(f"{name} imports {target}")
    assert not wrong


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_lesson_declares_its_public_names(lesson):
    module = importlib.import_module(f"helpers.{lesson}")
    assert module.__all__, f"helpers.{lesson} has no __all__"
    assert all(hasattr(module, name) and not name.startswith("_") for name in module.__all__)


def test_notebooks_import_only_public_names_of_the_lessons():
    wrong = []
    for path in notebooks():
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            magic = ("!", "%")
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(magic)]
            try:
                tree = ast.parse("\n".join(lines))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if not (isinstance(node, ast.ImportFrom) and node.module):
                    continue
                lesson = node.module.removeprefix("helpers.")
                public = getattr(importlib.import_module(node.module), "__all__", None)
                for alias in node.names:
                    if alias.name.startswith("_") or (
                        lesson in LESSONS and public is not None and alias.name not in public
                    ):
                        wrong.append(f"{path.name}: from {node.module} import {alias.name}")
    assert not wrong
