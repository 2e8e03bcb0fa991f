#!/usr/bin/env python3
"""bench/sched/peers.py: issue 12's scheduling workloads in real time, shotq
beside its peers, on simulated devices (a task sleeps SCALE x cost / speed of
the device it got). Run through bench/sched/peers.sh, which makes the virtual
environment with the peers; not part of `make check` or of the product.

  peers.py SHOTQ WORKLOAD SEED SCALE SCHEDULER...

SCHEDULER: shotq, shotq-spec (--speculate), shotq-plugin and
shotq-plugin-spec (the same in plugin mode: in-process tasks, as Ray and Dask
run theirs), shotq-costs (a second run with --costs-from the first; its time), parallel (GNU parallel, slot k = device k),
sgs (simple-gpu-scheduler), ray (one GPU per task, Ray's default fresh worker
per GPU task), ray-reuse (max_calls=0), dask (distributed, one 1-thread
worker per device).

WORKLOAD: heavy (200 lognormal(0, 1) costs, unknown: every scheduler sees unit
tasks), heavyw (the same, shotq given the true costs as weights), equal (30
unit tasks), slowdown (40 unit tasks; device 0 runs at 10 % from 0.5 x SCALE
s), straggler (40 unit tasks, one costs 10x, position by seed).
Devices: heavy* 8 of speeds 1,1,1,1,0.5,0.5,0.25,0.25; equal 1,1,0.4,0.4;
slowdown and straggler 4 of speed 1.
Prints one line per scheduler: NAME WORKLOAD SEED makespan_s bound_s ratio,
where bound is the exact optimum or a tight lower bound computed here
(max(sum c / sum s, max c / max s) x SCALE; the slowdown and straggler
optima are exact for their instances)."""
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time


def workload(name, seed):
    """(costs, speeds, slowdown) for a workload; slowdown = (dev, t, factor) or None."""
    r = random.Random(seed)
    if name in ("heavy", "heavyw"):
        return [r.lognormvariate(0, 1) for _ in range(200)], [1, 1, 1, 1, .5, .5, .25, .25], None
    if name == "equal":
        return [1.0] * 30, [1, 1, .4, .4], None
    if name == "slowdown":
        return [1.0] * 40, [1, 1, 1, 1], (0, 0.5, 0.1)
    if name == "straggler":
        k = (seed * 7) % 40
        return [10.0 if i == k else 1.0 for i in range(40)], [1, 1, 1, 1], None
    raise SystemExit(f"unknown workload {name}")


def bound(costs, speeds, slow):
    if slow:
        # 40 unit tasks on 4 devices, device 0 slowed to 10 % at 0.5: it ends
        # its first task at 5.5; the others carry 39 tasks -> 13 (exact).
        return 13.0
    if max(costs) > 1 and costs.count(1.0) == len(costs) - 1 and len(set(speeds)) == 1:
        # One long task among unit tasks on equal devices (exact): its device
        # also runs k unit tasks, the other m - 1 devices the rest.
        n, m, big = len(costs) - 1, len(speeds), max(costs)
        return min(max(big + k, math.ceil((n - k) / (m - 1))) for k in range(n + 1))
    if len(set(costs)) == 1:
        # Equal tasks: the best integer split over the speeds (exact).
        n, c = len(costs), costs[0]
        lo, hi = 0.0, n * c / min(speeds)
        for _ in range(100):
            mid = (lo + hi) / 2
            if sum(math.floor(mid * s / c + 1e-9) for s in speeds) >= n:
                hi = mid
            else:
                lo = mid
        return hi
    return max(sum(costs) / sum(speeds), max(costs) / max(speeds))


def duration(cost, speed, dev, t0, slow, scale):
    """Seconds a task of cost started at t0 (seconds into the run) takes on dev."""
    if not slow or dev != slow[0]:
        return scale * cost / speed
    work = cost / speed  # in unscaled seconds at full speed
    t0 /= scale
    if t0 >= slow[1]:
        return scale * work / slow[2]
    before = slow[1] - t0
    if work <= before:
        return scale * work
    return scale * (before + (work - before) / slow[2])


# The task every command-line scheduler runs (peer_task.sh beside this file).
TASK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_task.sh")


def task_args(t0, slow, scale, speeds):
    """TASK's arguments after the cost and the device."""
    slowarg = ",".join(str(x) for x in slow) if slow else "-"
    return [str(t0), slowarg, str(scale), ",".join(str(s) for s in speeds)]


def run_shotq(shotq, name, costs, speeds, slow, scale, work, extra=()):
    spec = ",".join(f"d{i}:{s}" for i, s in enumerate(speeds))
    tasks = os.path.join(work, "tasks")
    with open(tasks, "w") as f:
        for i, c in enumerate(costs):
            f.write(f"{i} weight={c} {c}\n" if name == "heavyw" else f"{i} {c}\n")
    t0 = time.time()
    rd = os.path.join(work, f"run-{time.time_ns()}")
    subprocess.run([shotq, "run", "-q", "--devices", "sim:" + spec, "--tasks-file", tasks,
                    "--run-dir", rd] + list(extra) + ["--", TASK, "{args}", "{device}"]
                   + task_args(t0, slow, scale, speeds), check=True)
    run_shotq.last = rd
    return json.load(open(os.path.join(rd, "report.json")))["makespan_s"]


def run_shotq_plugin(shotq, name, costs, speeds, slow, scale, work, extra=()):
    """shotq's plugin mode (in-process tasks in persistent workers, as Ray and
    Dask run them): the example plugin sleeps scale x cost / speed."""
    spec = ",".join(f"d{i}:{s}" for i, s in enumerate(speeds))
    tasks = os.path.join(work, "tasks")
    with open(tasks, "w") as f:
        for i, c in enumerate(costs):
            f.write(f"{i} weight={c} cost={c}\n" if name == "heavyw" else f"{i} cost={c}\n")
    plugin = os.path.join(os.path.dirname(shotq), "example_plugin.so")
    rd = os.path.join(work, f"run-{time.time_ns()}")
    subprocess.run([shotq, "run", "-q", "--devices", "sim:" + spec, "--tasks-file", tasks,
                    "--run-dir", rd, "--plugin", plugin, "--plugin-config", f"sleep={scale}"]
                   + list(extra), check=True)
    return json.load(open(os.path.join(rd, "report.json")))["makespan_s"]


def run_shotq_costs(shotq, name, costs, speeds, slow, scale, work):
    """A first run, then a second with --costs-from the first: the second's time."""
    run_shotq(shotq, name, costs, speeds, slow, scale, work)
    return run_shotq(shotq, name, costs, speeds, slow, scale, work,
                     ["--costs-from", run_shotq.last])


def run_parallel(costs, speeds, slow, scale, work):
    """GNU parallel -j N: job slot k is device k."""
    t0 = time.time()
    rest = " ".join(task_args(t0, slow, scale, speeds))
    cmd = f"{TASK} {{}} $(({{%}}-1)) {rest}"
    subprocess.run(["parallel", "-j", str(len(speeds)), cmd],
                   input="\n".join(str(c) for c in costs), text=True, check=True)
    return time.time() - t0


def run_sgs(costs, speeds, slow, scale, work):
    """simple-gpu-scheduler: one command per task, CUDA_VISIBLE_DEVICES = its GPU."""
    t0 = time.time()
    rest = " ".join(task_args(t0, slow, scale, speeds))
    lines = [f"{TASK} {c} $CUDA_VISIBLE_DEVICES {rest}" for c in costs]
    exe = os.path.join(os.path.dirname(sys.executable), "simple_gpu_scheduler")
    subprocess.run([exe, "--gpus"] + [str(i) for i in range(len(speeds))],
                   input="\n".join(lines) + "\n", text=True, check=True,
                   stdout=subprocess.DEVNULL)
    return time.time() - t0


def run_ray(costs, speeds, slow, scale, work, reuse=False):
    """Ray: one task per shot asking for one (fake) GPU; Ray assigns the GPU id.
    Ray's default for GPU tasks is a fresh worker process per task
    (max_calls=1); reuse=True keeps workers (max_calls=0)."""
    import ray
    ray.init(num_cpus=len(speeds), num_gpus=len(speeds), include_dashboard=False,
             log_to_driver=False, logging_level="ERROR")

    @ray.remote(num_gpus=1, num_cpus=0, max_calls=0 if reuse else 1)
    def task(c, t0):
        d = int(ray.get_gpu_ids()[0])
        time.sleep(duration(c, speeds[d], d, time.time() - t0, slow, scale))

    @ray.remote(num_gpus=1, num_cpus=0, max_calls=0 if reuse else 1)
    def warm():
        time.sleep(2)

    ray.get([warm.remote() for _ in speeds])  # one live worker per GPU before timing
    t0 = time.time()
    ray.get([task.remote(c, t0) for c in costs])
    t = time.time() - t0
    ray.shutdown()
    return t


def run_dask(costs, speeds, slow, scale, work):
    """Dask distributed: one single-threaded worker per device."""
    from dask.distributed import Client, LocalCluster, get_worker
    cluster = LocalCluster(n_workers=len(speeds), threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    client = Client(cluster)
    names = {addr: i for i, addr in enumerate(sorted(client.scheduler_info()["workers"]))}

    def task(c, t0, names):
        d = names[get_worker().address]
        time.sleep(duration(c, speeds[d], d, time.time() - t0, slow, scale))

    t0 = time.time()
    futs = client.map(task, costs, t0=t0, names=names, pure=False)
    client.gather(futs)
    t = time.time() - t0
    client.close()
    cluster.close()
    return t


def main():
    shotq, name, seed, scale = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    costs, speeds, slow = workload(name, seed)
    lb = bound(costs, speeds, slow) * scale
    work = tempfile.mkdtemp()
    try:
        for sched in sys.argv[5:]:
            try:
                if sched == "shotq":
                    t = run_shotq(shotq, name, costs, speeds, slow, scale, work)
                elif sched == "shotq-spec":
                    t = run_shotq(shotq, name, costs, speeds, slow, scale, work,
                                  ["--speculate"])
                elif sched in ("shotq-plugin", "shotq-plugin-spec"):
                    if slow:
                        raise ValueError("the example plugin has no time-dependent slowdown")
                    t = run_shotq_plugin(shotq, name, costs, speeds, slow, scale, work,
                                         ["--speculate"] if sched.endswith("spec") else [])
                elif sched == "shotq-costs":
                    t = run_shotq_costs(shotq, name, costs, speeds, slow, scale, work)
                else:
                    run = {"parallel": run_parallel, "sgs": run_sgs, "ray": run_ray,
                           "ray-reuse": lambda *a: run_ray(*a, reuse=True),
                           "dask": run_dask}[sched]
                    t = run(costs, speeds, slow, scale, work)
            except Exception as e:  # a peer that cannot run is reported, not fatal
                print(f"{sched} {name} {seed} error {type(e).__name__}: {e}", flush=True)
                continue
            print(f"{sched} {name} {seed} {t:.3f} {lb:.3f} {t / lb:.4f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
