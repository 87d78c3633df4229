"""`wzmon ARGS` that writes its peak resident memory (KiB, from getrusage) to $WZMON_PEAK_FILE on exit."""
import atexit
import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _write() -> None:
    target = os.environ.get("WZMON_PEAK_FILE")
    if target:
        Path(target).write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


atexit.register(_write)
from matrix.cli.root import main  # noqa: E402

sys.argv[0] = "wzmon"
main()
