"""What the swarm benchmark scripts share: sizes as users write them, and how to run a CLI build."""

import argparse
import re

MIB = 1024 * 1024


def parse_size(text):
    """A byte count from `256MiB`, `1G` or `4096` (K, M, G are powers of 1024)."""
    m = re.fullmatch(r"(\d+)\s*(KiB|MiB|GiB|K|M|G)?", text.strip(), re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    unit = (m.group(2) or "").lower()[:1]
    return int(m.group(1)) * {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}[unit]


def cli_command(cli):
    """The command line that runs a CLI build: a published executable, or a .dll through dotnet."""
    return ["dotnet", cli] if cli.endswith(".dll") else [cli]
