#!/usr/bin/env python3
"""Start-up cost of two builds of the CLI, runs alternated (A, B, A, B, ...) so both see the same machine load.

Usage: compare.py DIR_A DIR_B [ROUNDS]   (each DIR holds a duckton.dll; e.g. an IL build and the ReadyToRun publish)
Per build and figure, the median over ROUNDS of: `dotnet duckton.dll --version` and
`dotnet duckton.dll sql -c "SELECT 42"` (wall, and user + system CPU of the process from wait4), and a sandbox
worker from spawn to its first finished job (worker_first_job.py next to this script). Prints the load average too.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {argv}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def worker(dll):
    out = subprocess.run([sys.executable, os.path.join(HERE, "worker_first_job.py"), dll], check=True,
                         capture_output=True, text=True).stdout.split()
    return [float(x) for x in out]


def main():
    dirs = sys.argv[1:3]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    figures = {d: {} for d in dirs}
    print("load average at start:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for _ in range(rounds):
        for d in dirs:
            dll = os.path.join(d, "duckton.dll")
            f = figures[d]
            for name, value in zip(("--version wall", "--version CPU"), run(["dotnet", dll, "--version"])):
                f.setdefault(name, []).append(value)
            for name, value in zip(("sql -c wall", "sql -c CPU"), run(["dotnet", dll, "sql", "-c", "SELECT 42"])):
                f.setdefault(name, []).append(value)
            for name, value in zip(("worker ready", "worker first job done", "worker second job", "worker CPU (2 jobs)"),
                                   worker(dll)):
                f.setdefault(name, []).append(value)
    print("load average at end:  ", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"median of {rounds} alternated rounds, ms")
    print(f"{'figure':<24}" + "".join(f"{os.path.basename(os.path.normpath(d)):>14}" for d in dirs) + "     B/A")
    for name in figures[dirs[0]]:
        a, b = (statistics.median(figures[d][name]) for d in dirs)
        print(f"{name:<24}{a:>14.1f}{b:>14.1f}{b / a:>8.2f}")


if __name__ == "__main__":
    main()
