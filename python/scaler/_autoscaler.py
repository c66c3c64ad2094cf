"""The seed's ``AutoScaler``: an asyncio monitoring loop around the Rust ``scaler-core``.

The loop only moves data and survives the outside world; every decision is made in Rust by
the same step ``scaler-runtime`` takes (``scaler._scaler.Core``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple, Union

try:
    from typing import Protocol
except ImportError:  # pragma: no cover - Python < 3.8
    Protocol = object  # type: ignore[assignment,misc]

from . import _scaler

__all__ = ["AutoScaler", "WorkerCounts", "TaskStats", "WorkerRegistry", "TaskDistributor", "CloudManager"]

log = logging.getLogger("scaler")


@dataclass(frozen=True)
class WorkerCounts:
    """What a worker registry reports (``worker_registry.workers()``).

    ``ready``: workers ready to take tasks (not starting, not draining);
    ``busy_slots``: busy task slots of the ready workers (a worker running ``k`` tasks has
    ``k`` busy slots); ``provisioning``: workers requested and still starting;
    ``slots_per_worker``: task slots per worker. A plain ``dict`` with these keys, or any
    object with these attributes, works as well.
    """

    ready: float
    busy_slots: float
    provisioning: float = 0
    slots_per_worker: float = 1


@dataclass(frozen=True)
class TaskStats:
    """What a task distributor reports (``task_distributor.tasks()``).

    ``pending``: tasks waiting; ``running``: tasks running anywhere (draining workers
    included); ``avg_task_duration_s``: mean duration, in seconds, of the tasks completed
    within ``metrics_window`` (0 if none). A ``dict`` or any object with these attributes
    works as well.
    """

    pending: float
    running: float
    avg_task_duration_s: float = 0.0


_Counts = Union[WorkerCounts, Mapping[str, float], Any]
_Stats = Union[TaskStats, Mapping[str, float], Any]


class WorkerRegistry(Protocol):
    """What ``AutoScaler`` needs of a worker registry: ``workers()``, sync or async,
    returning a :class:`WorkerCounts` (or a dict or object with its fields)."""

    def workers(self) -> Union[_Counts, Awaitable[_Counts]]: ...


class TaskDistributor(Protocol):
    """What ``AutoScaler`` needs of a task distributor: ``tasks()``, sync or async,
    returning a :class:`TaskStats` (or a dict or object with its fields)."""

    def tasks(self) -> Union[_Stats, Awaitable[_Stats]]: ...


class CloudManager(Protocol):
    """What ``AutoScaler`` needs of a cloud manager: ``set_workers(target)``, sync or
    async; it returns once the request for ``target`` workers succeeded and raises if it
    failed (the cooldown starts only after a success)."""

    def set_workers(self, target: int) -> Union[Any, Awaitable[Any]]: ...


def _field(obj: Any, name: str, default: Optional[float] = None) -> float:
    if isinstance(obj, Mapping):
        value = obj.get(name, default)
    else:
        value = getattr(obj, name, default)
    if value is None:
        raise ValueError(f"{type(obj).__name__} has no {name!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    return float(value)


def _workers_tuple(w: Any) -> Tuple[float, float, float, float]:
    return (
        _field(w, "ready"),
        _field(w, "provisioning", 0.0),
        _field(w, "busy_slots"),
        _field(w, "slots_per_worker", 1.0),
    )


def _tasks_tuple(t: Any) -> Tuple[float, float, float]:
    return (_field(t, "pending"), _field(t, "running"), _field(t, "avg_task_duration_s", 0.0))


class _CallTimeout(Exception):
    pass


def _start_call(fn: Callable[..., Any], *args: Any) -> "Tuple[asyncio.Future[Any], bool]":
    """Starts one call of a user's method as a future of the running loop.

    A coroutine function runs as its own task. A plain function runs in a daemon thread, so
    that one that blocks (or hangs) never stalls the event loop; if it returns an awaitable,
    that is awaited on the loop.

    Returns the future and whether cancelling it stops the call (a task: yes; a thread: no,
    and its future stays pending until the thread ends, so a timed-out call is tracked).
    """
    loop = asyncio.get_running_loop()
    if inspect.iscoroutinefunction(fn):
        try:
            coro = fn(*args)
        except Exception as e:  # noqa: BLE001 - e.g. a wrong signature: a failed call
            failed: asyncio.Future[Any] = loop.create_future()
            failed.set_exception(e)
            return failed, True
        return asyncio.ensure_future(coro), True
    fut: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if not ok:
            fut.set_exception(value)
        elif inspect.isawaitable(value):
            inner = asyncio.ensure_future(value)

            def chain(f: "asyncio.Future[Any]") -> None:
                if fut.done():
                    return
                if f.cancelled():
                    fut.cancel()
                elif f.exception() is not None:
                    fut.set_exception(f.exception())  # type: ignore[arg-type]
                else:
                    fut.set_result(f.result())

            inner.add_done_callback(chain)
            fut.add_done_callback(lambda _f: inner.cancel() if not inner.done() else None)
        else:
            fut.set_result(value)

    def run() -> None:
        try:
            value = fn(*args)
        except BaseException as e:  # noqa: BLE001 - reported to the loop, which logs it
            ok, value = False, e
        else:
            ok = True
        try:
            loop.call_soon_threadsafe(settle, ok, value)
        except RuntimeError:
            pass  # the loop has closed: nobody waits for this call any more

    threading.Thread(target=run, name=f"scaler-call-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    return fut, False


async def _bounded(started: "Tuple[asyncio.Future[Any], bool]", timeout: float) -> Any:
    """The future's result within ``timeout`` seconds; on a timeout it is asked to stop
    (cancelled) and :class:`_CallTimeout` is raised: a call that ignores cancellation (or a
    blocked thread) goes on, and its future is left for the caller to track."""
    fut, cancellable = started
    done, _ = await asyncio.wait({fut}, timeout=timeout)
    if not done:
        if cancellable:
            fut.cancel()
        else:
            # Nobody will read its outcome: keep asyncio from warning about it.
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        raise _CallTimeout(f"timed out after {timeout:g} s")
    if fut.cancelled():
        # The user's own code was cancelled (not by us): a failure of that call.
        raise RuntimeError("the call was cancelled")
    return fut.result()


def _describe(e: BaseException) -> str:
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# A tick woken at most this late runs at its due time on the tick grid.
GRID_SLACK_MS = 10

SEED_DEFAULTS: Dict[str, Any] = {
    "min_workers": 1,
    "max_workers": 10,
    "scale_up_threshold": 0.8,
    "scale_down_threshold": 0.2,
    "cooldown_period": 300,
    "metrics_window": 300,
}


class AutoScaler:
    """The seed's auto-scaler for an asyncio service; every decision is made by ``scaler-core``.

    Every ``evaluation_interval`` seconds (60 by default, as the seed's loop) it asks the
    ``worker_registry`` and the ``task_distributor`` for the pool's counts, turns them into
    an observation and decides, in Rust, exactly as ``scaler-runtime``, the simulator and
    ``scaler-sim replay`` decide; when the decision scales, it asks the ``cloud_manager``
    for the new worker count.

    The three components are plain objects; each method may be a coroutine function or a
    plain function (a plain one runs in a thread of its own, so a blocking call never stalls
    the event loop)::

        worker_registry.workers()          -> WorkerCounts | dict
                                              (ready, busy_slots, provisioning=0, slots_per_worker=1)
        task_distributor.tasks()           -> TaskStats | dict
                                              (pending, running, avg_task_duration_s=0)
        cloud_manager.set_workers(target)  -> anything; raise if the request failed

    One object may be all three. Guarantees, as in ``scaler-runtime``: every call has a
    timeout (``call_timeout``, 10 s); a component that raises, hangs or returns nonsense
    (NaN, negative or fractional counts, more busy slots than slots) skips that tick and
    the loop goes on; a failed scaling call starts no cooldown and is decided again at the
    next tick; a call that timed out starts the cooldown (its effect is unknown) and no
    other scaling call starts while it still runs; never a target outside
    ``[min_workers, max_workers]``.

    Settings (keyword, same names, defaults and validation as a scenario's ``[scaler]``
    table; an invalid one raises ``ValueError`` with the command line's message):
    ``min_workers=1, max_workers=10, scale_up_threshold=0.8, scale_down_threshold=0.2,
    cooldown_period=300, metrics_window=300`` (seconds), ``evaluation_interval=60``,
    ``utilization_aggregate="mean"``, ``scale_up_step={"percent": 50, "min": 1}``,
    ``scale_down_step={"percent": 25, "min": 1}``, ``warmup_period``, ``policy`` and the
    policies' own keys (``policy="hpa", hpa={...}``; see ``docs/policies.md``). Or pass
    ``config=`` (a :class:`scaler.Config`, a dict, or the path of a TOML file).

    Runtime options: ``call_timeout`` (seconds), ``record_observations`` (a CSV path:
    every observation taken, the file ``scaler-sim replay`` and :func:`scaler.replay`
    rerun), ``state_file`` (a JSON path: the scaler's state, written atomically after every
    tick that decided; a new ``AutoScaler`` with the same file resumes the window, the
    cooldown and the clock, as ``scaler-runtime`` does), ``history`` (decisions kept for
    :meth:`recent_decisions`).
    """

    def __init__(
        self,
        worker_registry: WorkerRegistry,
        task_distributor: TaskDistributor,
        cloud_manager: CloudManager,
        min_workers: int = 1,
        max_workers: int = 10,
        scale_up_threshold: float = 0.8,
        scale_down_threshold: float = 0.2,
        cooldown_period: float = 300,
        metrics_window: float = 300,
        *,
        evaluation_interval: Optional[float] = None,
        config: Union["_scaler.Config", Mapping[str, Any], str, Any, None] = None,
        call_timeout: float = 10.0,
        record_observations: Optional[Any] = None,
        state_file: Optional[Any] = None,
        history: int = 100,
        **settings: Any,
    ) -> None:
        for name, comp, method in (
            ("worker_registry", worker_registry, "workers"),
            ("task_distributor", task_distributor, "tasks"),
            ("cloud_manager", cloud_manager, "set_workers"),
        ):
            if not callable(getattr(comp, method, None)):
                raise TypeError(f"{name} must have a method {method}() (see help(scaler.AutoScaler))")
        if not (isinstance(call_timeout, (int, float)) and call_timeout > 0):
            raise ValueError(f"call_timeout = {call_timeout!r}: must be a number of seconds > 0")
        if config is not None:
            given = {
                "min_workers": min_workers,
                "max_workers": max_workers,
                "scale_up_threshold": scale_up_threshold,
                "scale_down_threshold": scale_down_threshold,
                "cooldown_period": cooldown_period,
                "metrics_window": metrics_window,
            }
            changed = [k for k, v in given.items() if v != SEED_DEFAULTS[k]]
            if changed or settings or evaluation_interval is not None:
                raise ValueError("pass the settings either as keywords or as config=, not both")
            cfg = config if isinstance(config, _scaler.Config) else _config_of(config)
        else:
            values: Dict[str, Any] = {
                "min_workers": min_workers,
                "max_workers": max_workers,
                "scale_up_threshold": scale_up_threshold,
                "scale_down_threshold": scale_down_threshold,
                "cooldown_period": cooldown_period,
                "metrics_window": metrics_window,
            }
            if evaluation_interval is not None:
                values["evaluation_interval"] = evaluation_interval
            values.update(settings)
            cfg = _scaler.Config(**values)
        self.worker_registry = worker_registry
        self.task_distributor = task_distributor
        self.cloud_manager = cloud_manager
        self.config: _scaler.Config = cfg
        self.call_timeout = float(call_timeout)
        rec = None if record_observations is None else str(record_observations)
        state = None if state_file is None else str(state_file)
        self._core = _scaler.Core(cfg, rec, history, state)
        self._task: Optional[asyncio.Task[None]] = None
        self._stop: Optional[asyncio.Event] = None
        self._origin: Optional[float] = None
        self._straggler: Optional[asyncio.Future[Any]] = None
        self._last_scaling_unix: Optional[float] = None
        self._started = False
        self._resumed = False

    # -- the seed's interface ----------------------------------------------------------

    async def start_monitoring(self) -> None:
        """Starts the monitoring loop as a task of the running event loop and returns at
        once; the first tick is immediate. Calling it while the loop runs does nothing.
        Stopping and starting again continues on the same clock (the window and the
        cooldown persist)."""
        if self._task is not None and not self._task.done():
            return
        loop = asyncio.get_running_loop()
        if self._origin is None:
            self._origin = loop.time()
            clock_ms, err = self._core.resume()
            if err:
                log.error("%s", err)
            if clock_ms is not None:
                # The clock continues from the saved reading plus the downtime.
                self._origin -= clock_ms / 1000
                self._resumed = True
                log.info("resumed the scaler's state at %.3f s", clock_ms / 1000)
        if not self._started:
            self._started = True
            err = self._core.open_recording()
            if err:
                log.error("%s; continuing without it", err)
        self._core.set_monitoring(True)
        self._stop = asyncio.Event()
        self._task = loop.create_task(self._run(self._stop), name="scaler-monitoring")

    async def stop_monitoring(self) -> Dict[str, bool]:
        """Stops the loop: an in-flight scaling call may finish (bounded by the call
        timeout), then the loop ends; the recording is flushed. A scaling call that timed
        out and still runs is waited for up to ``call_timeout``; the returned dict's
        ``call_still_running`` says whether one outlived that wait."""
        task, self._task = self._task, None
        if task is not None:
            if self._stop is not None:
                self._stop.set()
            bound = self.call_timeout * 3 + 1
            done, _ = await asyncio.wait({task}, timeout=bound)
            if not done:
                log.warning("the monitoring loop did not stop within %.1f s; cancelling it", bound)
                task.cancel()
                await asyncio.wait({task}, timeout=1)
        still_running = False
        if self._straggler is not None and not self._straggler.done():
            finished, _ = await asyncio.wait({self._straggler}, timeout=self.call_timeout)
            still_running = not finished
            if still_running:
                log.error("a timed-out scaling call is still running after stop; its effect is unknown")
        self._core.set_monitoring(False)
        try:
            self._core.flush()
        except OSError as e:
            log.error("flushing the observations recording failed: %s", e)
        return {"call_still_running": still_running}

    def get_scaling_metrics(self) -> Dict[str, Any]:
        """The seed's metrics and the runtime's counters, as a dict.

        The seed's keys: ``current_workers``, ``pending_tasks``, ``running_tasks``,
        ``avg_task_duration`` (seconds), ``worker_utilization`` (busy slots / slots of the
        ready workers, 0 to 1), ``last_scaling_time`` (Unix time of the last successful
        scaling, as ``time.time()``, or ``None``); then ``last_decision`` (``at_s``,
        ``action``, ``target_workers``, ``reason``), ``monitoring``, ``ready_workers``,
        ``last_scaling_time_s`` (seconds on the loop's clock since monitoring first
        started), the configured ``metrics_window_s``, ``cooldown_period_s``,
        ``evaluation_interval_s``, and the counters ``ticks``, ``skipped_ticks``,
        ``scalings``, ``scaling_failures``, ``scaling_timeouts``, ``scalings_deferred``,
        ``record_errors``, ``state_errors``, ``torn_rows_dropped``, ``recording_path``:
        the fields of ``scaler_runtime::ScalingMetrics``.
        """
        import json

        m: Dict[str, Any] = json.loads(self._core.metrics_json())
        seed = {
            "current_workers": m["current_workers"],
            "pending_tasks": m["pending_tasks"],
            "running_tasks": m["running_tasks"],
            "avg_task_duration": m["avg_task_duration_s"],
            "worker_utilization": m["worker_utilization"],
            "last_scaling_time": self._last_scaling_unix,
        }
        seed.update(m)
        return seed

    def recent_decisions(self) -> List[Dict[str, Any]]:
        """The most recent decisions (up to ``history``), oldest first."""
        return list(self._core.recent_decisions())

    @property
    def monitoring(self) -> bool:
        """Is the loop running?"""
        return self._task is not None and not self._task.done()

    # -- the loop ------------------------------------------------------------------------

    def _now_ms(self) -> int:
        assert self._origin is not None
        return max(0, int(round((asyncio.get_running_loop().time() - self._origin) * 1000)))

    async def _run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        assert self._origin is not None
        due: Optional[int] = None
        # After resuming from a state file, the first tick is the next one on the grid.
        skip, self._resumed = self._resumed, False
        while not stop.is_set():
            now = self._now_ms()
            if due is not None and due <= now <= due + GRID_SLACK_MS:
                # Woken a little late (event-loop jitter): tick on the grid, as the simulator.
                now = due
            try:
                if not skip:
                    await self._tick(now)
                skip = False
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bug here must not end monitoring silently
                log.exception("the tick at %.3f s failed; monitoring goes on", now / 1000)
            due = self._core.next_tick(now)
            wake = self._origin + due / 1000
            delay = max(0.0, wake - loop.time())
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass

    async def _collect(self) -> Tuple[Optional[Tuple[Any, Any]], Optional[str]]:
        t = self.call_timeout
        calls = (
            ("worker registry", self.worker_registry.workers, _workers_tuple),
            ("task distributor", self.task_distributor.tasks, _tasks_tuple),
        )
        futs = [_start_call(fn) for _, fn, _ in calls]
        results = await asyncio.gather(*(_bounded(f, t) for f in futs), return_exceptions=True)
        out = []
        for (what, _, convert), r in zip(calls, results):
            if isinstance(r, BaseException):
                return None, f"{what}: {_describe(r)}"
            try:
                out.append(convert(r))
            except (ValueError, TypeError) as e:
                return None, f"{what}: {e}"
        return (out[0], out[1]), None

    async def _tick(self, now: int) -> None:
        counts, err = await self._collect()
        if counts is None:
            self._core.skip()
            log.warning("metrics collection failed at %.3f s; skipping this tick: %s", now / 1000, err)
            return
        decision, target, note = self._core.tick(now, counts[0], counts[1])
        if note:
            (log.warning if decision is None else log.error)("at %.3f s: %s", now / 1000, note)
        if decision is None or target is None:
            if decision is not None:
                log.debug("hold at %.3f s (%s)", now / 1000, decision["reason"])
            return
        if self._straggler is not None and not self._straggler.done():
            self._note(self._core.outcome(now, "deferred"))
            log.warning(
                "at %.3f s: an earlier scaling call that timed out is still running; not starting another (to %d)",
                now / 1000,
                target,
            )
            return
        self._straggler = None
        started = _start_call(self.cloud_manager.set_workers, target)
        try:
            await _bounded(started, self.call_timeout)
        except asyncio.CancelledError:
            self._note(self._core.outcome(now, "timeout"))
            raise
        except _CallTimeout as e:
            self._straggler = started[0]
            self._note(self._core.outcome(now, "timeout"))
            log.warning(
                "scaling %s from %d to %d (%s) %s; the cooldown starts (it may have taken effect)",
                decision["action"],
                decision["current_workers"],
                target,
                decision["reason"],
                e,
            )
        except Exception as e:  # noqa: BLE001 - the user's failure, logged with its context
            self._note(self._core.outcome(now, "failed"))
            log.warning(
                "scaling %s from %d to %d (%s) failed: %s; the next tick decides again",
                decision["action"],
                decision["current_workers"],
                target,
                decision["reason"],
                _describe(e),
            )
        else:
            self._note(self._core.outcome(now, "applied"))
            self._last_scaling_unix = time.time()
            log.info(
                "scaled: %s from %d to %d (%s)", decision["action"], decision["current_workers"], target, decision["reason"]
            )

    @staticmethod
    def _note(err: Optional[str]) -> None:
        if err:
            log.error("%s", err)

    def __repr__(self) -> str:
        return f"<scaler.AutoScaler {self.config!r} monitoring={self.monitoring}>"


def _config_of(config: Any) -> "_scaler.Config":
    if isinstance(config, _scaler.Config):
        return config
    if isinstance(config, Mapping):
        return _scaler.Config(**dict(config))
    return _scaler.Config.from_file(str(config))

