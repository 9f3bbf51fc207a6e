"""Runs a recipe: convert the input, run the stages in order, export, report.

Each stage's output is checkpointed (``stages/NN_<name>.parquet``) with the rows it removed
(``rejected/NN_<name>.parquet``), and the manifest is rewritten after every stage, so a run can
resume after the last good stage (``resume=True``) or restart from a named one
(``from_stage=``). Every stage is checked for ``rows_in == rows_out + sum(dropped)`` (plus the
rows it made, for a stage that splits rows: ``added`` in its manifest entry).

``out_dir`` may be an fsspec URL (``s3://bucket/runs/demo``): the run is then staged in a local
folder and mirrored to the URL after every stage and at the end (see :mod:`curate.io.mirror`).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from .accounting import count_step, describe_sources, redact_recipe
from .checkpoints import PlannedStage, check_stage_columns, link_parts, remove
from .engines import get_engine
from .errors import CurateError, StageError
from .finished_run import FinishedRun
from .interrupts import held
from .io.mirror import RunMirror
from .io.owned import check_run_output, mark_run, read_marker
from .io.parts import Parts
from .io.remote import is_url
from .io.stale import clear_stale
from .manifest import (check_accounting, mark_stopped, read_manifest, versions,
                       write_manifest)
from .os_errors import os_error_message
from .recipe import Recipe
from .recipe_files import (check_recipe_columns, check_recipe_files, recipe_input_columns,
                           resolve_input_path)
from .report import write_report
from .run_inputs import chain as _chain
from .run_inputs import convert_step, input_fingerprint
from .run_export import check_export_folders, export_run
from .stages.base import DROP_REASON, Stage, StageContext, StageData, StageOutput
from .stages.plan import check_columns
from .stages.registry import stage_class

CONVERT = "convert"


class Runner:
    """One run of a recipe into ``out_dir`` (a folder or an fsspec URL)."""

    def __init__(self, recipe: Recipe, out_dir: str | Path, *, recipe_file: Path | None = None,
                 from_stage: str | None = None, until: str | None = None,
                 limit: int | None = None, resume: bool = False, report: bool = True,
                 echo=None):
        self.engine = get_engine(recipe.engine, recipe.ray)
        self.mirror = None
        if is_url(out_dir):
            self.mirror = RunMirror(out_dir)
            out_dir = self.mirror.local
        self.recipe, self.out_dir = recipe, Path(out_dir)
        self.where = str(self.mirror or self.out_dir)  # where the run lives, for messages
        self.recipe_file = recipe_file
        self.input_path = resolve_input_path(recipe, recipe_file)
        self.from_stage, self.until, self.limit = from_stage, until, limit
        self.resume, self.report = resume, report
        self._manifest: dict[str, Any] | None = None  # the run's, once it started
        self._step: str | None = None  # the stage (slug) or step running, for messages
        self.echo = echo or (lambda msg: None)

        self.plan = [PlannedStage(0, CONVERT, CONVERT, None)]
        for i, (spec, name) in enumerate(zip(recipe.stages, recipe.stage_names()), start=1):
            self.plan.append(PlannedStage(i, name, spec.use, stage_class(spec.use)(spec.with_)))

    # -- planning -------------------------------------------------------------------------
    def _find(self, name: str, flag: str) -> int:
        for p in self.plan:
            if name in (p.name, p.use, p.slug, str(p.index)):
                return p.index
        known = ", ".join(p.name for p in self.plan)
        raise CurateError(f"{flag} {name!r}: no such stage in this recipe (stages: {known})")

    def _fingerprints(self, inputs: list[dict]) -> list[str]:
        prints = [input_fingerprint(self.recipe, inputs, self.limit)]
        for p in self.plan[1:]:
            prints.append(_chain(prints[-1], p.stage.fingerprint()))
        return prints

    def _start_index(self, previous: dict | None, prints: list[str]) -> int:
        done = {s["name"]: s for s in (previous or {}).get("stages", [])
                if s.get("status") == "done"}

        def reusable(p: PlannedStage) -> bool:
            entry = done.get(p.name)
            return (entry is not None and entry.get("fingerprint") == prints[p.index]
                    and (self.out_dir / "stages" / f"{p.slug}.parquet").exists())

        if self.from_stage is not None:
            start = self._find(self.from_stage, "--from")
            if start > 0 and not reusable(self.plan[start - 1]):
                prev = self.plan[start - 1]
                # --resume starts at the first stage whose checkpoint is not valid any more
                first = next(p for p in self.plan if not reusable(p))
                why = ("is out of date (the recipe or the input changed since it was made)"
                       if done.get(prev.name) else "is not there")
                raise CurateError(
                    f"--from {self.from_stage}: the checkpoint of the stage before it "
                    f"({prev.slug}) in {self.where} {why}; run with --resume instead of "
                    f"--from: it reruns from {first.slug}, the first stage without a valid "
                    "checkpoint")
            return start
        if self.resume:
            start = 0
            while start < len(self.plan) and reusable(self.plan[start]):
                start += 1
            return start
        return 0

    # -- running --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        if self.mirror is None:
            return self._run_marked()
        self.mirror.start(pull=self.resume or self.from_stage is not None)
        self.echo(f"run folder {self.where} (staged in {self.out_dir})")
        try:
            manifest = self._run_marked()
        except BaseException:
            if self._sync(failing=True):  # all is at the URL: the staging folder can go
                self.mirror.close()
            raise
        self.mirror.push()
        self.mirror.close()
        return manifest

    def _sync(self, *, failing: bool = False) -> bool:
        """Mirror the run folder to its URL (no-op for a local run); whether it is all there.
        While a stage is failing, a mirror error is said but does not hide the stage's."""
        if self.mirror is None:
            return True
        try:
            self.mirror.push()
        except CurateError as exc:
            if not failing:
                raise
            self.echo(f"warning: {exc}; the run stays in {self.out_dir}")
            return False
        return True

    def _run_marked(self) -> dict[str, Any]:
        """:meth:`_run`; whatever stops it (an error, Ctrl-C, SIGTERM), anywhere from convert
        to the report, is written in the manifest: the run and its running stage say
        ``interrupted`` or ``failed``, with ``error`` and the ``step`` it stopped in."""
        try:
            return self._run()
        except BaseException as exc:
            if self._manifest is not None:
                self._mark_stopped(self._manifest, exc)
            raise

    def _mark_stopped(self, manifest: dict[str, Any], exc: BaseException) -> None:
        status = mark_stopped(manifest, exc, self._step)
        exc.curate_run = {"where": self.where, "step": self._step}  # for the CLI's message
        with held():  # a second Ctrl-C waits until the status is written
            try:
                write_manifest(self.out_dir, manifest)
            except OSError as err:  # a full disk or a read-only folder: the cause is exc
                self.echo(f"warning: manifest.json could not say the run {status}: "
                          f"{os_error_message(err) or err}")

    def _run(self) -> dict[str, Any]:
        out = self.out_dir
        check_recipe_files(self.recipe, self.recipe_file)  # before anything is read or made
        started = time.perf_counter()
        inputs = describe_sources(self.recipe, self.recipe_file)
        check_run_output(out)  # the commands check before any work; library callers here
        marked = (read_marker(out) or {}).get("kind") == "run"
        prints = self._fingerprints(inputs)
        previous = read_manifest(out)
        start = self._start_index(previous, prints)
        last = self._find(self.until, "--until") if self.until is not None else len(self.plan) - 1

        old = {s["name"]: s for s in (previous or {}).get("stages", [])}
        manifest: dict[str, Any] = {
            "name": self.recipe.name,
            "status": "running",
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **self.engine.manifest(),
            "seed": self.recipe.seed,
            "inputs": inputs,
            "recipe": self.recipe.model_dump(mode="json", by_alias=True),
            "versions": versions(),
            "rows_in": None,
            "rows_out": None,
            "stages": [old[p.name] for p in self.plan[:min(start, last + 1)]],
            "exports": [],
        }
        redact_recipe(manifest["recipe"])  # the manifest never holds credentials
        if start == 0 and not is_url(self.input_path):
            # exact before convert: a converted frame has the record columns, and a record
            # input (read from its schema) its own
            check_recipe_columns(self.recipe, columns=self._input_columns(),
                                 recipe_file=self.recipe_file)
        # what the old run wrote and this one neither reuses nor writes again goes first
        check_export_folders(self.recipe, out, previous if not marked else None)
        mark_run(out)
        for sub in ("stages", "rejected"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        clear_stale(out, keep=[p.slug for p in self.plan[:start]], previous=previous,
                    legacy=not marked)
        # from here on a stop is written in the manifest; a check that refused above left the
        # old run's manifest as it was
        self._manifest = manifest
        write_manifest(out, manifest)
        if start > 0:
            self.echo(f"resuming after {self.plan[start - 1].slug}")
            df = Parts(out / "stages" / f"{self.plan[start - 1].slug}.parquet")
        else:
            df = None
        for p in self.plan[start:last + 1]:
            if p.index == max(start, 1):  # the first stage to run: its input is known now
                self._check_columns(p.index, df.columns)
            entry = {"index": p.index, "name": p.name, "use": p.use, "status": "running",
                     "fingerprint": prints[p.index]}
            manifest["stages"].append(entry)
            self._step = p.slug
            write_manifest(out, manifest)
            df = self._run_one(p, df, entry)
            if self.recipe.inputs is not None:
                count_step(out, manifest["stages"], entry,
                           [spec.name for spec in self.recipe.inputs])
            self._step = f"after {p.slug}"
            write_manifest(out, manifest)
            self._sync()
        if df is None:  # nothing left to run: everything was resumed
            df = Parts(out / "stages" / f"{self.plan[last].slug}.parquet")

        self._step = "finish_run"
        self._finish_run(manifest, last)
        complete = last == len(self.plan) - 1
        # the final records are the last checkpoint: its parts linked, not written again
        self._step = "data.parquet"
        link_parts(df, out / "data.parquet")
        manifest["rows_in"] = manifest["stages"][0]["rows_in"]
        manifest["rows_out"] = df.height
        if complete:
            self._step = "export"
            manifest["exports"] = export_run(self.recipe, out, self.engine, df, manifest,
                                               self.echo)
        manifest["status"] = "done" if complete else "partial"
        manifest["seconds"] = round(time.perf_counter() - started, 3)
        if self.report:  # before the manifest says done: a done run always has its report
            self._step = "report"
            write_report(out, manifest)
        self._step = "manifest.json"
        write_manifest(out, manifest)
        self._manifest = None  # done: nothing after this changes what the manifest says
        return manifest

    def _finish_run(self, manifest: dict[str, Any], last: int) -> None:
        """The ``finish_run`` steps of the stages that look at the whole run (see
        :mod:`curate.finished_run`), in run order; what each returns goes to its stats."""
        entries = {s["name"]: s for s in manifest["stages"]}
        planned = [p for p in self.plan[1:last + 1] if p.name in entries]
        finishing = [p for p in planned if type(p.stage).finish_run is not Stage.finish_run]
        if not finishing:
            return
        run = FinishedRun(self.out_dir, [(p.name, p.stage, entries[p.name]) for p in planned],
                          manifest["stages"], self.engine, seed=self.recipe.seed,
                          on_error=self.recipe.on_error)
        for p in finishing:
            extra = p.stage.finish_run(run)
            if extra:
                entries[p.name]["stats"] = {**entries[p.name].get("stats", {}), "run": extra}
        write_manifest(self.out_dir, manifest)
        self._sync()

    def _input_columns(self) -> list[str]:
        return recipe_input_columns(self.recipe, self.recipe_file)

    def _check_columns(self, index: int, columns: list[str]) -> None:
        """Before data goes through the stages from ``index`` on: each finds the columns it
        reads in ``columns`` (their input's) or in an earlier stage's output."""
        stages = [(p.name, p.stage) for p in self.plan[index:]]
        check_columns(stages, columns, first=index - 1)

    def _run_one(self, p: PlannedStage, source: Parts | None, entry: dict) -> Parts:
        t0 = time.perf_counter()
        kept_dir = self.out_dir / "stages" / f"{p.slug}.parquet"
        rejected_dir = self.out_dir / "rejected" / f"{p.slug}.parquet"
        scratch = self.out_dir / "cache" / "tmp" / p.slug
        for path in (kept_dir, rejected_dir, scratch):
            remove(path)
        try:
            if p.stage is None:
                result, stats = self._convert(kept_dir, rejected_dir)
            else:
                ctx = StageContext(name=p.name, index=p.index, seed=self.recipe.seed,
                                   on_error=self.recipe.on_error, out_dir=self.out_dir,
                                   cache_dir=self.out_dir / "cache")
                data = StageData(source, kept_dir, rejected_dir, scratch)
                result = self.engine.run_stage(p.stage, data, ctx)
                if result.rows_in != source.height:
                    raise StageError(f"stage {p.name} counted {result.rows_in} rows in, but "
                                     f"its input has {source.height}")
                check_stage_columns(p, source.schema, result.kept.schema)
                stats = result.stats
                entry["thresholds"] = p.stage.thresholds()
        except BaseException:
            # a stage stopped half way: its parts so far go (on a full disk, their space is
            # what the manifest is written in)
            for path in (kept_dir, rejected_dir):
                remove(path)
            raise
        finally:
            remove(scratch)
            for empty in (scratch.parent, scratch.parent.parent):  # cache/tmp, cache
                if empty.is_dir() and not any(empty.iterdir()):
                    empty.rmdir()
        rows_in = result.rows_in
        if DROP_REASON in result.rejected.columns and result.rejected.scan().select(
                pl.col(DROP_REASON).null_count()).collect().item():
            raise StageError(f"stage {p.name}: rejected rows without a drop_reason")
        dropped = result.dropped()
        check_accounting(p.name, rows_in, result.rows_out, dropped, result.added)
        failure = p.stage.failure(result) if p.stage is not None else None
        entry.update(rows_in=rows_in, rows_out=result.rows_out, dropped=dropped,
                     seconds=round(time.perf_counter() - t0, 3), stats=stats,
                     checkpoint=f"stages/{p.slug}.parquet", rejected=f"rejected/{p.slug}.parquet",
                     status="failed" if failure else "done")
        if result.added:
            entry["added"] = result.added
        summary = ", ".join(f"{k}: {v}" for k, v in dropped.items())
        line = f"{p.slug:<24} {rows_in:>7} -> {result.rows_out:<7}"
        if result.added:
            line += f" made {result.added} from split rows;"
        self.echo((line + (f" dropped {summary}" if summary else "")).rstrip())
        for note in (stats or {}).get("notes", []):  # what a stage tells the user as it ends
            self.echo(f"  {note}")
        if failure:
            entry["error"] = failure
            raise StageError(failure)
        return result.kept

    def _convert(self, kept_dir: Path, rejected_dir: Path) -> tuple[StageOutput, dict]:
        """The input into part folders, each input file read by the engine's workers."""
        return convert_step(self.recipe, self.recipe_file, self.input_path, kept_dir,
                            rejected_dir, engine=self.engine, limit=self.limit,
                            scratch=self.out_dir / "cache" / "tmp" / self.plan[0].slug)


def run_recipe(recipe: Recipe, out_dir: str | Path, **options: Any) -> dict[str, Any]:
    """Run ``recipe`` into ``out_dir`` (a folder or an fsspec URL); returns the manifest. See
    :class:`Runner`."""
    return Runner(recipe, out_dir, **options).run()
