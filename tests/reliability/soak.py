#!/usr/bin/python3
"""Soak test (`make soak`, not part of `make check`): random kill -9 of the
coordinator across `shotq run` (command mode), `shotq run --plugin` and
`shotq model`, each run resumed with --resume (killed again at random, then
resumed to completion). Per mode it measures:

  lost            tasks never done at the end of the run
  recomputed      tasks whose done event precedes a kill and that start again
                  after it (journal start/done events; command mode also the
                  append-only side-effect file each task writes)
  rerun_not_running  tasks run again after a kill that had run before it but
                  were not running at it (not among started-not-done)
  bad_segy        SEG-Y files under a final name that segyio cannot read
  survivors       processes of the killed run (tagged by an environment
                  variable) still alive 1 s after the kill

Kill times are random but reproducible (--seed). Exits 1 on any violation.
Usage: soak.py --build BUILD [--kills 50] [--seed 7] [--modes run,plugin,model]
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MODEL_INI = """[model]
nx = 30
ny = 6
nz = 20
dx = 10
dy = 10
dz = 10
vp = 1500,2500@100
[survey]
source_x = 20:270:25
source_y = 30
source_z = 10
receiver_x = 0:290:10
receiver_y = 30
receiver_z = 10
[modeling]
nt = 300
dt = 0.0016
fpeak = 10
boundary_width = 6
[output]
dir = shots
"""
MODEL_SHOTS = 11
NTASKS = 40


def events(path):
    """Complete journal lines (a torn last line is ignored, as resume does)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        return []
    out = []
    for line in data.split(b'\n')[:-1]:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append({})
    return out


def side_effects(path):
    try:
        with open(path) as f:
            return [int(x) for x in f.read().split('\n')[:-1] if x.strip().isdigit()]
    except FileNotFoundError:
        return []


def tagged_pids(tag):
    want = ('SHOTQ_SOAK_TAG=' + tag).encode()
    pids = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % d, 'rb') as f:
                if want in f.read().split(b'\0'):
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def bad_segy(outdir):
    import segyio
    bad = []
    if not os.path.isdir(outdir):
        return bad
    for name in sorted(os.listdir(outdir)):
        if '.tmp.' in name or not name.endswith('.sgy'):
            continue
        p = os.path.join(outdir, name)
        try:
            with segyio.open(p, 'r', ignore_geometry=True) as f:
                if f.tracecount <= 0:
                    raise ValueError('no traces')
                f.trace.raw[:]
        except Exception as e:  # any failure to read is a violation
            bad.append('%s (%s)' % (name, e))
    return bad


class Mode:
    def __init__(self, name, build, work):
        self.name, self.build, self.work = name, build, work
        self.shotq = os.path.join(build, 'shotq')

    def argv(self, rd, resume):
        extra = ['--resume'] if resume else []
        if self.name == 'run':
            ran = os.path.join(rd, 'ran.txt')
            return [self.shotq, 'run', '-q', '--devices', 'cpu:2', '--tasks', '0-%d' % (NTASKS - 1),
                    '--run-dir', os.path.join(rd, 'run')] + extra + [
                    '--', 'sh', '-c', 'echo {} >> %s; exec sleep 0.2' % ran, 'shotq-soak']
        if self.name == 'plugin':
            return [self.shotq, 'run', '-q', '--devices', 'cpu:2', '--slots', '2', '--tasks',
                    '0-%d' % (NTASKS - 1), '--run-dir', os.path.join(rd, 'run'), '--plugin',
                    os.path.join(self.build, 'example_plugin.so'), '--plugin-config',
                    'sleep=0.1'] + extra
        return [self.shotq, 'model', os.path.join(rd, 'job.ini'), '-q', '--devices', 'cpu:2',
                '--run-dir', os.path.join(rd, 'run')] + extra

    def ntasks(self):
        return MODEL_SHOTS if self.name == 'model' else NTASKS

    def kill_window(self):
        return (0.3, 3.0) if self.name == 'model' else (0.2, 2.5)


def analyse_kill(jprefix, jall, sprefix, sall):
    """Per-kill counts from the journal (and side-effect file) at the kill and at the end."""
    done_before = {e.get('task') for e in jprefix if e.get('ev') == 'done'}
    started_before = {e.get('task') for e in jprefix if e.get('ev') == 'start'}
    ended_before = {e.get('task') for e in jprefix if e.get('ev') in ('done', 'fail')}
    ran_before = started_before | set(sprefix)
    running = ran_before - ended_before
    started_after = {e.get('task') for e in jall[len(jprefix):] if e.get('ev') == 'start'}
    started_after |= set(sall[len(sprefix):])
    recomputed = done_before & started_after
    rerun_not_running = (ran_before & started_after) - running
    return len(running), recomputed, rerun_not_running


