"""Tasks on several devices at once (issue 9 item 5): gpus=N and cpus=N.

Mixed workloads of 2-GPU and 1-GPU tasks on 4 simulated GPUs, in `shotq
simulate` and in a live `shotq run`: every 2-GPU task gets two distinct
devices of one node, no device runs two tasks at once (from the report's
intervals), and the makespan is within 10 % of the optimum that an exact
solver below computes. The live run's makespan is taken from its schedule
replayed with the true durations (its decisions, without the noise of
process start times), so nothing here depends on the machine's speed.
Then the environment: CUDA_VISIBLE_DEVICES lists the group's UUIDs (fake
NVML GPUs), SHOTQ_DEVICES_ASSIGNED the device indices, cpus=N sets
OMP_NUM_THREADS and the affinity; and the refusals (exit 2).
"""
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction

SHOTQ = os.environ["SHOTQ"]
SRC = os.environ["SHOTQ_SRC"]


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def optimum(tasks, m, ub):
    """Exact makespan of rigid tasks (duration, devices) on m identical
    devices: branch and bound over semi-active schedules (at time 0 and at each
    completion any set of pending tasks that fits may start; some optimal
    schedule is of this form), equal tasks counted as one type so that no two
    branches differ only in which of them starts. ub: a known makespan."""
    types = sorted(set(tasks), key=lambda x: -x[0] * x[1])
    best = [ub]
    seen = {}

    def starts(i, free, cnt):
        if i == len(types):
            yield ()
            return
        for c in range(min(cnt[i], free // types[i][1]), -1, -1):
            for rest in starts(i + 1, free - c * types[i][1], cnt):
                yield (c,) + rest

    def dfs(t, cnt, running):
        area = sum(r * sz for r, sz in running) + sum(
            c * d * sz for c, (d, sz) in zip(cnt, types))
        lb = t + max([area / m] + [r for r, _ in running] +
                     [d for c, (d, _) in zip(cnt, types) if c])
        if lb >= best[0]:
            return
        if not any(cnt):
            best[0] = t + max(r for r, _ in running)
            return
        if seen.get((cnt, running), t + 1) <= t:
            return
        seen[(cnt, running)] = t
        free = m - sum(sz for _, sz in running)
        for S in starts(0, free, cnt):
            if not any(S) and not running:
                continue
            run = list(running) + [ty for c, ty in zip(S, types) for _ in range(c)]
            rest = tuple(a - b for a, b in zip(cnt, S))
            if not any(rest):
                best[0] = min(best[0], t + max(r for r, _ in run))
                continue
            step = min(r for r, _ in run)
            dfs(t + step, rest,
                tuple(sorted((r - step, sz) for r, sz in run if r > step)))

    dfs(0, tuple(tasks.count(ty) for ty in types), ())
    return best[0]


def instances(seed=7, count=3, nmin=10, nmax=12):
    """Mixed workloads: nmin-nmax tasks, a third of them on 2 GPUs, lengths 1-6."""
    rng = random.Random(seed)
    for _ in range(count):
        tasks = []
        for _ in range(rng.randint(nmin, nmax)):
            k = rng.choice([1, 1, 2])
            tasks.append((rng.randint(1, 6) * k, k))  # (weight, gpus)
        yield tasks


def write_tasks(path, tasks, unit=None):
    with open(path, "w") as f:
        for i, (w, k) in enumerate(tasks):
            arg = f" {w / k * unit:.6f}" if unit else ""
            f.write(f"{i} weight={w} gpus={k}{arg}\n")


def check_schedule(sched, tasks, what):
    """Every task ran on its number of distinct devices, no device twice at
    once. sched: id -> (devices, start, end)."""
    for i, (w, k) in enumerate(tasks):
        devs, start, end = sched[i]
        if len(devs) != k or len(set(devs)) != k or not all(0 <= d < 4 for d in devs):
            fail(f"{what}: task {i} (gpus={k}) ran on {devs}")
    for i, j in itertools.combinations(range(len(tasks)), 2):
        (di, si, ei), (dj, sj, ej) = sched[i], sched[j]
        if set(di) & set(dj) and not (ei <= sj or ej <= si):
            fail(f"{what}: tasks {i} {sched[i]} and {j} {sched[j]} overlap on a device")


def replay(sched, tasks):
    """The makespan of the schedule's decisions with the true durations: per
    device the tasks in their order, each starting when all its devices are
    done with the previous ones."""
    order = sorted(range(len(tasks)), key=lambda i: (sched[i][1], i))
    free = [Fraction(0)] * 4
    end = Fraction(0)
    for i in order:
        devs = sched[i][0]
        start = max(free[d] for d in devs)
        fin = start + Fraction(tasks[i][0], tasks[i][1])
        for d in devs:
            free[d] = fin
        end = max(end, fin)
    return end


def run(args, **kw):
    return subprocess.run([SHOTQ] + args, capture_output=True, text=True, **kw)


def main():
    work = tempfile.mkdtemp(prefix="shotq-wide.")
    try:
        os.chdir(work)
        env = dict(os.environ)
        for k in ("SHOTQ_DEVICES", "CUDA_VISIBLE_DEVICES"):
            env.pop(k, None)
        for n, tasks in enumerate(instances()):
            opt_ub = Fraction(10**6)
            opt = optimum([(Fraction(w, k), k) for w, k in tasks], 4, opt_ub)
            # shotq simulate
            write_tasks("t.txt", tasks)
            p = run(["simulate", "--devices", "sim:g:1x4", "--tasks-file", "t.txt",
                     "--json", "--schedule", "s.json"], env=env)
            if p.returncode != 0:
                fail(f"simulate: {p.stderr}")
            ms = json.loads(p.stdout)["makespan_s"]
            sched = {t["id"]: (t["devices"], t["start_s"], t["end_s"])
                     for t in json.load(open("s.json"))["tasks"]}
            check_schedule(sched, tasks, f"simulate {n}")
            print(f"instance {n}: {len(tasks)} tasks, optimum {float(opt):g}, "
                  f"simulate {ms:g} ({ms / float(opt):.3f})")
            if ms > 1.10 * float(opt) + 1e-9:
                fail(f"simulate {n}: makespan {ms} > 1.1 x optimum {float(opt)}: {tasks}")
            # shotq run on sim devices: a task sleeps its length x 0.15 s
            write_tasks("live.txt", tasks, unit=0.15)
            p = run(["run", "-q", "--devices", "sim:g:1x4", "--tasks-file", "live.txt",
                     "--run-dir", f"r{n}", "--", "sleep"], env=env)
            if p.returncode != 0:
                fail(f"run: {p.stderr}")
            rep = json.load(open(f"r{n}/report.json"))
            sched = {t["id"]: (t["devices"], t["start_s"], t["end_s"])
                     for t in rep["tasks"]}
            check_schedule(sched, tasks, f"run {n}")
            rp = replay(sched, tasks)
            print(f"  run: replayed {float(rp):g} ({float(rp / opt):.3f}), measured "
                  f"{rep['makespan_s'] / 0.15:.2f} units")
            if rp > Fraction(11, 10) * opt:
                fail(f"run {n}: replayed makespan {float(rp)} > 1.1 x optimum {float(opt)}")
            wide = [json.loads(l) for l in open(f"r{n}/journal")
                    if '"ev":"done"' in l and '"devs"' in l]
            if len(wide) != sum(1 for _, k in tasks if k == 2) or any(
                    len(e["devs"]) != 2 for e in wide):
                fail(f"run {n}: journal done events lack the devices: {wide}")
        check_env(env)
        check_refusals(env)
    finally:
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)
    print("ok")


def check_env(env):
    """What a group's task sees."""
    script = ("echo \"$SHOTQ_TASK|$CUDA_VISIBLE_DEVICES|$SHOTQ_DEVICES_ASSIGNED|"
              "${OMP_NUM_THREADS:-}|${SHOTQ_CPU_AFFINITY:-}|"
              "$(grep Cpus_allowed_list /proc/self/status | cut -f2)\" >> env.txt")
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc:
        lib = os.path.abspath("libfake-nvml.so")
        subprocess.run([cc, "-shared", "-fPIC", "-o", lib,
                        f"{SRC}/tests/data/nvsmi/fake-nvml.c"], check=True)
        e = dict(env, SHOTQ_NVML_LIB=lib, FAKE_NVML_PROCS=os.path.abspath("procs"))
        os.mkdir("procs")
        with open("g.txt", "w") as f:
            f.write("0 gpus=2\n1\n")
        p = run(["run", "-q", "--devices", "0,1", "--tasks-file", "g.txt", "--run-dir",
                 "g", "--", "sh", "-c", script], env=e)
        if p.returncode != 0:
            fail(f"gpu run: {p.stderr}")
        got = sorted(open("env.txt").read().split("\n")[:-1])
        uuids = "GPU-5b9a1d3e-7c2f-4a8e-9f1b-2d6c8e4a7b10,GPU-1c7e9a4f-2d8b-4f3c-b6e1-9a5d2c7f4e32"
        if got[0].split("|")[:3] != ["0", uuids, "0,1"] or \
                got[1].split("|")[2] not in ("0", "1") or \
                got[1].split("|")[1] not in uuids.split(","):
            fail(f"gpu env: {got}")
        os.unlink("env.txt")
    else:
        print("note: no C compiler: fake NVML part skipped")
    # shotq status shows the running 2-device task on both its devices.
    with open("s.txt", "w") as f:
        f.write("5 gpus=2\n")
    p = run(["run", "-q", "--devices", "sim:g:1x2", "--tasks-file", "s.txt", "--run-dir",
             "st", "--gantt", "st.svg", "--", "sh", "-c",
             'sleep 1.2; "$0" status --json "$SHOTQ_RUN_DIR" > st.json', SHOTQ], env=env)
    st = json.load(open("st.json"))
    if p.returncode != 0 or [d["running"] for d in st["state"]["devices"]] != [[5], [5]]:
        fail(f"status of a 2-device task: {p.stderr} {st}")
    if open("st.svg").read().count("<title>task 5:") != 2:
        fail("the Gantt chart does not show the 2-device task on both devices")
    with open("c.txt", "w") as f:
        f.write("0 cpus=2\n")
    p = run(["run", "-q", "--devices", "cpu:2", "--tasks-file", "c.txt", "--run-dir", "c",
             "--", "sh", "-c", script], env=env)
    if p.returncode != 0:
        fail(f"cpu run: {p.stderr}")
    f = open("env.txt").read().strip().split("|")
    aff = f[4]
    want = set()
    for part in f[5].split(","):
        a, _, b = part.partition("-")
        want |= set(range(int(a), int(b or a) + 1))
    if f[3] != str(len(aff.split(","))) or set(map(int, aff.split(","))) != want:
        fail(f"cpu env: {f}")


def check_refusals(env):
    cases = [
        (["--devices", "sim:g:1x4", "--tasks", "0-3", "--gpus-per-task", "5"],
         "task 0: runs on 5 devices at once (gpus=, cpus= or --gpus-per-task); "
         "expected at most 4 (the devices of the largest node)"),
        (["--devices", "sim:g:1x4", "--tasks", "0-3", "--gpus-per-task", "2",
          "--policy", "static"],
         "task 0: runs on 2 devices at once (gpus=, cpus= or --gpus-per-task); "
         "expected --policy dynamic"),
    ]
    for args, msg in cases:
        p = run(["run", "-q"] + args + ["--run-dir", "x", "--", "true"], env=env)
        if p.returncode != 2 or msg not in p.stderr:
            fail(f"{args}: exit {p.returncode}: {p.stderr}")
    for line, msg in [("0 gpus=65", "bad.txt:1: column 3: expected gpus=N with N from 1 to 64"),
                      ("0 gpus=8", "task 0: gpus=8 but no node has more than 4 devices")]:
        with open("bad.txt", "w") as f:
            f.write(line + "\n")
        p = run(["simulate", "--devices", "sim:g:1x4", "--tasks-file", "bad.txt"], env=env)
        if p.returncode != 2 or msg not in p.stderr:
            fail(f"simulate {line}: exit {p.returncode}: {p.stderr}")

def sweep(seed, count, nmin, nmax):
    """For docs/benchmarks.md: simulate vs the optimum on random workloads
    (python3 test_run_wide.py --sweep SEED COUNT NMIN NMAX)."""
    work = tempfile.mkdtemp(prefix="shotq-wide.")
    worst = 0
    for tasks in instances(seed, count, nmin, nmax):
        write_tasks(os.path.join(work, "t.txt"), tasks)
        p = run(["simulate", "--devices", "sim:g:1x4", "--tasks-file",
                 os.path.join(work, "t.txt"), "--json"], check=True)
        ms = json.loads(p.stdout)["makespan_s"]
        opt = optimum([(Fraction(w, k), k) for w, k in tasks], 4, Fraction(10**6))
        worst = max(worst, ms / float(opt))
        print(len(tasks), ms, float(opt), round(ms / float(opt), 3))
    print("worst", round(worst, 3))
    shutil.rmtree(work, ignore_errors=True)


if sys.argv[1:2] == ["--sweep"]:
    sweep(*map(int, sys.argv[2:6]))
else:
    main()
