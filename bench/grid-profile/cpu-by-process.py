#!/usr/bin/env python3
"""Where a busy grid's CPU goes: samples every CPU with perf, then splits them by process role and shared object.

Run it while `duckton bench grid --small-only --runs 200000` (or any grid) is busy; start that with
`DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0` in its environment so perf can name .NET frames ("JIT").
    bench/grid-profile/cpu-by-process.py 15 [top-symbols]
Needs perf and root. Roles come from the command lines (see switches.py); "idle" is the CPUs doing nothing.
"""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import perf_samples  # noqa: E402
from switches import roles  # noqa: E402


def main():
    seconds = sys.argv[1] if len(sys.argv) > 1 else '15'
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    processes = roles()
    if not processes:
        sys.exit('no duckton processes found')
    samples = collections.Counter()
    by_object = collections.defaultdict(collections.Counter)
    by_symbol = collections.defaultdict(collections.Counter)
    for pid, frames in perf_samples.record(seconds):
        role = 'idle' if pid == 0 else processes.get(pid, 'other')
        symbol, obj = frames[0] if frames else ('?', '?')  # the first frame of a sample is where the CPU was
        obj = os.path.basename(obj)
        obj = 'JIT' if obj.startswith('perf-') else obj
        samples[role] += 1
        by_object[role][obj] += 1
        by_symbol[role][f'{symbol[:90]} [{obj}]'] += 1
    total = sum(samples.values())
    for role, n in samples.most_common():
        print(f'{role}: {100 * n / total:.1f}% of the samples')
        print('   ' + ', '.join(f'{o} {100 * c / n:.0f}%' for o, c in by_object[role].most_common(8)))
        if role not in ('idle', 'other'):
            for symbol, c in by_symbol[role].most_common(top):
                print(f'      {100 * c / n:5.1f}% {symbol}')


if __name__ == '__main__':
    main()
