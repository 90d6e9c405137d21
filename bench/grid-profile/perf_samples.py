"""Samples every CPU with `perf record -a -g` for a while and returns each sample's process and stack (leaf first)."""
import os
import re
import subprocess
import tempfile

_FRAME = re.compile(r'\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$')
_HEADER = re.compile(r'\s*(.*?)\s+(\d+)/(\d+)')


def record(seconds, frequency=499):
    """[(pid, [(symbol, shared object path), ...]), ...] over `seconds` of every CPU; pid 0 is the idle task."""
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, 'perf.data')
        subprocess.run(['perf', 'record', '-a', '-g', '-F', str(frequency), '-o', data, '--', 'sleep', str(seconds)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        script = subprocess.run(['perf', 'script', '-i', data, '-F', 'pid,tid,comm,ip,sym,dso'],
                                capture_output=True, text=True, check=True).stdout
    samples, pid, frames = [], None, []
    for line in script.split('\n'):
        if not line.strip():
            if pid is not None:
                samples.append((pid, frames))
            pid, frames = None, []
        elif not line.startswith('\t'):
            m = _HEADER.match(line)
            pid = int(m.group(2)) if m else None
        elif pid is not None:
            m = _FRAME.match(line)
            frames.append((m.group(1), m.group(2)) if m else ('?', '?'))
    if pid is not None:
        samples.append((pid, frames))
    return samples
