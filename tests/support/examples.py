"""The repository's client examples, loaded as modules where a test uses their functions."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(command: list[str], base_url: str, key: str, timeout: float = 300) -> str:
    """Run an example script against `base_url` with `key`, as its docstring says; its output."""
    env = {**os.environ, "VOXPARSE_BASE": base_url, "VOXPARSE_API_KEY": key}
    done = subprocess.run(command, cwd=EXAMPLES.parent, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout
