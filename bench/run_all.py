"""Run every bench/bench_*.py in turn (`make bench`); stops at the first that fails."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, str(script)], check=True)
        print(f"== {script.name} finished in {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
