"""Serve both emulators in the foreground, for the demo and docker-compose:

    python -m demo.emulators --data-dir .demo --pidfile .demo/emulators.pid

HubSpot reads OUT/hubspot, Typeform OUT/typeform. Without ``--rate-limit``
neither limits the rate, so the demo runs at full speed; with it, both apply
the given limit. The optional pidfile lets
a Makefile started in the background stop exactly this process; it is
removed on a clean stop (SIGINT or SIGTERM).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from demo.emulators import hubspot, typeform
from demo.emulators.common import add_server_arguments, run_until_stopped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.emulators",
                                     description="Serve the HubSpot and Typeform emulators.")
    parser.add_argument("--data-dir", type=Path, default=Path(".demo"),
                        help="the generator's OUT folder (default %(default)s)")
    parser.add_argument("--hubspot-port", type=int, default=8091)
    parser.add_argument("--typeform-port", type=int, default=8092)
    parser.add_argument("--pidfile", type=Path, help="write this process id here while serving")
    add_server_arguments(parser, port=None, rate_limit="none")
    args = parser.parse_args(argv)

    faults = (args.rate_limit, args.fail_first, args.fail_every)
    emulators = [
        ("HubSpot", hubspot.start(args.data_dir / "hubspot", args.token, args.host,
                                  args.hubspot_port, *faults)),
        ("Typeform", typeform.start(args.data_dir / "typeform", args.token, args.host,
                                    args.typeform_port, *faults)),
    ]
    if args.pidfile:
        args.pidfile.write_text(f"{os.getpid()}\n")
    try:
        run_until_stopped(emulators)
    finally:
        if args.pidfile:
            args.pidfile.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
