#!/usr/bin/env python3
"""What kind of work a busy grid's CPU does, per process role: DuckDB, signatures, TLS, the .NET runtime, duckton's own
code, and the kernel split into wake-ups, thread switches, TCP and pipes.

Run it while `duckton bench grid --small-only --runs 20000` is in its measured part (from about 20 s after its start), started with
`DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0` so perf can name .NET frames:
    bench/grid-profile/cpu-by-kind.py 10                  # shares of each role's CPU
    bench/grid-profile/cpu-by-kind.py 10 1.25,1.31,1.31   # ms per query: the bench's CPU per query of the requester,
                                                          # the host processes and their sandbox workers, split by kind
    bench/grid-profile/cpu-by-kind.py 10 bench.log        # the same, read from the bench's output once it is printed
Needs perf and root. A sample is classified by its whole stack (a kernel sample by the kernel functions in it), so a
wake-up counts as one wherever it started (a futex, a socket, a pipe).
"""
import collections
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import perf_samples  # noqa: E402
from switches import roles  # noqa: E402

ROLES = ['requester', 'host', 'worker']
WAKE = {'try_to_wake_up', 'sock_def_readable', '__wake_up', '__wake_up_sync_key', 'wake_up_q', 'futex_wake'}


def kind(frames):
    if not frames:
        return 'unknown'
    symbol, obj = frames[0]
    if 'kallsyms' in obj:
        kernel = [s for s, o in frames if 'kallsyms' in o]
        if any(s in WAKE or 'reschedule_ipi' in s for s in kernel):
            return 'kernel: wake-ups (waking a thread, or being woken by an interrupt from the other CPU)'
        if any(s in ('schedule', '__schedule') or s.startswith('finish_task_switch') for s in kernel):
            return 'kernel: switching threads'
        if any(t in s for s in kernel for t in ('tcp', 'skb', 'sock', 'ip_', 'net_rx', 'loopback')):
            return 'kernel: TCP over loopback'
        if any('pipe' in s for s in kernel):
            return 'kernel: pipes'
        if any(t in s for s in kernel for t in ('fault', 'mmap', 'madvise', 'brk')):
            return 'kernel: memory (page faults, mappings)'
        return 'kernel: other (syscall entry and exit, timers, futex waits, files)'
    obj = os.path.basename(obj)
    if obj.startswith(('libduckdb', 'libstdc++')):
        return 'DuckDB'
    if obj.startswith('libsodium'):
        return 'Ed25519 signatures and checks (libsodium)'
    if obj.startswith(('libcrypto', 'libssl')):
        return 'TLS 1.3 (OpenSSL)'
    if obj.startswith(('libcoreclr', 'libclrjit')) or 'CastHelpers' in symbol or 'StaticsHelpers' in symbol:
        return '.NET runtime (GC, thread pool, JIT, type checks)'
    if obj.startswith(('libc.so', 'ld-linux')):
        return 'libc (malloc, memset, locks)'
    if '[Duckton.' in symbol:
        return '.NET: duckton code'
    if any(t in symbol for t in ('System.Threading', 'CompilerServices', 'ExecutionContext')):
        return '.NET: async state machines, tasks, thread pool'
    if 'System.Net' in symbol:
        return '.NET: sockets, SslStream'
    return '.NET: base library and unnamed code'


def cpu_per_query(arg):
    """The bench's CPU per query by role, given as 'r,h,w' or read from its output (waits up to 10 minutes for the line)."""
    if not os.path.isfile(arg):
        return dict(zip(ROLES, map(float, arg.split(','))))
    pattern = re.compile(r'CPU per query: requester ([0-9.]+) ms \+ host processes ([0-9.]+) ms \+ their sandbox workers ([0-9.]+) ms')
    for _ in range(600):
        m = pattern.search(open(arg).read())
        if m:
            return dict(zip(ROLES, map(float, m.groups())))
        time.sleep(1)
    sys.exit(f'no CPU per query line in {arg}')


def main():
    seconds = sys.argv[1] if len(sys.argv) > 1 else '10'
    processes = roles()
    if not processes:
        sys.exit('no duckton processes found')
    counts = collections.Counter()
    totals = collections.Counter()
    for pid, frames in perf_samples.record(seconds, frequency=999):
        role = processes.get(pid)
        if role in ROLES:
            counts[(role, kind(frames))] += 1
            totals[role] += 1
    per_query = cpu_per_query(sys.argv[2]) if len(sys.argv) > 2 else None
    scale = per_query or {r: 100.0 for r in ROLES}

    def value(role, k):
        return counts[(role, k)] / totals[role] * scale[role] if totals[role] else 0.0

    kinds = sorted({k for _, k in counts}, key=lambda k: -sum(value(r, k) for r in ROLES))
    unit = 'ms per query' if per_query else '% of the role\'s CPU'
    print(f'| kind of work ({unit}) | requester | host processes | sandbox workers | all |')
    print('|---|---:|---:|---:|---:|')
    for k in kinds:
        row = [value(r, k) for r in ROLES]
        print(f'| {k} | ' + ' | '.join(f'{v:.3f}' for v in row) + (f' | {sum(row):.3f} |' if per_query else ' | |'))
    if per_query:
        print('| total | ' + ' | '.join(f'{scale[r]:.3f}' for r in ROLES) + f' | {sum(scale.values()):.3f} |')
    print('samples: ' + ', '.join(f'{r} {totals[r]}' for r in ROLES))


if __name__ == '__main__':
    main()
