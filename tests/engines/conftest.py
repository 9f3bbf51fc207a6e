from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs, started once for the session and shut down at its end."""
    import ray

    if ray.is_initialized():  # a Ray started by an earlier test (e.g. `curate run --engine ray`)
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
