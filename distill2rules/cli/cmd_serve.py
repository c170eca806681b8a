"""`distill2rules serve`: an HTTP scoring service over an artifact's ONNX student."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill2rules.errors import ConfigError


def serve(
    artifact: Annotated[
        Path, typer.Argument(help="Artifact directory written by `fit` (or a student .onnx file).")
    ],
    host: Annotated[
        str,
        typer.Option(
            help="Interface to bind. The default serves this machine only; the server has no TLS or authentication."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Requests handled at once (a fixed thread pool).")
    ] = 4,
    queue: Annotated[
        int, typer.Option(help="Further connections that may wait for a worker; beyond that: 503.")
    ] = 16,
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes (larger: 413).")] = 1
    << 20,
    max_records: Annotated[
        int, typer.Option(help="Most records in one request (more: 413).")
    ] = 1000,
    extra: Annotated[
        str, typer.Option(help="Record fields the model does not read: 'error' (422) or 'ignore'.")
    ] = "error",
    log: Annotated[bool, typer.Option("--log", help="Log every request to stderr.")] = False,
) -> None:
    """Serve decisions and reasons over HTTP: POST /score, POST /explain, GET /health, GET /model.

    Uses student.codes.onnx when the artifact has one (`distill2rules export DIR --inputs codes`), else
    student.onnx. Every file of the artifact is checked against its manifest first: a changed artifact
    is refused (exit 2).

    Limits besides the options: a body needs a Content-Length and must arrive within 10 s (else 408);
    idle keep-alive connections close after 5 s; /explain?top=N takes 1..50; bad JSON 400, records
    that do not fit 422 naming the field and record. Any Content-Type is read as JSON.
    """
    from distill2rules.server import make_server  # lazy: HTTP server stack; keeps --help fast

    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {port}.")
    if workers < 1 or queue < 0 or max_body < 1 or max_records < 1:
        raise ConfigError("--workers, --max-body and --max-records must be >= 1 and --queue >= 0.")
    if extra not in ("error", "ignore"):
        raise ConfigError(f"--extra must be 'error' or 'ignore', got {extra!r}.")
    try:
        server = make_server(
            artifact,
            host=host,
            port=port,
            extra=extra,
            workers=workers,
            queue=queue,
            max_body=max_body,
            max_records=max_records,
            log=log,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="Pick another --port (or --port 0 for a free one).",
        ) from None
    s = server.scorer
    typer.echo(
        f"serving {s.metadata.get('model') or s.kind} ({s.inputs} graph, {len(s.columns)} fields, classes "
        f"{s.classes}) on {server.url} — POST /score, POST /explain, GET /health, GET /model; Ctrl-C stops",
        err=True,
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            "warning: listening beyond this machine without TLS or authentication; put a reverse proxy in "
            "front of it.",
            err=True,
        )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
