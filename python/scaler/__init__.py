"""scaler: the seed's auto-scaler for asyncio services, backed by the Rust ``scaler-core``.

- :class:`AutoScaler` — the seed's interface: ``AutoScaler(worker_registry,
  task_distributor, cloud_manager, min_workers=1, max_workers=10, scale_up_threshold=0.8,
  scale_down_threshold=0.2, cooldown_period=300, metrics_window=300, ...)``,
  ``await start_monitoring()``, ``await stop_monitoring()``, ``get_scaling_metrics()``.
- :func:`replay` — decisions on recorded observations (``scaler-sim replay``).
- :func:`simulate` — a worker pool on a trace (``scaler-sim run``).
- :func:`sweep` — many settings, and the recommended one (``scaler-sim sweep``).
- :class:`Config` — a validated ``[scaler]`` configuration; :class:`Table` — rows of a
  CSV the project writes.

Every decision is made by ``scaler-core`` (Rust): the same observation, the same
arithmetic and the same decision in the runtime, the simulator and replay. Invalid
settings raise ``ValueError`` with the command line's message. See ``docs/python.md``.
"""

from ._scaler import Config, Table, config_keys
from ._autoscaler import AutoScaler, CloudManager, TaskDistributor, TaskStats, WorkerCounts, WorkerRegistry
from ._api import SimulationResult, SweepResult, read_csv, replay, simulate, sweep

__all__ = [
    "AutoScaler",
    "WorkerCounts",
    "TaskStats",
    "WorkerRegistry",
    "TaskDistributor",
    "CloudManager",
    "Config",
    "Table",
    "replay",
    "simulate",
    "sweep",
    "read_csv",
    "SimulationResult",
    "SweepResult",
    "config_keys",
]

__version__ = "0.1.0"

import collections.abc as _abc

_abc.Sequence.register(Table)
