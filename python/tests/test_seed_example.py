"""The seed's "Example Usage", as written, with fake components that follow the protocol."""

from __future__ import annotations

import asyncio
import time

import scaler
from scaler import AutoScaler


class WorkerRegistry:
    """Sync methods: run in a thread of their own by the loop."""

    def __init__(self) -> None:
        self.workers_up = 3
        self.busy = 3

    def workers(self):
        return scaler.WorkerCounts(ready=self.workers_up, busy_slots=min(self.busy, self.workers_up))


class TaskDistributor:
    async def tasks(self):
        return scaler.TaskStats(pending=25, running=3, avg_task_duration_s=12.5)


class CloudManager:
    def __init__(self, registry: WorkerRegistry) -> None:
        self.registry = registry
        self.requests = []

    async def set_workers(self, target: int) -> None:
        self.requests.append(target)
        self.registry.workers_up = target


def test_the_seed_example_runs_as_written():
    async def main():
        worker_registry = WorkerRegistry()
        task_distributor = TaskDistributor()
        cloud_manager = CloudManager(worker_registry)

        autoscaler = AutoScaler(
            worker_registry,
            task_distributor,
            cloud_manager,
            min_workers=2,
            max_workers=20,
            scale_up_threshold=0.8,
            scale_down_threshold=0.2,
            cooldown_period=300,
            metrics_window=300,
        )
        await autoscaler.start_monitoring()
        # The first tick is immediate: let it run.
        for _ in range(400):
            if autoscaler.get_scaling_metrics()["ticks"] >= 1 and cloud_manager.requests:
                break
            await asyncio.sleep(0.005)
        metrics = autoscaler.get_scaling_metrics()
        print(f"Current workers: {metrics['current_workers']}")
        print(f"Worker utilization: {metrics['worker_utilization']:.2%}")
        await autoscaler.stop_monitoring()
        return autoscaler, metrics, cloud_manager

    before = time.time()
    autoscaler, metrics, cloud = asyncio.run(main())
    # 3 workers, all busy, 25 waiting: utilization 1 > 0.8, scale up by max(1, 50% of 3) = 1.
    assert cloud.requests == [4]
    for key in ("current_workers", "pending_tasks", "running_tasks", "avg_task_duration", "worker_utilization", "last_scaling_time"):
        assert key in metrics
    assert metrics["current_workers"] == 3
    assert metrics["pending_tasks"] == 25
    assert metrics["running_tasks"] == 3
    assert metrics["avg_task_duration"] == 12.5
    assert metrics["worker_utilization"] == 1.0
    assert before <= metrics["last_scaling_time"] <= time.time()
    assert metrics["last_decision"]["action"] == "scale_up"
    assert metrics["last_decision"]["reason"] == "utilization_high"
    assert metrics["last_decision"]["target_workers"] == 4
    assert autoscaler.get_scaling_metrics()["monitoring"] is False


def test_defaults_are_the_seeds():
    r = WorkerRegistry()
    a = AutoScaler(r, TaskDistributor(), CloudManager(r))
    c = a.config
    assert (c.min_workers, c.max_workers) == (1, 10)
    assert (c.cooldown_period, c.metrics_window, c.evaluation_interval) == (300.0, 300.0, 60.0)
    d = c.to_dict()
    assert d["scale_up_threshold"] == "0.8" and d["scale_down_threshold"] == "0.2"


def test_help_reads_well():
    doc = scaler.AutoScaler.__doc__ or ""
    for word in ("worker_registry.workers()", "task_distributor.tasks()", "cloud_manager.set_workers(target)", "call_timeout"):
        assert word in doc
    assert "avg_task_duration" in (scaler.AutoScaler.get_scaling_metrics.__doc__ or "")
