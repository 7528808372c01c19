"""One line that says where a benchmark ran: timings compare only within one run on one machine."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path


def cpu_model() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    return next(iter(re.findall(r"model name\s*:\s*(.+)", info)), "") or platform.processor() or platform.machine()


def describe() -> str:
    """CPU model, cores, load average (1/5/15 min): the context every timing table is printed with."""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine: {cpu_model()}, {os.cpu_count()} cores, load average {load}"
