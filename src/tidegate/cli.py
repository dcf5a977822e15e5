"""The ``tidegate`` command line.

Commands:
    serve          run the gateway (starts the embedded model when no upstream
                   is configured)
    check-config   validate a YAML config and print each error with its key path
    scan           print the findings in a text as JSON lines (or, with
                   --redact, the redacted text)
    hash-key       print the sha256 of a client key, for ``auth.keys[].sha256``
    events         print guard events from the audit store

Exit codes: 0 success, 1 runtime failure, 2 invalid config or usage,
3 ``scan`` found text that a block policy matches.
"""

from __future__ import annotations

import argparse
import ipaddress
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
from tidegate.ops.events_cli import add_parser as add_events_parser
from tidegate.ops.events_cli import run as run_events


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
    serve.add_argument(
        "--streaming-strategy",
        choices=["end_only", "periodic", "sentence_boundary", "continuous"],
        help="streaming.strategy (overrides the config file)",
    )
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="minimum log level (default: logging.level in the config, info)",
    )

    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("file", help="YAML config file")

    scan = sub.add_parser(
        "scan",
        help="print findings as JSON lines",
        description="Scan a text (argument, or stdin when absent) with the configured "
        "policies and print one JSON object per finding. Threat detectors add "
        "'threat_type'; their span is the window they judged. Values are not printed "
        "unless --show-values is given. Exits with 3 when a block policy matches.",
    )
    scan.add_argument("text", nargs="?", help="text to scan (default: read stdin)")
    scan.add_argument("--direction", choices=["input", "output"], default="output")
    scan.add_argument("--config", help="YAML config file (env TIDEGATE_CONFIG)")
    scan.add_argument(
        "--show-values", action="store_true", help="include the detected text (clear text!)"
    )
    scan.add_argument(
        "--redact",
        action="store_true",
        help="print the redacted text instead of the findings (nothing when blocked)",
    )
    hash_key = sub.add_parser(
        "hash-key",
        help="print the sha256 of a client key",
        description="Print the SHA-256 hex digest of a client key (argument, or stdin "
        "when absent, without its trailing newline), the value of auth.keys[].sha256.",
    )
    hash_key.add_argument("key", nargs="?", help="the key (default: read stdin)")
    add_events_parser(sub)
    return parser


def _print_config_errors(exc: ConfigError) -> None:
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)


def _serve(args: argparse.Namespace) -> int:
    from tidegate.app import create_app
    from tidegate.embedded import EmbeddedModelServer
    from tidegate.logs import configure_logging, get_logger
    from tidegate.server import serve

    config = load_config(
        args.config,
        listen=args.listen,
        upstreams=args.upstream,
        streaming_strategy=args.streaming_strategy,
    )
    configure_logging(args.log_level or config.logging.level, fmt=config.logging.format)
    log = get_logger("cli")
    embedded: EmbeddedModelServer | None = None
    if not config.upstreams:
        embedded = EmbeddedModelServer(
            n_ctx=config.embedded.n_ctx, startup_timeout_s=config.embedded.startup_timeout_s
        )
        log.info("embedded_model_starting")
        url = embedded.start()
        log.info("embedded_model_ready", base_url=url, model="SmolLM2-135M-Instruct")
        config = _with_upstream(config, UpstreamConfig(name="embedded", base_url=url))
    try:
        host, port = config.host_port()
        if config.auth is None and not is_loopback(host):
            log.warning("no_client_auth", host=host, hint="configure auth.keys")
        app = create_app(config)
        log.info("listening", host=host, port=port, upstreams=[u.name for u in config.upstreams])
        # On SIGTERM uvicorn drains (tidegate.server), then raises SIGTERM
        # again: that one means "stopped as asked", exit 0, through the
        # ``finally`` below that stops the child process.
        signal.signal(signal.SIGTERM, _exit_after_drain)
        if not serve(app, config):
            return 1
    finally:
        if embedded is not None:
            embedded.stop()
            log.info("embedded_model_stopped")
    return 0


def _exit_after_drain(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _with_upstream(config: TidegateConfig, upstream: UpstreamConfig) -> TidegateConfig:
    return config.model_copy(update={"upstreams": (upstream,)})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP address or ``localhost``) is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def config_warnings(config: TidegateConfig) -> list[str]:
    """Risky but valid settings, one message each.

    Returns:
        A warning per upstream that sends a configured key (``api_key_env``)
        while clients are not authenticated: anyone who reaches the gateway
        spends that key.
    """
    if config.auth is not None:
        return []
    return [
        f"upstreams.{i}: {u.name!r} sends the key in ${u.api_key_env} but no 'auth' is "
        "configured, so any client that reaches tidegate can use it"
        for i, u in enumerate(config.upstreams)
        if u.api_key_env
    ]


def _check_config(args: argparse.Namespace) -> int:
    from tidegate.guard.engine import GuardEngine

    config = parse_config(read_config_file(args.file))
    GuardEngine(config)  # resolves policies and detectors
    for warning in config_warnings(config):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.file}: ok")
    return 0


def _hash_key(args: argparse.Namespace) -> int:
    from tidegate.auth import hash_key

    if args.key is not None:
        key = args.key
    else:  # one trailing line end, as ``echo`` or a terminal adds
        key = sys.stdin.read().removesuffix("\n").removesuffix("\r")
    if not key:
        print("tidegate: the key is empty", file=sys.stderr)
        return 2
    print(hash_key(key))
    return 0


SCAN_BLOCKED = 3
"""Exit code of ``tidegate scan`` when a block policy matches (for pipelines and hooks)."""


def _scan(args: argparse.Namespace) -> int:
    import json

    from tidegate.guard.engine import GuardEngine
    from tidegate.logs import configure_logging

    configure_logging()  # log lines (findings, no values) go to stderr; stdout is the output
    config = load_config(args.config)
    engine = GuardEngine(config)
    text = args.text if args.text is not None else sys.stdin.read()
    if args.redact:
        from tidegate.sdk.scan import scan_value

        decision = scan_value(engine, text, args.direction)
        if decision.blocked:
            return SCAN_BLOCKED
        sys.stdout.write(decision.redacted_messages or "")
        return 0
    blocked = False
    for result in engine.scan(text, args.direction):
        blocked = blocked or result.action == "block"
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
    return SCAN_BLOCKED if blocked else 0


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
        if args.command == "hash-key":
            return _hash_key(args)
        if args.command == "events":
            return run_events(args)
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
