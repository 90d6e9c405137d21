#!/usr/bin/env python3
"""Drives a command on a real pseudo-terminal, like a person at a keyboard.

Usage: pty_drive.py STEPS_JSON -- COMMAND [ARGS...]
STEPS_JSON is a JSON list of steps run in order:
  {"expect": "text", "timeout": 60}   wait until the terminal output (since the last expect) contains text
  {"send": "text"}                    type text ("\\r" is Enter, "\\u0003" is Ctrl+C, "\\u0004" is Ctrl+D)
  {"sleep": 0.5}                      wait
With --stderr-file PATH (before --), the command's stderr goes to that file instead of the terminal.
Prints the whole terminal transcript to stdout when the command ends (or a step times out: exit code 99),
then exits with the command's exit code.
"""
import json
import os
import pty
import select
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    stderr_file = None
    if args[0] == "--stderr-file":
        stderr_file = args[1]
        args = args[2:]
    steps = json.loads(args[0])
    command = args[args.index("--") + 1:]
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    err = open(stderr_file, "wb") if stderr_file else slave
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=err, start_new_session=True,
                            preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0))
    os.close(slave)
    transcript = bytearray()
    mark = 0

    def pump(wait):
        r, _, _ = select.select([master], [], [], wait)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                return False
            if not data:
                return False
            transcript.extend(data)
        return True

    code = 0
    for step in steps:
        if "expect" in step:
            want = step["expect"].encode()
            deadline = time.monotonic() + step.get("timeout", 60)
            while want not in transcript[mark:]:
                if time.monotonic() > deadline or (proc.poll() is not None and not pump(0.1)):
                    sys.stdout.write(transcript.decode(errors="replace"))
                    sys.stdout.write(f"\n[pty_drive: timed out waiting for {step['expect']!r}]\n")
                    proc.kill()
                    sys.exit(99)
                pump(0.1)
            mark = transcript.index(want, mark) + len(want)
        elif "send" in step:
            os.write(master, step["send"].encode())
        elif "sleep" in step:
            end = time.monotonic() + step["sleep"]
            while time.monotonic() < end:
                pump(0.05)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        pump(0.1)
    while pump(0.2):
        pass
    if proc.poll() is None:
        proc.kill()
        code = 98
    else:
        code = proc.returncode
    sys.stdout.write(transcript.decode(errors="replace"))
    sys.exit(code)


main()
