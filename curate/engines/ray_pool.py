"""How the Ray engine hands out work: tasks, or calls on an actor pool, a bounded number in
flight, results gathered in item order as they arrive (see :class:`curate.engines.ray.RayEngine`).

Every call returns its (small) result and the id of the node it ran on, so the engine can say
where a stage ran. The functions and items travel pickled; the rows they read and write stay
in the run folder on storage the driver shares with the workers.
"""

from __future__ import annotations

import os
import sys
import types
from functools import partial
from typing import Any, Callable, Sequence

from ..progress import bar

SPREAD = "SPREAD"  # the pieces over the cluster's nodes, not packed on the first one


def run_calls(ray, submit: Callable[[int], Any], n: int, *, limit: int,
              sizes: Sequence[int], desc: str,
              done: Callable[[Any], None] = lambda ref: None) -> tuple[list[Any], set[str]]:
    """``submit(i)`` (an object ref of ``(result, node id)``) for ``i`` in ``range(n)``, at
    most ``limit`` pending at once; the results in order and the nodes they ran on.
    ``done(ref)`` is told of each finished call (the actor pool frees its actor). A failed
    call raises its own exception here, and the calls still pending are cancelled."""
    results: list[Any] = [None] * n
    nodes: set[str] = set()
    pending: dict[Any, int] = {}
    nxt = 0
    with bar(total=sum(sizes), desc=desc) as progress:
        try:
            while nxt < n or pending:
                while nxt < n and len(pending) < limit:
                    pending[submit(nxt)] = nxt
                    nxt += 1
                finished, _ = ray.wait(list(pending), num_returns=1)
                for ref in finished:
                    i = pending.pop(ref)
                    results[i], node = get(ray, ref)
                    nodes.add(node)
                    done(ref)
                    progress.update(sizes[i])
        except BaseException:  # an error or Ctrl-C: what is not finished is not run
            for ref in pending:
                try:
                    ray.cancel(ref)
                except Exception:  # noqa: BLE001 - already finished, or its worker is gone
                    pass
            raise
    return results, nodes


def get(ray, ref):
    """``ray.get(ref)``, a worker's exception raised as itself (a CurateError stays one)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if exc.cause is not None:
            raise exc.cause from None
        raise


def call(fn: Callable[[Any], Any], item: Any) -> tuple[Any, str]:
    """The body of a task: ``fn(item)`` and the node it ran on."""
    import ray  # optional

    return fn(item), ray.get_runtime_context().get_node_id()


def with_copy(item: Any, *, fn: Callable[[Any, Any], Any], cls: type, options: Any) -> Any:
    """``fn`` of ``item`` with a fresh copy of the stage (made from its options)."""
    return fn(cls(options), item)


class ModelWorker:
    """An actor of a model stage's pool: one copy of the stage (and so of its model) for its
    ``device``, given one piece at a time."""

    def __init__(self, stage_cls: type, options: Any, device: str | None = None):
        stage = stage_cls(options)
        self.stage = stage.on_device(device) if hasattr(stage, "on_device") else stage

    def run(self, fn: Callable[[Any, Any], Any], item: Any) -> tuple[Any, str]:
        """``fn(stage, item)`` and what scoring it taught the copy (``{"before", "after"}``
        of its ``worker_report``), with the node it ran on."""
        import ray  # optional

        report = getattr(self.stage, "worker_report", dict)
        before = report()
        result = fn(self.stage, item)
        return ((result, {"before": before, "after": report()}),
                ray.get_runtime_context().get_node_id())

    def close(self) -> None:
        self.stage.close()


def ship_by_value(*objects: Any) -> None:
    """Let Ray's workers unpickle the functions and classes of ``objects`` (a stage, a
    function, partials of them) defined outside the package and outside the installed
    libraries: a plugin, a test."""
    from ray import cloudpickle  # optional

    for name in {_module_of(o) for o in _unwrapped(objects)}:
        module = sys.modules.get(name)
        if module is not None and name.split(".")[0] != "curate" and name != "__main__" \
                and not _installed(module):
            cloudpickle.register_pickle_by_value(module)


def _unwrapped(objects) -> list[Any]:
    out: list[Any] = []
    todo = list(objects)
    while todo:
        obj = todo.pop()
        if isinstance(obj, partial):
            todo += [obj.func, *obj.args, *obj.keywords.values()]
        else:
            out.append(obj)
    return out


def _module_of(obj: Any) -> str:
    if isinstance(obj, (type, types.FunctionType, types.MethodType)):
        return getattr(obj, "__module__", "") or ""
    return type(obj).__module__


def _installed(module) -> bool:
    """A module of the standard library or of an installed package (workers import it)."""
    path = getattr(module, "__file__", None)
    if path is None:
        return True
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return any(os.path.abspath(path).startswith(os.path.abspath(r) + os.sep) for r in roots)
