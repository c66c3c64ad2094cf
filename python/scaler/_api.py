"""``replay``, ``simulate`` and ``sweep``: the ``scaler-sim`` commands as functions.

Each calls the same Rust library code as the command of the same name, so the results are
the command's files, row for row and value for value.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _scaler

__all__ = ["replay", "simulate", "sweep", "read_csv", "SimulationResult", "SweepResult", "toml_value"]

PathLike = Union[str, "os.PathLike[str]"]

OBSERVATION_COLUMNS = (
    "timestamp_s",
    "current_workers",
    "pending_tasks",
    "running_tasks",
    "avg_task_duration_s",
    "worker_utilization",
)
OPTIONAL_OBSERVATION_COLUMNS = ("ready_workers", "busy_slots", "total_slots")


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return repr(v)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, int):
        return str(v)
    try:  # numpy scalars and the like
        return _cell(v.item())
    except AttributeError:
        return str(v)


def _observations_csv(observations: Any, path: Path) -> None:
    """Writes in-memory observations (a list of dicts or objects, a dict of columns, a
    pandas DataFrame or a ``scaler.Table``) as an observations file."""
    if isinstance(observations, _scaler.Table):
        path.write_text(observations.to_csv(), encoding="utf-8")
        return
    if hasattr(observations, "to_dict") and hasattr(observations, "columns") and not isinstance(observations, Mapping):
        observations = {str(c): list(observations[c]) for c in observations.columns}  # a DataFrame
    if isinstance(observations, Mapping):
        cols = [c for c in OBSERVATION_COLUMNS + OPTIONAL_OBSERVATION_COLUMNS if c in observations]
        rows: Iterable[Sequence[Any]] = zip(*(observations[c] for c in cols)) if cols else iter(())
    else:
        items = list(observations)
        present = set()
        for o in items[:1]:
            present = set(o.keys()) if isinstance(o, Mapping) else {c for c in OBSERVATION_COLUMNS + OPTIONAL_OBSERVATION_COLUMNS if hasattr(o, c)}
        cols = [c for c in OBSERVATION_COLUMNS + OPTIONAL_OBSERVATION_COLUMNS if c in present or c in OBSERVATION_COLUMNS]

        def get(o: Any, c: str) -> Any:
            return o.get(c) if isinstance(o, Mapping) else getattr(o, c, None)

        rows = ([get(o, c) for c in cols] for o in items)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join(_cell(v) for v in r) + "\n")


def _maybe_pandas(table: "_scaler.Table", pandas: bool) -> Any:
    return table.to_pandas() if pandas else table


def replay(
    config: Any,
    observations: Any,
    *,
    skip_invalid: bool = False,
    pandas: bool = False,
) -> Any:
    """The decisions the scaler makes on recorded observations, exactly as ``scaler-sim
    replay --config CONFIG --observations FILE`` writes them.

    ``config``: a :class:`scaler.Config`, a dict of settings, or the path of a TOML file
    with a ``[scaler]`` table. ``observations``: the path of an observations CSV (as
    ``scaler-sim run`` and ``AutoScaler(record_observations=...)`` write it), or in-memory
    observations: a list of dicts (or objects) with the columns ``timestamp_s,
    current_workers, pending_tasks, running_tasks, avg_task_duration_s,
    worker_utilization`` (optionally ``ready_workers, busy_slots, total_slots``), a dict of
    columns, or a pandas DataFrame.

    Returns a :class:`scaler.Table` (a sequence of dicts with the decisions file's columns
    ``timestamp_s, action, target_workers, reason, window_utilization, current_workers,
    pending_tasks``; ``to_csv()`` is the file byte for byte), or a DataFrame with
    ``pandas=True``. An invalid row raises ``ValueError`` naming the line and column, unless
    ``skip_invalid`` (then a warning says how many were skipped).
    """
    if _is_path(observations):
        table, report = _scaler.replay_file(config, os.fspath(observations), skip_invalid)
    else:
        with tempfile.TemporaryDirectory(prefix="scaler-replay-") as tmp:
            path = Path(tmp) / "observations.csv"
            _observations_csv(observations, path)
            try:
                table, report = _scaler.replay_file(config, str(path), skip_invalid)
            except ValueError as e:
                raise ValueError(str(e).replace(str(path), "<observations>")) from None
    if report["skipped"]:
        warnings.warn(f"skipped {report['skipped']} invalid row(s); the first: {report['first_skipped']}", stacklevel=2)
    if report["torn_last_row"]:
        warnings.warn(f"skipped a torn last row (no line end): {report['torn_last_row']}", stacklevel=2)
    return _maybe_pandas(table, pandas)


def toml_value(v: Any) -> str:
    """A Python value as a TOML value (the text of a ``--set key=value``)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (str, os.PathLike)):
        return json.dumps(os.fspath(v))
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise ValueError(f"{v!r} ({type(v).__name__}) cannot be written as a TOML value")


