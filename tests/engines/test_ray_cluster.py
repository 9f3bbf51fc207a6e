"""A real multi-node Ray: a head and two worker nodes started on this machine (separate
raylets, 1 CPU and an 80 MB object store each). `curate run --engine ray` pointed at it by the
recipe's ``ray: {address: ...}`` keeps exactly the local engine's records, from parquet shards
(``quality.rules`` as tasks, ``lang.id`` on an actor pool: the work on every node) and on the
demo recipe.

The Ray runs are separate processes (as a user runs them); the local runs are in process.
The shards' runs cut their input in pieces of ``PIECE`` rows, so each stage has several pieces
to spread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from curate.cli import cli
from curate.io.parts import part_files

from ..conftest import REPO

PIECE = 60
OBJECT_STORE = 80 * 1024 ** 2
# `curate run` with the row and model stages cut in pieces of argv[1] rows ("-": as shipped)
RUN = """
import sys
from curate.stages.lang_id import LangId
from curate.stages.quality import QualityRules
from curate.stages.safety_bias import Bias
from curate.stages.safety_toxicity import Toxicity
for cls in (QualityRules, LangId, Toxicity, Bias):
    if sys.argv[1] != "-":
        cls.batch_size = int(sys.argv[1])
from curate.cli import cli
cli(sys.argv[2:], prog_name="curate")
"""


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": OBJECT_STORE, "include_dashboard": False})
    try:
        for _ in range(2):
            nodes.add_node(num_cpus=1, object_store_memory=OBJECT_STORE)
        nodes.wait_for_nodes()
        yield nodes
    finally:
        nodes.shutdown()


def small_pieces(monkeypatch) -> None:
    from curate.stages.lang_id import LangId
    from curate.stages.quality import QualityRules
    from curate.stages.safety_bias import Bias
    from curate.stages.safety_toxicity import Toxicity

    for cls in (QualityRules, LangId, Toxicity, Bias):
        monkeypatch.setattr(cls, "batch_size", PIECE)


def run_on_ray(recipe: Path, out: Path, piece: int | None = PIECE) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "CURATE_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "-c", RUN, str(piece or "-"), "run", str(recipe),
                           "--engine", "ray", "-o", str(out)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "manifest.json").read_text())


def run_locally(recipe: Path, out: Path) -> dict:
    result = CliRunner().invoke(cli, ["run", str(recipe), "--engine", "local", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text())


def assert_same_records(local_run: Path, ray_run: Path, local: dict, ray: dict) -> None:
    """Every stage's counts and stats, and every checkpoint and rejected folder: the same
    part files with the same contents; the same final data."""
    assert [s["name"] for s in ray["stages"]] == [s["name"] for s in local["stages"]]
    for a, b in zip(local["stages"], ray["stages"]):
        assert (b["rows_in"], b["rows_out"], b["dropped"]) == (a["rows_in"], a["rows_out"],
                                                               a["dropped"]), b["name"]
        assert {k: v for k, v in b["stats"].items() if k != "engine"} == \
            {k: v for k, v in a["stats"].items() if k != "engine"}, b["name"]
        for sub in ("checkpoint", "rejected"):
            left, right = part_files(local_run / a[sub]), part_files(ray_run / b[sub])
            assert [p.name for p in right] == [p.name for p in left], b[sub]
            for x, y in zip(left, right):
                assert pl.read_parquet(y).equals(pl.read_parquet(x)), y
    assert pl.read_parquet(ray_run / "data.parquet").equals(
        pl.read_parquet(local_run / "data.parquet"))
    exported = sorted(p.relative_to(local_run) for p in (local_run / "export").rglob("*")
                      if p.is_file() and p.name != "README.md")
    assert exported
    for rel in exported:
        assert (ray_run / rel).read_bytes() == (local_run / rel).read_bytes(), rel


WORDS = ("the river town bridge market people walk every morning before work and talk "
         "about weather trade old stories children school garden house light window road "
         "small large green quiet busy evening music friends family dinner table book "
         "letter city country train station field winter summer spring autumn water").split()
FRENCH = ("Le petit village se trouve au bord de la rivière, et chaque matin les habitants "
          "marchent jusqu'au marché pour acheter du pain frais et parler du temps qu'il fait.")


def shards(folder: Path, n: int = 900, files: int = 3) -> None:
    """``n`` alpaca records in ``files`` parquet shards: 60-word English replies, some
    empty, some refusals, some too short, some in French."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n):
        reply = " ".join(rng.choice(WORDS, 60)).capitalize() + "."
        if i % 17 == 0:
            reply = ""
        elif i % 13 == 0:
            reply = "As an AI language model, I cannot help with that. " + reply
        elif i % 11 == 0:
            reply = "ok"
        elif i % 7 == 0:
            reply = FRENCH
        rows.append({"instruction": f"Tell me about day {i} in the town.", "input": "",
                     "output": reply})
    folder.mkdir(parents=True)
    step = -(-n // files)
    for k in range(files):
        pl.DataFrame(rows[k * step:(k + 1) * step]).write_parquet(
            folder / f"shard-{k}.parquet")


def test_parquet_shards_on_three_nodes(cluster, tmp_path, monkeypatch):
    shards(tmp_path / "in")
    recipe = {"name": "shards", "input": {"path": str(tmp_path / "in")}, "on_error": "skip",
              "ray": {"address": cluster.address},
              "stages": [{"use": "quality.rules"}, {"use": "lang.id", "with": {"keep": ["en"]}}],
              "export": [{"target": "trl-sft", "test_size": 0.1}]}
    path = tmp_path / "shards.yaml"
    path.write_text(yaml.safe_dump(recipe))
    ray = run_on_ray(path, tmp_path / "ray")
    small_pieces(monkeypatch)
    local = run_locally(path, tmp_path / "local")
    assert ray["engine"] == "ray" and ray["ray_address"] == cluster.address
    assert_same_records(tmp_path / "local", tmp_path / "ray", local, ray)
    rules, lang = ray["stages"][1], ray["stages"][2]
    assert ray["stages"][0]["dropped"] == {"empty_turn": 53}  # the empty replies
    assert rules["rows_in"] == 847 and rules["dropped"]
    assert lang["dropped"] == {"wrong_language": 101}  # the French replies the rules kept
    assert len(part_files(tmp_path / "ray" / rules["checkpoint"])) == 15  # 900 / PIECE
    assert rules["stats"]["engine"].startswith("ray: tasks (")
    # an actor per node (1 CPU each), each given a piece of its own
    assert lang["stats"]["engine"] == "ray: actor pool (3 nodes)"


def test_demo_recipe_on_three_nodes(cluster, tmp_path):
    """The demo as it ships (one piece per stage: the test above spreads pieces; here one
    model per stage to load, not three): on the cluster it keeps what it keeps locally."""
    text = (REPO / "pipelines" / "demo.yaml").read_text()  # as written (YAML reads `on:` as true)
    text = text.replace("path: pipelines/data/demo", f"path: {REPO}/pipelines/data/demo")
    assert f"{REPO}/pipelines/data/demo" in text
    path = tmp_path / "demo.yaml"
    path.write_text(text + f"ray: {{address: '{cluster.address}'}}\n")
    ray = run_on_ray(path, tmp_path / "ray", piece=None)
    local = run_locally(path, tmp_path / "local")
    assert_same_records(tmp_path / "local", tmp_path / "ray", local, ray)
    assert ray["ray_address"] == cluster.address
    assert pl.read_parquet(tmp_path / "ray" / "data.parquet").height == 259
    audits = [json.loads((tmp_path / e / "bias.json").read_text()) for e in ("local", "ray")]
    assert audits[0] == audits[1] and audits[0]["scope"] == "run"
