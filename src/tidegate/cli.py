"""The ``tidegate`` command line.

Commands:
    serve          run the gateway (starts the embedded model when no upstream
                   is configured)
    check-config   validate a YAML config and print each error with its key path
    scan           print the findings in a text as JSON lines

Exit codes: 0 success, 1 runtime failure, 2 invalid config or usage.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from tidegate.config import (
    TidegateConfig,
    UpstreamConfig,
    load_config,
    parse_config,
    read_config_file,
)
from tidegate.errors import ConfigError, EmbeddedModelError


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tidegate", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="YAML config file (env TIDEGATE_CONFIG)")
    serve.add_argument(
        "--listen", help="HOST:PORT to bind (default 127.0.0.1:8080; env TIDEGATE_LISTEN)"
    )
    serve.add_argument(
        "--upstream",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="upstream base URL, e.g. default=http://127.0.0.1:8101/v1 (repeatable; "
        "env TIDEGATE_UPSTREAM, comma-separated)",
    )
    serve.add_argument("--log-level", default="info", help="debug, info, warning or error")

    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("file", help="YAML config file")

    scan = sub.add_parser(
        "scan",
        help="print findings as JSON lines",
        description="Scan a text (argument, or stdin when absent) with the configured "
        "policies and print one JSON object per finding. Threat detectors add "
        "'threat_type'; their span is the window they judged. Values are not printed "
        "unless --show-values is given.",
    )
    scan.add_argument("text", nargs="?", help="text to scan (default: read stdin)")
    scan.add_argument("--direction", choices=["input", "output"], default="output")
    scan.add_argument("--config", help="YAML config file (env TIDEGATE_CONFIG)")
    scan.add_argument(
        "--show-values", action="store_true", help="include the detected text (clear text!)"
    )
    return parser


def _print_config_errors(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tidegate.app import create_app
    from tidegate.embedded import EmbeddedModelServer
    from tidegate.logs import configure_logging, get_logger

    configure_logging(args.log_level)
    log = get_logger("cli")
    config = load_config(args.config, listen=args.listen, upstreams=args.upstream)
    embedded: EmbeddedModelServer | None = None
    if not config.upstreams:
        embedded = EmbeddedModelServer(
            n_ctx=config.embedded.n_ctx, startup_timeout_s=config.embedded.startup_timeout_s
        )
        log.info("embedded_model_starting")
        url = embedded.start()
        log.info("embedded_model_ready", base_url=url, model="SmolLM2-135M-Instruct")
        config = _with_upstream(config, UpstreamConfig(name="embedded", base_url=url))
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into
    # SystemExit so that the ``finally`` below still stops the child process.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        host, port = config.host_port()
        log.info("listening", host=host, port=port, upstreams=[u.name for u in config.upstreams])
        uvicorn.run(
            create_app(config),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
    finally:
        if embedded is not None:
            embedded.stop()
            log.info("embedded_model_stopped")
    return 0


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _with_upstream(config: TidegateConfig, upstream: UpstreamConfig) -> TidegateConfig:
    return config.model_copy(update={"upstreams": (upstream,)})


def _check_config(args: argparse.Namespace) -> int:
    from tidegate.guard.engine import GuardEngine

    GuardEngine(parse_config(read_config_file(args.file)))  # resolves policies and detectors
    print(f"{args.file}: ok")
    return 0


def _scan(args: argparse.Namespace) -> int:
    import json

    from tidegate.guard.engine import GuardEngine

    config = load_config(args.config)
    engine = GuardEngine(config)
    text = args.text if args.text is not None else sys.stdin.read()
    for result in engine.scan(text, args.direction):
        f = result.finding
        record: dict[str, object] = {
            "detector": f.detector,
            "entity_type": f.entity_type,
            "start": f.start,
            "end": f.end,
            "score": f.score,
            "policy": result.policy,
            "action": result.action,
        }
        if result.threat_type is not None:  # classifier finding: the span is the judged window
            record["threat_type"] = result.threat_type
        if args.show_values:
            record["value"] = text[f.start : f.end]
        print(json.dumps(record))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tidegate`` command.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "check-config":
            return _check_config(args)
        if args.command == "scan":
            return _scan(args)
    except ConfigError as exc:
        _print_config_errors(exc)
        return 2
    except EmbeddedModelError as exc:
        print(f"tidegate: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