def _toml_key(k: str) -> str:
    return k if k and all(c.isalnum() or c in "-_" for c in k) else json.dumps(k)


def _scenario_toml(scenario: Mapping[str, Any]) -> str:
    lines: List[str] = []
    for table, body in scenario.items():
        if not isinstance(body, Mapping):
            raise ValueError(f"scenario[{table!r}] must be a dict (a table), got {type(body).__name__}")
        lines.append(f"[{_toml_key(str(table))}]")
        for k, v in body.items():
            if table == "trace" and k == "path" and _is_path(v):
                v = os.path.abspath(os.fspath(v))
            # A swept key (`scaler.cooldown_period`) is a dotted TOML key, as the file writes it.
            key = ".".join(_toml_key(p) for p in str(k).split(".")) if table == "sweep" else _toml_key(str(k))
            lines.append(f"{key} = {toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def _set_args(set: Union[Mapping[str, Any], Sequence[str], None], overrides: Mapping[str, Any]) -> List[str]:
    args: List[str] = []
    if set is not None:
        if isinstance(set, Mapping):
            args += [f"{k}={toml_value(v)}" for k, v in set.items()]
        else:
            args += [str(a) for a in set]
    cluster = set_of(_scaler.CLUSTER_KEYS)
    for k, v in overrides.items():
        if "__" in k:
            key = k.replace("__", ".")
        elif k in cluster:
            key = f"cluster.{k}"
        else:
            key = f"scaler.{k}"
        args.append(f"{key}={toml_value(v)}")
    return args


def set_of(xs: Iterable[str]) -> "set[str]":
    return {str(x) for x in xs}


@dataclass
class SimulationResult:
    """What :func:`scaler.simulate` returns.

    ``summary``: the same keys and values as ``summary.json``; ``timeline``: one row per
    tick, the columns of ``timeline.csv``; ``observations``: what the scaler observed, the
    columns of ``observations.csv`` (a :class:`scaler.Table` each, or DataFrames with
    ``pandas=True``).
    """

    summary: Dict[str, Any]
    timeline: Any
    observations: Any

    def __iter__(self):  # type: ignore[no-untyped-def]
        # `summary, timeline = scaler.simulate(...)` unpacks the two the issue names.
        return iter((self.summary, self.timeline))


def _scenario_path(scenario: Any, tmp: Optional[str]) -> str:
    if _is_path(scenario):
        return str(os.fspath(scenario))
    if isinstance(scenario, Mapping):
        assert tmp is not None
        p = Path(tmp) / "scenario.toml"
        p.write_text(_scenario_toml(scenario), encoding="utf-8")
        return str(p)
    raise TypeError("scenario must be the path of a scenario file or a dict of its tables")


def simulate(
    scenario: Any,
    *,
    seed: Optional[int] = None,
    trace: Optional[PathLike] = None,
    set: Union[Mapping[str, Any], Sequence[str], None] = None,
    pandas: bool = False,
    **overrides: Any,
) -> SimulationResult:
    """Simulates the scenario's worker pool on its trace, as ``scaler-sim run`` does.

    ``scenario``: the path of a scenario file, or a dict of its tables
    (``{"trace": {"path": ...}, "cluster": {...}, "scaler": {...}}``; a relative trace path
    is then relative to the working folder). Overrides, as ``--set``: keyword settings
    (``max_workers=30`` is ``scaler.max_workers``, a ``[cluster]`` key such as
    ``provision_delay_s=60`` is ``cluster.provision_delay_s``, ``faults__crash_rate=0.1`` is
    ``faults.crash_rate``), or ``set={"scaler.cooldown_period": 300}``; ``seed`` and
    ``trace`` as ``--seed`` and ``--trace``.

    Returns a :class:`SimulationResult` (``summary``, ``timeline``, ``observations``; it
    unpacks as ``summary, timeline``). An invalid scenario or override raises
    ``ValueError`` with the command line's message.
    """
    args = _set_args(set, overrides)
    with tempfile.TemporaryDirectory(prefix="scaler-sim-") as tmp:
        path = _scenario_path(scenario, tmp)
        tr = None if trace is None else os.fspath(trace)
        summary_json, timeline, observations = _scaler.simulate_file(path, args, tr, seed)
    return SimulationResult(
        summary=json.loads(summary_json),
        timeline=_maybe_pandas(timeline, pandas),
        observations=_maybe_pandas(observations, pandas),
    )


@dataclass
class SweepResult:
    """What :func:`scaler.sweep` returns: ``recommendation`` (``recommendation.json`` as a
    dict), ``results`` (``results.csv``: one row per setting), ``feasible`` (does the
    recommended setting meet every constraint?), ``out`` (the folder with every file,
    charts and ``report.html`` included), ``files`` and ``notices``."""

    recommendation: Dict[str, Any]
    results: Any
    feasible: bool
    out: str
    files: List[str] = field(default_factory=list)
    notices: List[str] = field(default_factory=list)


def sweep(
    scenario: Any,
    out: Optional[PathLike] = None,
    *,
    threads: int = 0,
    resume: bool = False,
    pandas: bool = False,
) -> SweepResult:
    """Runs the scenario's ``[sweep]``, as ``scaler-sim sweep SCENARIO --out OUT`` does:
    every setting, the recommendation, the frontiers, the charts and ``report.html``, in
    the folder ``out`` (``out/<scenario name>-sweep`` by default, as the command line).
    ``threads`` (0: one per core) and ``resume`` as ``--threads`` and ``--resume``.

    ``scenario``: the path of a scenario file, or a dict of its tables as for
    :func:`simulate` (with a ``"sweep"`` table: ``{"objective": ..., "scaler.cooldown_period":
    [60, 300]}``); a dict is written to ``OUT/scenario.toml``, which the sweep's manifest
    then names (so that ``merge``, ``--resume`` and ``plot`` find it)."""
    if isinstance(scenario, Mapping):
        out = os.fspath(out) if out is not None else os.path.join("out", "scenario-sweep")
        os.makedirs(out, exist_ok=True)
        path = _scenario_path(scenario, out)
    else:
        path = os.fspath(scenario)
    if out is None:
        out = os.path.join("out", f"{Path(path).stem}-sweep")
    out = os.fspath(out)
    rec_json, files, feasible, notices = _scaler.sweep_file(path, out, threads, resume)
    results = _scaler.read_csv(os.path.join(out, "results.csv"))
    return SweepResult(
        recommendation=json.loads(rec_json),
        results=_maybe_pandas(results, pandas),
        feasible=feasible,
        out=out,
        files=list(files),
        notices=list(notices),
    )


def read_csv(path: PathLike, *, pandas: bool = False) -> Any:
    """Reads any CSV file the project writes (decisions, timeline, observations, results)
    as a :class:`scaler.Table` (or a DataFrame with ``pandas=True``)."""
    return _maybe_pandas(_scaler.read_csv(os.fspath(path)), pandas)
