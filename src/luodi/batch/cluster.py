"""The Ray engine: Ray Data ``map_batches`` over a pool of :class:`~luodi.batch.worker.BatchWorker` actors.

Ray is optional (``pip install 'luodi[ray]'``) and imported only here. Each actor builds its
pipeline once; Ray Data's actor pools restart an actor whose worker or node died and retry its
tasks (``max_restarts=-1``, ``max_task_retries=-1`` are Ray Data's defaults for actor pools), and
the driver's :class:`~luodi.batch.engine.PartCollector` drops the repeats a retry may produce.

Workers read inputs themselves: on a cluster, local paths must be on storage every node mounts
(NFS) at the same path, or the inputs live in S3. Every node needs luodi and its models installed
(``luodi models pull`` into the same ``LUODI_HOME``), exactly as a service replica does.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from luodi.batch.engine import Batch, BatchOptions, with_threads
from luodi.batch.worker import BatchWorker, WorkSpec
from luodi.errors import ClusterError, ConfigError, LuodiError

log = logging.getLogger("luodi.batch")

CONNECT_TIMEOUT_S = 10.0
#: ray.init's own retries take 30-40 s on an address that accepts TCP but is no Ray (a proxy, a wrong
#: port), and importing Ray takes 2-8 s more: a clear error must come within 30 s
INIT_DEADLINE_S = 20


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigError("--engine ray needs Ray: pip install 'luodi[ray]'") from exc
    return ray


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast (``timeout`` seconds, not Ray's minutes of retries) when ``host:port`` does not answer."""
    if address == "auto":
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"a Ray address is host:port, ray://host:port or auto, not {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from exc


#: Ray's per-second reporting, turned off in a Ray that luodi starts without its dashboard: task events
#: (the dashboard's task view and ``ray list tasks``), the metrics export and the event-loop statistics
#: feed nothing there, and together with the dashboard they were about half of what an idle local Ray
#: costs (bench/results/batch_ray_overhead.md). Scheduling, actor restarts and task retries use none of them.
QUIET_SYSTEM_CONFIG = {"task_events_report_interval_ms": 0, "metrics_report_interval_ms": 3600000, "event_stats": False}


def init_kwargs(address: str | None, dashboard: bool = False) -> dict[str, Any]:
    """``ray.init``'s arguments: join ``address``, or (``None``) start a Ray for this run on the usable cores.

    A Ray that luodi starts lives as long as one run; it starts lean (no dashboard, no per-second
    reporting) unless ``dashboard`` asks for the dashboard. A cluster's own settings are its owner's.
    """
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address is not None:
        return kwargs | {"address": address}
    from luodi.config import usable_cores

    # "local": always a new Ray, even when RAY_ADDRESS or a `ray start` on this machine points elsewhere
    kwargs |= {"address": "local", "num_cpus": usable_cores(), "include_dashboard": dashboard}
    return kwargs if dashboard else kwargs | {"_system_config": dict(QUIET_SYSTEM_CONFIG)}


def connect(address: str | None, dashboard: bool = False) -> tuple[Any, str | None]:
    """``ray.init`` on ``address`` (``None``: start Ray in this process on this machine's usable cores).

    Returns the Ray module and the dashboard URL (``None`` when the cluster runs none).
    """
    kwargs = init_kwargs(address, dashboard)
    if address is not None:
        check_reachable(address)  # before importing Ray (seconds): a refused port fails at once
    # the deadline covers the import too; starting a new local Ray has none (it can take 30 s on a busy box)
    limit = INIT_DEADLINE_S if address is not None else 0
    try:
        with _deadline(limit, f"no Ray cluster answered at {address} within {INIT_DEADLINE_S} s"):
            ray = _import_ray()
            context = ray.init(**kwargs)
    except (ConnectionError, RuntimeError, TimeoutError) as exc:
        raise ClusterError(f"cannot connect to Ray at {address or 'a new local cluster'}: {exc}") from exc
    url = getattr(context, "dashboard_url", None)
    return ray, (f"http://{url}" if url and not str(url).startswith("http") else url) or None


THREAD_VARIABLES = ("OPENCV_FOR_THREADS_NUM", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def actor_env(threads: int) -> dict[str, str]:
    """The environment of each actor's process: every native thread pool at the actor's inference threads.

    ONNX Runtime gets its threads from the spec; OpenCV's pool (whose idle threads spin a while before
    sleeping) and the BLAS/OpenMP pools would otherwise size themselves to the node's cores in every
    actor, and 4 actors on 2 cores would fight over them. Set at the process's start, before any import.
    """
    return dict.fromkeys(THREAD_VARIABLES, str(threads))


@contextlib.contextmanager
def _deadline(seconds: int, message: str) -> Iterator[None]:
    """Raise :class:`TimeoutError` in the main thread after ``seconds`` (SIGALRM; elsewhere, or 0: no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(message)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pool_size(ray: Any, options: BatchOptions) -> int:
    """How many actors: ``--actors``, or ``--actors-per-node`` × nodes with CPUs, or what the CPUs hold."""
    if options.actors:
        return int(options.actors)
    nodes = [
        n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) >= options.cpus_per_actor
    ]
    if options.actors_per_node:
        return max(1, options.actors_per_node * len(nodes))
    cpus = float(sum(n["Resources"]["CPU"] for n in nodes))
    return max(1, math.floor(cpus / options.cpus_per_actor))


class RayEngine:
    """Connects on ``__enter__`` (before the output is touched) and shuts Ray down on ``__exit__``."""

    name = "ray"

    def __init__(self, options: BatchOptions, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.dashboard: str | None = None
        self.extra: dict[str, Any] = {}
        self._ray: Any = None

    def __enter__(self) -> RayEngine:
        self._ray, self.dashboard = connect(self.options.address, self.options.dashboard)
        off = "not running on this cluster" if self.options.address else "off (--dashboard turns it on)"
        self.say(f"Ray dashboard: {self.dashboard or off}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ray is not None:
            self._ray.shutdown()

    def run(self, spec: WorkSpec, rows: list[tuple[int, str]], take: Callable[[Batch], None]) -> None:
        """Stream ``rows`` through the actor pool and hand every output batch to ``take``."""
        try:
            self._run(spec, rows, take)
        except LuodiError:
            raise
        except Exception as exc:
            raise ClusterError(f"the Ray run failed: {type(exc).__name__}: {exc}") from exc

    def _run(self, spec: WorkSpec, rows: list[tuple[int, str]], take: Callable[[Batch], None]) -> None:
        ray, options = self._ray, self.options
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the driver draws one bar over documents for both engines
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notices are about its own progress bars
        actors = pool_size(ray, options)
        self.extra = {"actors": actors, "cpus_per_actor": options.cpus_per_actor}
        self.say(f"{actors} actors x {options.cpus_per_actor:g} CPU, {options.batch_size} documents per call")
        items = [{"index": i, "ref": r} for i, r in rows]
        blocks = max(1, math.ceil(len(items) / options.batch_size))  # one worker call per block
        spec = with_threads(spec, options.cpus_per_actor)
        ds = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            BatchWorker,
            fn_constructor_kwargs={"spec": spec},
            batch_size=options.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=options.cpus_per_actor,
            runtime_env={"env_vars": actor_env(spec.threads or 1)},
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            take(batch)
