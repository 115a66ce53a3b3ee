"""Benchmark: CPU seconds of a command and every process it starts (the test suite).

    /work/venv/bin/python bench/suite_cpu.py [--interval 0.1] -- python -m pytest -q

On a machine shared with other work, wall time mostly measures the others; CPU
seconds measure ours. ``/usr/bin/time`` (``getrusage`` of reaped children) misses
much of Chromium's work: its zygote and renderers are killed or re-parented when
the browser closes and are never waited for by the test run, so their CPU time
never reaches it (measured: 4 of 12 CPU-s for six pages with axe and a screenshot).

This runs the command in a new session and samples ``/proc`` every ``--interval``
seconds: every process of that session or descended from the command, keyed by pid
and start time, keeps its last user + system time. At the end it prints the total,
the wall time, the load average before and after, and the CPU by program (python,
node, chromium, ...). A process that lives shorter than one interval is missed, and
each process loses at most one interval of its last CPU time; ``rusage`` of the
command's reaped children is printed for comparison.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def _read(pid: str):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            data = handle.read()
    except OSError:
        return None
    name = data[data.index("(") + 1:data.rindex(")")]
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is state (field 3); ppid 4, session 6, utime 14, stime 15, starttime 22
    return (int(fields[1]), int(fields[3]), (int(fields[11]) + int(fields[12])) / TICK,
            int(fields[19]), name)


def _label(pid: int, name: str) -> str:
    """The program's name; Chromium's processes also by their ``--type``."""
    if not name.startswith("chrom"):
        return name
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            arguments = handle.read().replace(b"\0", b" ").split()
    except OSError:
        return name
    for argument in arguments:
        if argument.startswith(b"--type="):
            return f"{name} {argument[7:].decode()}"
    return f"{name} browser"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")

    load_before = os.getloadavg()
    started = time.perf_counter()
    child = subprocess.Popen(command, start_new_session=True)
    seen: dict[tuple[int, int], tuple[float, str]] = {}
    labels: dict[tuple[int, int], tuple[str, str]] = {}  # (name, label): a fork may exec
    tree: set[int] = {child.pid}
    others: set[int] = set()  # processes outside the run: never read again
    while True:
        pids = {int(pid) for pid in os.listdir("/proc") if pid.isdigit()}
        others &= pids
        tree &= pids | {child.pid}
        # New processes in pid order, so a parent joins the tree before its children.
        for pid in sorted(pids - others - tree):
            stat = _read(str(pid))
            if stat is None:
                continue
            ppid, session, _cpu, _start, _name = stat
            if ppid in tree or session == child.pid:
                tree.add(pid)
            else:
                others.add(pid)
        for pid in tree:
            stat = _read(str(pid))
            if stat is not None:
                _ppid, _session, cpu, start, name = stat
                key = (pid, start)
                # Chromium forks its helpers and then rewrites their command line.
                if labels.get(key, ("",))[0] != name or name.startswith("chrom"):
                    labels[key] = (name, _label(pid, name))
                seen[key] = (cpu, labels[key][1])
        if child.poll() is not None:
            break
        time.sleep(args.interval)
    wall = time.perf_counter() - started
    load_after = os.getloadavg()
    by_name: dict[str, float] = collections.defaultdict(float)
    for cpu, name in seen.values():
        by_name[name] += cpu
    total = sum(by_name.values())
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"\nsuite_cpu: {total:.1f} CPU-s in {wall:.1f} s wall "
          f"({total / wall:.2f} cores), exit {child.returncode}; "
          f"load {load_before[0]:.2f} -> {load_after[0]:.2f}; "
          f"rusage of reaped children {usage.ru_utime + usage.ru_stime:.1f} CPU-s",
          file=sys.stderr)
    for name, cpu in sorted(by_name.items(), key=lambda item: -item[1]):
        if cpu >= 0.05:
            print(f"  {name:<20} {cpu:7.1f}", file=sys.stderr)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
