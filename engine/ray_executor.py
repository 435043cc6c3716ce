"""The Ray executor: each measurement a Ray task in a fresh worker process, on a cluster or a local Ray.

The cluster is the one at the given address, else RAY_ADDRESS's, else a Ray started for the run on this
machine (with one measuring slot, and every GPU). Ray is an optional extra: without it, RayUnavailable.

- Each configuration is measured in a fresh process of its own, as on the local executor: a child
  of the worker's fork server, which has imported torch and transformers once (engine.preload). The
  worker itself only launches and watches (so Ray may reuse it, and the imports are paid once per
  worker, not per configuration), and a task is not retried (max_retries=0): a lost worker or node
  is a failed record with its reason.
- A CUDA configuration asks for one GPU (Ray sets CUDA_VISIBLE_DEVICES, so it is cuda:0 inside) and
  meters it; a CPU configuration asks for the node's measuring slot (the custom resource RESOURCE, one
  per node: `ray start --resources '{"measure_slot": 1}'`), so no two measurements share a node's CPUs.
- Each node is probed once (environment, fingerprint, idle power, fault rate) by a task pinned to it,
  and every measurement is pinned to a node with room (NodeAffinitySchedulingStrategy), so that the
  driver knows which node runs what and hands each task its own node's probe.
- The measuring child (engine.executor.run_child) has the memory and timings of a local one, and
  the worker stops it at the configuration's timeout (engine.timeouts). A task still running
  CANCEL_GRACE_S after that (counted from its submission) is cancelled with force.
- The code must be importable on every node (the package installed there, the same version).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from engine.config import RunConfig
from engine.executor import MEASURE, ChildFailed, Slot, failed_record, run_child
from engine.record import Record
from engine.timeouts import timeout_s

RESOURCE = "measure_slot"
LOCAL_OBJECT_STORE_BYTES = 100 * 2**20  # tasks return small dicts; Ray's default is 30% of the memory
CANCEL_GRACE_S = 30.0  # past the timeout, a task whose worker did not stop its child itself is cancelled
NODES_POLL_S = 2.0  # how often the driver asks which nodes are alive


class RayUnavailable(Exception):
    """Ray cannot be used: not installed, no cluster, or no node that can measure. str(): one line."""


def _ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable(
            "--executor ray: Ray is not installed (pip install 'tradeoff-tui[ray]')"
        ) from None
    return ray


def _task(target: str, args: tuple, timeout: float | None) -> dict:
    """Worker side: run `module:function` in a child process of the worker, as the local executor does
    (so that its memory and timings are a measuring child's, not those of a process that holds Ray);
    its result, or its error with the failure's kind and the phase it was in."""
    os.environ.pop("OMP_NUM_THREADS", None)  # Ray's (the task's CPUs); torch's default, as a local child
    phase = ["start"]

    def message(kind: str, payload: Any) -> None:
        if kind == "phase":
            phase[0] = payload

    try:
        return {"result": run_child(target, args, timeout=timeout, on_message=message)}
    except ChildFailed as exc:
        return {"error": str(exc), "kind": exc.kind, "phase": phase[0]}


def _stderr_with_fd():
    """ray.init enables faulthandler on sys.stderr, which must then have a file descriptor: under the
    app, whose capture has none, it points at the null device meanwhile (left open: faulthandler keeps
    it) rather than at the terminal that the app draws on."""
    try:
        if sys.stderr.fileno() >= 0:
            return contextlib.nullcontext()
    except (AttributeError, OSError, ValueError):
        pass
    return contextlib.redirect_stderr(open(os.devnull, "w"))  # noqa: SIM115


@functools.cache
def _remote():
    return _ray().remote(max_retries=0)(_task)


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return text[:limit]


class RayExecutor:
    """Measurements as Ray tasks, as many at once as the cluster has slots (engine.executor.Executor)."""

    def __init__(
        self,
        address: str | None = None,
        *,
        timeout: float | None = None,
        target: str = MEASURE,
    ) -> None:
        self.ray = ray = _ray()
        self.timeout, self.target = timeout, target
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.owns = not ray.is_initialized()
        if self.owns:
            self._init()
        self.device = "cpu"
        self.nodes: dict[str, dict] = {}  # node id -> {"slot", "capacity", "name"}
        self.flying: dict[Any, tuple[Slot, RunConfig, int, float]] = {}
        self.cancelled: set = set()
        self.alive_at = 0.0

    def _init(self) -> None:
        # ray.init sets its own SIGTERM handler, from the main thread only (the app's worker is not)
        main = threading.current_thread() is threading.main_thread()
        handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM,)} if main else {}
        try:
            with _stderr_with_fd():
                self._connect()
        except Exception as exc:  # noqa: BLE001 - whatever Ray raises, one line
            where = f"at {self.address}" if self.address else "on this machine"
            raise RayUnavailable(
                f"--executor ray: cannot start or reach Ray {where}: {_first_line(exc)}"
            ) from None
        finally:
            for s, h in handlers.items():
                if h is not None:
                    signal.signal(s, h)

    def _connect(self) -> None:
        common = dict(log_to_driver=False, include_dashboard=False, configure_logging=False)
        if self.address:
            self.ray.init(address=self.address, **common)
        else:
            self.ray.init(
                address="local",
                resources={RESOURCE: 1},
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                **common,
            )

    def _options(self, node_id: str) -> dict:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        strategy = NodeAffinitySchedulingStrategy(node_id, soft=False)
        need = {"num_gpus": 1} if self.device == "cuda" else {"resources": {RESOURCE: 1}}
        return {"scheduling_strategy": strategy, **need}

    def _submit(self, node_id: str, target: str, args: tuple, timeout: float | None):
        return _remote().options(**self._options(node_id)).remote(target, args, timeout)

    def probe(self, device: str, threads: int, idle_s: float) -> list[Slot]:
        """Probe every alive node that can measure on `device`, once, at the same time."""
        self.device = "cuda" if device.startswith("cuda") else "cpu"
        need = "GPU" if self.device == "cuda" else RESOURCE
        nodes = [n for n in self.ray.nodes() if n["Alive"] and n["Resources"].get(need, 0) >= 1]
        if not nodes:
            what = (
                "a GPU"
                if need == "GPU"
                else f"""a measuring slot (ray start --resources '{{"{RESOURCE}": 1}}')"""
            )
            raise RayUnavailable(f"--executor ray: no node of the Ray cluster offers {what}")
        refs = {
            self._submit(n["NodeID"], "engine.executor:probe_job", (device, threads, idle_s), None): n
            for n in nodes
        }
        problems = []
        while refs:
            (ref,), _ = self.ray.wait(list(refs), num_returns=1)
            node = refs.pop(ref)
            name = f"{node['NodeManagerHostname']}:{node['NodeID'][:6]}"
            try:
                out = self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:
                out = {"error": _first_line(exc)}
            if "error" in out:
                problems.append(f"{name}: {out['error']}")
                continue
            slot = Slot(out["result"], node=name, ref=node["NodeID"])
            self.nodes[node["NodeID"]] = {"slot": slot, "capacity": int(node["Resources"][need])}
        if not self.nodes:
            raise ChildFailed("error", "; ".join(problems))
        return [n["slot"] for n in self.nodes.values()]

    def _alive(self) -> None:
        """Forget the nodes that died (their tasks in flight land as failures)."""
        if time.monotonic() - self.alive_at < NODES_POLL_S:
            return
        self.alive_at = time.monotonic()
        alive = {n["NodeID"] for n in self.ray.nodes() if n["Alive"]}
        for node_id in [i for i in self.nodes if i not in alive]:
            del self.nodes[node_id]

    def free(self) -> list[Slot]:
        """The slots of the nodes alive; ChildFailed once every node that could measure is gone."""
        self._alive()
        if not self.nodes:
            raise ChildFailed("crash", "every node of the Ray cluster that could measure was lost")
        busy: dict[str, int] = {}
        for slot, *_ in self.flying.values():
            busy[slot.ref] = busy.get(slot.ref, 0) + 1
        return [
            n["slot"]
            for node_id, n in self.nodes.items()
            for _ in range(n["capacity"] - busy.get(node_id, 0))
        ]

    def start(self, slot: Slot, config: RunConfig, pass_index: int, on_phase: Callable[[str], None]) -> None:
        args = (config.to_dict(), slot.env["idle_power_w"], slot.env.get("fault_s_per_byte"))
        timeout = timeout_s(config, self.timeout)
        ref = self._submit(slot.ref, self.target, args, timeout)
        self.flying[ref] = (slot, config, pass_index, time.monotonic() + timeout + CANCEL_GRACE_S)

    def landed(self, wait_s: float) -> list[tuple[Slot, RunConfig, int, Record | None]]:
        for ref, (*_, cancel_at) in self.flying.items():
            if ref not in self.cancelled and time.monotonic() > cancel_at:
                self.ray.cancel(ref, force=True)
                self.cancelled.add(ref)
        ready, _ = self.ray.wait(list(self.flying), num_returns=1, timeout=wait_s)
        out = []
        for ref in ready:
            slot, config, p, _ = self.flying.pop(ref)
            out.append((slot, config, p, self._record(ref, slot, config)))
        return out

    def _record(self, ref, slot: Slot, config: RunConfig) -> Record | None:
        """The task's record, a failed one that says why it has none, or None if it never ran."""
        exceptions = self.ray.exceptions
        try:
            out = self.ray.get(ref)
        except exceptions.TaskCancelledError:
            return failed_record(
                config,
                "start",
                "timeout",
                f"no result after {timeout_s(config, self.timeout) + CANCEL_GRACE_S:g} s; cancelled",
            )
        except exceptions.OutOfMemoryError as exc:
            return failed_record(
                config, "start", "oom", f"Ray's memory monitor killed the worker: {_first_line(exc)}"
            )
        except exceptions.TaskUnschedulableError:  # its node was gone before it started: not run
            self.alive_at = 0.0
            self._alive()
            return None
        except exceptions.NodeDiedError as exc:
            return failed_record(config, "start", "crash", f"node {slot.node} was lost: {_first_line(exc)}")
        except exceptions.RayError as exc:
            self.alive_at = 0.0
            self._alive()
            if slot.ref not in self.nodes:
                return failed_record(
                    config, "start", "crash", f"node {slot.node} was lost: {_first_line(exc)}"
                )
            if isinstance(exc, exceptions.WorkerCrashedError):
                return failed_record(config, "start", "crash", f"the worker process died: {_first_line(exc)}")
            return failed_record(config, "start", "error", f"{type(exc).__name__}: {_first_line(exc)}")
        if "error" in out:
            return failed_record(config, out["phase"], out["kind"], out["error"])
        return Record.from_dict(out["result"])

    def cancel(self) -> None:
        """Cancel the tasks in flight, with force: their workers are killed."""
        for ref in self.flying:
            self.ray.cancel(ref, force=True)
        self.flying.clear()

    def close(self) -> None:
        """Cancel what is in flight and stop the Ray started here, if it was."""
        self.cancel()
        if self.owns:
            self.ray.shutdown()
