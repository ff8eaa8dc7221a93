"""The ``nubo`` command: ``nubo start`` serves, ``nubo reset`` wipes a running server's state."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path

from nubo import __version__
from nubo.config import IAM_MODES, Config


def main(argv: list[str] | None = None) -> int:
    defaults = Config.from_env()
    parser = argparse.ArgumentParser(prog="nubo", description="The AWS cloud on one machine.")
    parser.add_argument("--version", action="version", version=f"nubo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    start = commands.add_parser("start", help="serve in the foreground")
    start.add_argument("--host", default=defaults.host, help="address to bind (NUBO_HOST)")
    start.add_argument("--port", type=int, default=defaults.port, help="port (NUBO_PORT)")
    start.add_argument("--data-dir", type=Path, default=defaults.data_dir,
                       help="where state lives (NUBO_DATA_DIR)")
    start.add_argument("--ephemeral", action="store_true", default=defaults.ephemeral,
                       help="keep state in memory only (NUBO_EPHEMERAL=1)")
    start.add_argument("--log-level", default=defaults.log_level,
                       help="debug|info|warning|error (NUBO_LOG_LEVEL)")
    start.add_argument("--iam", choices=IAM_MODES, default=defaults.iam,
                       help="IAM policy enforcement: off, soft (log decisions) or enforce "
                            "(NUBO_IAM; LocalStack's ENFORCE_IAM=1 / IAM_SOFT_MODE=1 too)")
    start.add_argument("--verify-signatures", action="store_true",
                       default=defaults.verify_signatures,
                       help="check SigV4 signatures against the keys' secrets "
                            "(NUBO_VERIFY_SIGNATURES=1)")

    reset = commands.add_parser("reset", help="wipe all state of a running server")
    reset.add_argument("--host", default=defaults.host)
    reset.add_argument("--port", type=int, default=defaults.port)

    args = parser.parse_args(argv)
    if args.command == "start":
        config = Config(host=args.host, port=args.port,
                        data_dir=None if args.ephemeral else args.data_dir,
                        ephemeral=args.ephemeral, log_level=args.log_level, iam=args.iam,
                        verify_signatures=args.verify_signatures)
        return serve(config)
    return _reset(args.host, args.port)


def serve(config: Config) -> int:
    import asyncio

    from nubo.core.runtime import Runtime
    from nubo.gateway.http import HttpServer
    from nubo.server import Gateway
    from nubo.store import Store

    logging.basicConfig(level=config.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A large response allocates ~10 containers per item (a DynamoDB Scan page: thousands);
    # at the default gen-0 threshold (700) the cyclic collector then runs hundreds of times a
    # page and sweeps the old generations too: ~90 of a 10,000-item Scan's ~250 ms of CPU.
    gc.set_threshold(10_000, 10, 10)
    store = Store(config.store_path)
    server = HttpServer(Gateway(Runtime(config=config, store=store)))
    where = "in memory (ephemeral)" if config.ephemeral else f"in {config.data_dir}"

    def ready() -> None:
        print(f"nubo {__version__} ready on http://{config.host}:{config.port}, "
              f"state {where}", flush=True)

    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(server.serve(config.host, config.port, ready))
    except OSError as error:  # the address is taken or cannot be bound
        logging.getLogger("nubo").error("cannot serve on %s:%s: %s", config.host, config.port,
                                        error)
        return 1
    finally:
        store.close()
    return 0


def _reset(host: str, port: int) -> int:
    url = f"http://{host}:{port}/_nubo/reset"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10):
            print(f"nubo at {host}:{port} reset")
            return 0
    except (urllib.error.URLError, OSError) as error:
        print(f"cannot reach nubo at {host}:{port}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
