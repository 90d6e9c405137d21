#!/usr/bin/env python3
"""Context switches and CPU per thread name of every duckton process, by role, over an interval.

Run it while `duckton bench grid --small-only --runs 200000` (or any grid) is busy:
    bench/grid-profile/switches.py 10
Roles come from the command lines: the bench (requester), `host` processes (the SIMULATED staller apart) and their
`sandbox-worker` processes. Thread names are the runtime's (".NET TP Worker", ".NET Sockets", ".NET Timer", ...) with
digits folded, so a pool's threads add up. Voluntary switches are a thread going to sleep (it waits for something);
involuntary ones are a thread preempted by another that became runnable.
"""
import collections
import os
import re
import sys
import time


def roles():
    found = {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            args = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\0', b' ').decode()
        except OSError:
            continue
        if 'duckton' not in args:
            continue
        if 'bench grid' in args:
            found[int(pid)] = 'requester'
        elif ' host ' in args:
            found[int(pid)] = 'staller' if 'staller' in args else 'host'
        elif 'sandbox-worker' in args:
            found[int(pid)] = 'worker'
    return found


def snapshot(processes):
    threads = {}
    for pid, role in processes.items():
        try:
            tids = os.listdir(f'/proc/{pid}/task')
        except OSError:
            continue
        for tid in tids:
            try:
                name = open(f'/proc/{pid}/task/{tid}/comm').read().strip()
                status = open(f'/proc/{pid}/task/{tid}/status').read()
                stat = open(f'/proc/{pid}/task/{tid}/stat').read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            voluntary = int(status.split('\nvoluntary_ctxt_switches:')[1].split()[0])
            involuntary = int(status.split('nonvoluntary_ctxt_switches:')[1].split()[0])
            threads[(pid, tid)] = (role, re.sub(r'\d+', '#', name), voluntary, involuntary, int(stat[11]) + int(stat[12]))
    return threads


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    processes = roles()
    if not processes:
        sys.exit('no duckton processes found')
    before = snapshot(processes)
    started = time.time()
    time.sleep(seconds)
    after = snapshot(processes)
    elapsed = time.time() - started
    totals = collections.defaultdict(lambda: [0, 0, 0])
    for key, (role, name, voluntary, involuntary, ticks) in after.items():
        if key in before:
            _, _, v0, i0, t0 = before[key]
            row = totals[(role, name)]
            row[0] += voluntary - v0
            row[1] += involuntary - i0
            row[2] += ticks - t0
    print(f'{"role":10s} {"thread":18s} {"voluntary/s":>12s} {"involuntary/s":>14s} {"CPU %":>6s}')
    for (role, name), (voluntary, involuntary, ticks) in sorted(totals.items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
        if voluntary + involuntary + ticks > 0:
            print(f'{role:10s} {name:18s} {voluntary / elapsed:12.0f} {involuntary / elapsed:14.0f} {ticks / elapsed:6.1f}')


if __name__ == '__main__':
    main()
