"""``python -m netmon.lab serve DIR``: serve the lab built under DIR (see :mod:`netmon.lab.serve`)."""

from __future__ import annotations

import argparse
import sys

from netmon.lab.serve import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netmon.lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_cmd = sub.add_parser("serve", help="run the simulated peers of a built lab until SIGTERM")
    serve_cmd.add_argument("dir", help="the lab's folder (netmon demo --dir, default .netmon-lab)")
    args = parser.parse_args(argv)
    return serve(args.dir)


if __name__ == "__main__":
    sys.exit(main())
