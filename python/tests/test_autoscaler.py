"""The monitoring loop: components that raise, hang or lie do not stop it; scaling failures,
timeouts, restarts, and the recording that replays to the live decisions."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

import scaler
from conftest import Pool, wait_for

FAST = dict(evaluation_interval=0.02, metrics_window=0.1, cooldown_period=0, min_workers=1, max_workers=50)


def run(coro):
    return asyncio.run(coro)


def test_a_registry_that_raises_skips_ticks_and_the_loop_goes_on(caplog):
    class Flaky(Pool):
        n = 0

        async def workers(self):
            self.n += 1
            if self.n % 2 == 1:
                raise ConnectionError("registry down")
            return await super().workers()

    async def main():
        p = Flaky()
        a = scaler.AutoScaler(p, p, p, **FAST)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 6)
        await a.stop_monitoring()
        return a.get_scaling_metrics(), p

    with caplog.at_level(logging.WARNING, logger="scaler"):
        m, p = run(main())
    assert m["skipped_ticks"] >= 3
    assert m["ticks"] - m["skipped_ticks"] >= 2
    assert p.calls, "the good ticks decided and scaled"
    assert any("registry down" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("sync", [False, True])
def test_a_distributor_that_hangs_times_out_and_the_loop_goes_on(sync):
    release = threading.Event()

    class Hanging(Pool):
        n = 0

    p = Hanging()
    if sync:

        def tasks():
            p.n += 1
            if p.n == 1:
                release.wait(30)  # blocks its thread, never the event loop
            return {"pending": 10, "running": 4}

    else:

        async def tasks():
            p.n += 1
            if p.n == 1:
                await asyncio.sleep(30)
            return {"pending": 10, "running": 4}

    p.tasks = tasks  # type: ignore[method-assign]

    async def main():
        a = scaler.AutoScaler(p, p, p, call_timeout=0.1, **FAST)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 4)
        report = await a.stop_monitoring()
        return a.get_scaling_metrics(), report

    m, report = run(main())
    release.set()
    assert m["skipped_ticks"] == 1
    assert m["ticks"] >= 4
    assert m["last_decision"] is not None
    assert report == {"call_still_running": False}


def test_nonsense_metrics_skip_the_tick():
    class Liar(Pool):
        async def workers(self):
            return {"ready": 2, "busy_slots": 5}  # more busy slots than slots

    async def main():
        p = Liar()
        a = scaler.AutoScaler(p, p, p, **FAST)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 3)
        await a.stop_monitoring()
        return a.get_scaling_metrics(), p

    m, p = run(main())
    assert m["skipped_ticks"] == m["ticks"]
    assert m["last_decision"] is None and p.calls == []


def test_a_failed_scaling_starts_no_cooldown_and_is_retried():
    class Failing(Pool):
        fails = 2

        async def set_workers(self, target):
            self.calls.append(target)
            if self.fails:
                self.fails -= 1
                raise RuntimeError("quota exceeded")
            self.ready = target

    async def main():
        p = Failing(ready=4, busy=4, pending=10)
        a = scaler.AutoScaler(p, p, p, **{**FAST, "cooldown_period": 3600})
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["scalings"] >= 1)
        await asyncio.sleep(0.1)  # more ticks: the cooldown now holds
        await a.stop_monitoring()
        return a.get_scaling_metrics(), p, a.recent_decisions()

    m, p, decisions = run(main())
    assert p.calls == [6, 6, 6], "retried at each tick until it succeeded, then the cooldown holds"
    assert m["scaling_failures"] == 2 and m["scalings"] == 1
    assert decisions[-1]["reason"] == "cooldown"


def test_a_scaling_call_that_hangs_starts_the_cooldown_and_blocks_no_other():
    release = threading.Event()

    class Slow(Pool):
        def set_workers(self, target):  # sync: runs in its own thread
            self.calls.append(target)
            release.wait(30)

    async def main():
        p = Slow(ready=4, busy=4, pending=10)
        a = scaler.AutoScaler(p, p, p, call_timeout=0.05, **{**FAST, "cooldown_period": 0.1})
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["scalings_deferred"] >= 1)
        m = a.get_scaling_metrics()
        release.set()
        report = await a.stop_monitoring()
        return m, p, report

    m, p, report = run(main())
    assert m["scaling_timeouts"] == 1
    assert p.calls == [6], "no second call while the first still runs"
    assert report == {"call_still_running": False}


def test_start_twice_is_harmless_and_restart_continues_the_clock():
    async def main():
        p = Pool()
        a = scaler.AutoScaler(p, p, p, **FAST)
        await a.start_monitoring()
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 2)
        await a.stop_monitoring()
        first = a.recent_decisions()[-1]["at_s"]
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 4)
        await a.stop_monitoring()
        return first, a.recent_decisions()

    first, decisions = run(main())
    times = [d["at_s"] for d in decisions]
    assert times == sorted(times) and times[-1] > first
    # on the tick grid (k * evaluation_interval)
    # On the tick grid (k * 20 ms): a tick woken at most GRID_SLACK_MS late runs at its due
    # time, so on a machine that is not overloaded every one of them is exactly on it.
    on_grid = [round(t * 1000) % 20 == 0 for t in times]
    assert sum(on_grid) >= len(times) / 2, times


def test_invalid_settings_refuse_to_construct():
    p = Pool()
    with pytest.raises(ValueError, match=r"scaler\.min_workers = 5: .*max_workers"):
        scaler.AutoScaler(p, p, p, min_workers=5, max_workers=3)
    with pytest.raises(ValueError, match="unknown key `scaler.cooldown`"):
        scaler.AutoScaler(p, p, p, cooldown=3)
    with pytest.raises(TypeError, match="set_workers"):
        scaler.AutoScaler(p, p, object())


def test_the_recording_replays_to_the_live_decisions(tmp_path):
    """The core promise: the same observation, arithmetic and decision live and in replay."""

    class Varying(Pool):
        t = 0

        async def workers(self):
            self.t += 1
            busy = self.ready if (self.t // 4) % 2 == 0 else self.t % 2
            return {"ready": self.ready, "busy_slots": min(busy, self.ready), "slots_per_worker": 1}

        async def tasks(self):
            return {"pending": self.t % 3, "running": 3, "avg_task_duration_s": 1.25}

    rec = tmp_path / "observations.csv"
    cfg = dict(FAST, cooldown_period=0.04, scale_down_threshold=0.3)

    async def main():
        p = Varying(ready=8)
        a = scaler.AutoScaler(p, p, p, record_observations=rec, history=1000, **cfg)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 25)
        await a.stop_monitoring()
        return a.recent_decisions(), a.get_scaling_metrics()

    live, m = run(main())
    assert m["recording_path"] == str(rec)
    replayed = scaler.replay(cfg, rec).to_list()
    assert len(replayed) == len(live) >= 25
    for r, d in zip(replayed, live):
        assert (r["timestamp_s"], r["action"], r["target_workers"], r["reason"]) == (
            d["at_s"],
            d["action"],
            d["target_workers"],
            d["reason"],
        )
        assert r["window_utilization"] == d["window_utilization"]
    assert {d["action"] for d in live} > {"hold"}, "the run scaled at least once"


def test_a_second_recording_goes_to_a_new_segment(tmp_path):
    rec = tmp_path / "obs.csv"
    rec.write_text("timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n0,1,0,0,0,0\n")

    async def main():
        p = Pool()
        a = scaler.AutoScaler(p, p, p, record_observations=rec, **FAST)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 1)
        await a.stop_monitoring()
        return a.get_scaling_metrics()

    m = run(main())
    assert m["recording_path"] == str(tmp_path / "obs.1.csv")
    assert len(scaler.read_csv(tmp_path / "obs.1.csv")) >= 1


def test_a_restarted_autoscaler_resumes_the_cooldown_clock_and_recording_from_the_state_file(tmp_path):
    state = tmp_path / "state.json"
    rec = tmp_path / "observations.csv"
    cfg = dict(FAST, cooldown_period=30)  # a long cooldown: only the state file can know it

    async def first():
        p = Pool(ready=4, busy=4, pending=10)
        a = scaler.AutoScaler(p, p, p, state_file=state, record_observations=rec, **cfg)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 3)
        await a.stop_monitoring()
        return p, a.recent_decisions()

    async def second():
        p = Pool(ready=6, busy=6, pending=10)
        a = scaler.AutoScaler(p, p, p, state_file=state, record_observations=rec, **cfg)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 3)
        await a.stop_monitoring()
        return p, a.recent_decisions(), a.get_scaling_metrics()

    p1, d1 = run(first())
    assert p1.calls == [6] and d1[0]["reason"] == "utilization_high" and d1[-1]["reason"] == "cooldown"
    assert state.exists()
    p2, d2, m2 = run(second())
    # A fresh scaler would scale up at once (all busy, tasks waiting); the resumed one is in
    # the cooldown that the first started, on the same clock, after the first's last tick.
    assert p2.calls == []
    assert all(d["reason"] == "cooldown" for d in d2)
    assert d2[0]["at_s"] > d1[-1]["at_s"]
    assert m2["state_errors"] == 0 and m2["recording_path"] == str(rec)
    # One recording, timestamps increasing across the restart: it replays.
    rows = scaler.read_csv(rec)
    assert len(rows) == len(d1) + len(d2)
    replayed = scaler.replay(cfg, rec)
    assert [r["reason"] for r in replayed] == [d["reason"] for d in d1 + d2]


def test_an_unusable_state_file_is_counted_and_the_scaler_starts_fresh(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("not json")

    async def main():
        p = Pool(ready=4, busy=4, pending=10)
        a = scaler.AutoScaler(p, p, p, state_file=state, **FAST)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 1)
        await a.stop_monitoring()
        return p, a.get_scaling_metrics()

    p, m = run(main())
    assert m["state_errors"] == 1 and p.calls[:1] == [6]
    assert state.read_text().startswith("{")


def test_a_component_with_a_wrong_signature_skips_ticks():
    class Wrong(Pool):
        async def tasks(self, extra):  # the protocol's tasks() takes no argument
            return {}

    async def main():
        p = Wrong()
        a = scaler.AutoScaler(p, p, p, **FAST)
        await a.start_monitoring()
        await wait_for(lambda: a.get_scaling_metrics()["ticks"] >= 2)
        await a.stop_monitoring()
        return a.get_scaling_metrics()

    m = run(main())
    assert m["skipped_ticks"] == m["ticks"] >= 2
