#!/usr/bin/env python3
"""Times a sandbox worker from spawn to its first finished job, the way a host starts one.

Usage: worker_first_job.py DUCKTON_DLL [SQL] [JOBS] [GAP_MS]
Starts `dotnet DUCKTON_DLL sandbox-worker` (1 thread, 1 GiB), waits for its Ready frame, sends one Query frame and
reads frames up to Done, then a second job on the same worker (warm), then closes stdin and reaps the worker.
Prints one line: ready_ms first_done_ms second_job_ms worker_cpu_ms (user + system of the worker, from wait4).
With JOBS, the same worker then runs JOBS more jobs and the line ends with the worker's CPU per job (ms) over the
last half of them (from /proc/PID/stat), its steady state. With GAP_MS, this script sleeps that long before each of
those jobs, as a host's worker waits between the jobs of a grid (other processes run meanwhile, if any are busy).
Frames: one type byte, a u32 little-endian payload length, the payload (src/Duckton.Node/Grid/Execution/SandboxPipe.cs).
"""
import os
import struct
import subprocess
import sys
import tempfile
import time


def read_exact(f, n):
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            raise SystemExit("worker ended early")
        buf += chunk
    return buf


def read_frame(f):
    head = read_exact(f, 5)
    (length,) = struct.unpack("<I", head[1:])
    return head[0:1], read_exact(f, length)


def job(p, sql):
    payload = sql.encode()
    p.stdin.write(b"Q" + struct.pack("<I", len(payload)) + payload)
    p.stdin.flush()
    while True:
        kind, body = read_frame(p.stdout)
        if kind == b"D":
            return
        if kind == b"E":
            raise SystemExit("job failed: " + body.decode(errors="replace"))


def cpu_ms(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def main():
    dll = sys.argv[1]
    sql = sys.argv[2] if len(sys.argv) > 2 else "SELECT 42 AS answer"
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    gap = float(sys.argv[4]) / 1000 if len(sys.argv) > 4 else 0.0
    with tempfile.TemporaryDirectory(prefix="duckton-sandbox-") as cwd:
        t0 = time.perf_counter()
        p = subprocess.Popen(["dotnet", dll, "sandbox-worker", "--memory", str(1 << 30), "--threads", "1",
                              "--max-result", str(1 << 30)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd,
                             env=dict(os.environ, DOTNET_gcServer="0", DOTNET_TieredPGO="0"))
        kind, _ = read_frame(p.stdout)
        if kind != b"R":
            raise SystemExit("unexpected first frame")
        t_ready = time.perf_counter()
        job(p, sql)
        t_first = time.perf_counter()
        job(p, sql)
        t_second = time.perf_counter()
        steady = ""
        if jobs:
            for _ in range(jobs // 2):
                time.sleep(gap)
                job(p, sql)
            before = cpu_ms(p.pid)
            for _ in range(jobs - jobs // 2):
                time.sleep(gap)
                job(p, sql)
            steady = f" {(cpu_ms(p.pid) - before) / (jobs - jobs // 2):.3f}"
        p.stdin.close()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu = (usage.ru_utime + usage.ru_stime) * 1000
        print(f"{(t_ready - t0) * 1000:.1f} {(t_first - t0) * 1000:.1f} {(t_second - t_first) * 1000:.1f} {cpu:.1f}{steady}")


if __name__ == "__main__":
    main()