def soak_mode(mode, kills, rng, stats, deadline):
    n_run = 0
    while stats['kills'] < kills and time.time() < deadline:
        n_run += 1
        rd = os.path.join(mode.work, '%s-%d' % (mode.name, n_run))
        os.makedirs(rd)
        if mode.name == 'model':
            with open(os.path.join(rd, 'job.ini'), 'w') as f:
                f.write(MODEL_INI)
        jpath = os.path.join(rd, 'run', 'journal')
        spath = os.path.join(rd, 'ran.txt')
        snaps = []
        resume = False
        kills_this_run = rng.randint(1, 3)
        complete = False
        for attempt in range(kills_this_run + 1):
            last = attempt == kills_this_run or stats['kills'] >= kills
            tag = '%s-%d-%d-%d' % (mode.name, os.getpid(), n_run, attempt)
            env = dict(os.environ, SHOTQ_SOAK_TAG=tag, OMP_NUM_THREADS='1')
            p = subprocess.Popen(mode.argv(rd, resume), cwd=rd, env=env, stdout=subprocess.DEVNULL,
                                 stderr=open(os.path.join(rd, 'err.%d' % attempt), 'w'),
                                 start_new_session=True)
            if last:
                rc = p.wait(timeout=300)
                if rc != 0:
                    stats['failed_resumes'] += 1
                    print('  %s: final invocation exit %d (%s)' % (rd, rc, open(
                        os.path.join(rd, 'err.%d' % attempt)).read().strip()[:200]))
                complete = True
                break
            t = rng.uniform(*mode.kill_window())
            try:
                rc = p.wait(timeout=t)
                complete = rc == 0  # finished before the kill: no kill this time
                if rc != 0:
                    stats['failed_resumes'] += 1
                break
            except subprocess.TimeoutExpired:
                pass
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            stats['kills'] += 1
            snaps.append((events(jpath), side_effects(spath)))
            time.sleep(1.0)
            surv = tagged_pids(tag)
            stats['survivors'] += len(surv)
            for pid in surv:  # clean up what we started so the next kill is not disturbed
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            stats['bad_segy'] += len(bad_segy(os.path.join(rd, 'shots')))
            resume = True
        if not complete:
            continue
        jall, sall = events(jpath), side_effects(spath)
        done = {e.get('task') for e in jall if e.get('ev') == 'done'}
        stats['lost'] += len(set(range(mode.ntasks())) - done)
        for jp, sp in snaps:
            running, rec, rnr = analyse_kill(jp, jall, sp, sall)
            stats['running_at_kill'] += running
            stats['recomputed'] += len(rec)
            stats['rerun_not_running'] += len(rnr)
        if mode.name == 'run':  # executions beyond one per task, from the side-effect file
            stats['extra_executions'] += len(sall) - len(set(sall))
        b = bad_segy(os.path.join(rd, 'shots'))
        stats['bad_segy'] += len(b)
        stats['runs'] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default='build')
    ap.add_argument('--kills', type=int, default=50)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--modes', default='run,plugin,model')
    ap.add_argument('--budget', type=float, default=540, help='seconds for the whole soak')
    ap.add_argument('--json', help='write the per-mode numbers here')
    ap.add_argument('--keep', action='store_true', help='keep the work directory')
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    modes = a.modes.split(',')
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix='shotq-soak-')
    start = time.time()
    results = {}
    violations = 0
    per = [a.kills // len(modes) + (1 if i < a.kills % len(modes) else 0) for i in range(len(modes))]
    for i, name in enumerate(modes):
        stats = dict(kills=0, runs=0, lost=0, recomputed=0, rerun_not_running=0, bad_segy=0,
                     survivors=0, running_at_kill=0, failed_resumes=0, extra_executions=0)
        deadline = start + a.budget * (i + 1) / len(modes)
        t0 = time.time()
        soak_mode(Mode(name, build, work), per[i], rng, stats, deadline)
        stats['seconds'] = round(time.time() - t0, 1)
        bad = (stats['lost'] + stats['recomputed'] + stats['rerun_not_running'] + stats['bad_segy'] +
               stats['survivors'] + stats['failed_resumes'])
        if stats['kills'] < per[i]:
            print('%s: only %d of %d kills within the time budget' % (name, stats['kills'], per[i]))
            bad += 1
        stats['ok'] = bad == 0
        violations += bad
        results[name] = stats
        print('%-7s kills=%-3d runs=%-3d lost=%-3d recomputed=%-3d rerun_not_running=%-3d '
              'bad_segy=%-2d survivors=%-3d (running at kills: %d, failed resumes: %d, '
              'extra executions: %d, %.0f s) %s' % (
                  name, stats['kills'], stats['runs'], stats['lost'], stats['recomputed'],
                  stats['rerun_not_running'], stats['bad_segy'], stats['survivors'],
                  stats['running_at_kill'], stats['failed_resumes'], stats['extra_executions'],
                  stats['seconds'], 'OK' if stats['ok'] else 'VIOLATION'), flush=True)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(seed=a.seed, results=results), f, indent=1)
    if a.keep:
        print('work directory:', work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    print('soak: %s (seed %d, %.0f s)' % ('PASS' if violations == 0 else 'FAIL', a.seed,
                                         time.time() - start))
    return 0 if violations == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
