"""Session-wide settings and the test data.

Two sources of real text:

- ``tests/data/``: small samples vendored in the repository under permissive licences (their
  notices beside them; see tests/data/README.md). Every clone has them.
- ``../shared/data``: the larger real corpora (AlpacaEval outputs and annotations, CC BY-NC 4.0;
  the whole Python FAQ), never copied into the repository. A test that needs them requests the
  ``shared_data`` fixture or carries the ``shared_data`` mark: it runs where the folder exists,
  is skipped with a one-line reason elsewhere, and fails (never skips) when ``CI`` is set.

AlpacaEval-format data that every clone needs is written by the tests themselves
(:func:`write_alpaca_eval`), with the real files' names and keys and made-up text.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CURATE_SHARED_DATA: where a checkout that is not beside shared/ (a git worktree) finds it
SHARED_DATA = Path(os.environ.get("CURATE_SHARED_DATA") or REPO.parent / "shared" / "data")
TEST_DATA = REPO / "tests" / "data"
FAQ_SAMPLE = TEST_DATA / "python_faq"

os.environ.setdefault("CURATE_PROGRESS", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED_MARK = "shared_data"


def in_ci() -> bool:
    """``CI`` set to anything but empty, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_shared_data() -> Path:
    """../shared/data, or a skip with one line of reason (a failure when CI is set)."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    reason = f"needs the real corpora in ../shared/data ({SHARED_DATA} not found)"
    if in_ci():
        pytest.fail(f"{reason}; CI is set, so this fails instead of skipping", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{SHARED_MARK}: needs the real corpora in ../shared/data; skipped where the "
                   "folder is missing, a failure there when CI is set")


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items):
    for item in items:  # every test that uses the fixture carries the mark, for -m selection
        if SHARED_MARK in getattr(item, "fixturenames", ()):
            item.add_marker(SHARED_MARK)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.get_closest_marker(SHARED_MARK):  # before any fixture reads the data
        require_shared_data()


@pytest.fixture(scope="module")
def fp32_embeddings():
    """``CURATE_EMBED_PRECISION=fp32`` for a module whose tests assert what the real embedding
    model decides near a threshold (how many pairs, which records): the bf16 path that a CPU
    with native bfloat16 takes (:func:`curate.embed.precision`) may move a pair across it.
    Module-wide, so that module-scoped fixtures that embed get it too (Ray's actors follow
    the driver's path)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CURATE_EMBED_PRECISION", "fp32")
        yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real data from ../shared/data (read-only)."""
    return require_shared_data()


# --- the Python FAQ: a vendored sample everywhere, the whole FAQ where ../shared exists ----------

@dataclass(frozen=True)
class Faq:
    name: str          # "sample" (tests/data) or "shared" (../shared/data)
    path: Path         # the folder of *.rst.txt files
    files: list[str]   # its documents, in reading order


FAQ_SAMPLE_FILES = ["general.rst.txt", "gui.rst.txt", "index.rst.txt", "installed.rst.txt",
                    "windows.rst.txt"]
FAQ_ALL_FILES = ["design.rst.txt", "extending.rst.txt", "general.rst.txt", "gui.rst.txt",
                 "index.rst.txt", "installed.rst.txt", "library.rst.txt", "programming.rst.txt",
                 "windows.rst.txt"]


@pytest.fixture(scope="session",
                params=["sample", pytest.param("shared", marks=pytest.mark.shared_data)])
def faq_corpus(request) -> Faq:
    """The Python FAQ as a folder: the vendored sample, then (marked) the whole FAQ."""
    if request.param == "sample":
        return Faq("sample", FAQ_SAMPLE, FAQ_SAMPLE_FILES)
    return Faq("shared", require_shared_data() / "raw" / "python_faq", FAQ_ALL_FILES)


# --- AlpacaEval: files made in the test everywhere, the real ones where ../shared exists ---------

OUTPUTS_FILES = ["Meta-Llama-3-8B-Instruct.model_outputs.json.gz",
                 "gpt-3.5-turbo-0301.model_outputs.json.gz",
                 "text_davinci_003.model_outputs.json.gz"]
ANNOTATIONS_FILE = "Mixtral-8x7B-Instruct-v0.1.annotations.json.gz"
DATASETS = ["helpful_base", "koala", "oasst", "selfinstruct", "vicuna"]
TOPICS = ["list comprehensions", "generators", "decorators", "context managers", "dataclasses",
          "type hints", "virtual environments", "unit tests", "string formatting", "exceptions",
          "closures", "iterators", "modules", "packages", "f-strings", "slicing", "recursion",
          "sorting", "dictionaries", "sets", "tuples", "lambdas", "logging", "file handling"]


@dataclass(frozen=True)
class AlpacaEval:
    """A folder of AlpacaEval files and what is planted in them."""
    name: str                  # "made" (written by the test) or "shared" (the real files)
    path: Path
    rows: int                  # rows in every file
    empty_outputs: list[int]   # lines of text_davinci_003 whose output is ""
    tie_line: int              # the annotation with preference 1.5
    preferences: tuple[int, int]  # annotations preferring output_1, output_2
    first_dataset: str         # the dataset of the first row


def write_alpaca_eval(folder: Path) -> AlpacaEval:
    """AlpacaEval-format files (the real names and keys, made-up text): three model outputs files
    and one annotations file, 24 rows each, with two empty outputs and one tie planted."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, empty, tie = len(TOPICS), [5, 19], 17
    instructions = [f"Explain {t} to someone new to Python, in two sentences." for t in TOPICS]
    datasets = [DATASETS[i % len(DATASETS)] for i in range(rows)]

    def answer(generator: str, i: int) -> str:
        return (f"{TOPICS[i].capitalize()} are a Python feature worth knowing. "
                f"This is answer {i + 1} written for the tests in the style of {generator}.")

    for name in OUTPUTS_FILES:
        gen = name.split(".model_outputs")[0]
        data = [{"dataset": datasets[i], "instruction": instructions[i], "generator": gen,
                 "output": "" if gen == "text_davinci_003" and i + 1 in empty else answer(gen, i)}
                for i in range(rows)]
        (folder / name).write_bytes(gzip.compress(json.dumps(data).encode()))
    prefs = [1.5 if i + 1 == tie else 2.0 if i % 4 == 3 else 1.0 for i in range(rows)]
    data = [{"instruction": instructions[i], "output_1": answer("gpt4_1106_preview", i),
             "generator_1": "gpt4_1106_preview", "dataset": datasets[i],
             "output_2": answer("Mixtral-8x7B-Instruct-v0.1", i),
             "generator_2": "Mixtral-8x7B-Instruct-v0.1", "annotator": "alpaca_eval_gpt4_turbo_fn",
             "preference": prefs[i], "price_per_example": None if i + 1 == tie else 0.015,
             "time_per_example": None if i + 1 == tie else 1.2,
             "raw_completion": None if i + 1 == tie else {"ordered_models": []}}
            for i in range(rows)]
    (folder / ANNOTATIONS_FILE).write_bytes(gzip.compress(json.dumps(data).encode()))
    return AlpacaEval("made", folder, rows, empty, tie, (prefs.count(1.0), prefs.count(2.0)),
                      datasets[0])


@pytest.fixture(scope="session",
                params=["made", pytest.param("shared", marks=pytest.mark.shared_data)])
def alpaca_eval_files(request, tmp_path_factory) -> AlpacaEval:
    """AlpacaEval files: made by the test, then (marked) the real ones in ../shared/data."""
    if request.param == "made":
        return write_alpaca_eval(tmp_path_factory.mktemp("alpaca_eval"))
    return AlpacaEval("shared", require_shared_data() / "alpaca_eval", 805, [248, 505], 476,
                      (621, 183), "helpful_base")


# --- a tiny causal LM (tests/fixtures_lm.py), for the likelihood stages -------------------------

def _lm_fixtures():
    import runpy

    return runpy.run_path(str(Path(__file__).resolve().with_name("fixtures_lm.py")))


tiny_lm = _lm_fixtures()["tiny_lm"]
