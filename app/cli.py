"""The `voxparse` command: serve, worker, migrate, manage keys and credit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.billing import accounts, ledger, pricing
from app.config import Settings
from app.db import Database, migrate
from app.errors import ApiError
from app.models import EntryKind


def _create_key(db: Database, settings: Settings, name: str, credit_cents: int) -> accounts.CreatedKey:
    with db.transaction() as session:
        account = accounts.create_account(session, name)
        created = accounts.create_key(session, account, name)
        if credit_cents:
            ledger.credit(
                session,
                account.id,
                credit_cents,
                kind=EntryKind.ADJUSTMENT,
                reason="initial credit",
                expiry_days=settings.credit_expiry_days,
            )
    return created


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    migrate(settings.database_url)
    print("database is at the latest schema")
    return 0


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    migrate(settings.database_url)
    db = Database(settings)
    created = _create_key(db, settings, args.name, args.credit_cents)
    print(f"account: {created.account_id}")
    print(f"key id:  {created.key_id}")
    print(f"API key: {created.plaintext}")
    print("Store the key now: it is not shown again.")
    return 0


def cmd_keys_list(settings: Settings, _args: argparse.Namespace) -> int:
    db = Database(settings)
    with db.transaction() as session:
        for key in accounts.list_keys(session):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            print(f"{key.id}  {key.prefix}...  account={key.account_id}  {key.name!r}  {state}")
    return 0


def cmd_keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(settings)
    with db.transaction() as session:
        key = accounts.revoke_key(session, args.key)
        print(f"revoked {key.id} ({key.prefix}...)")
    return 0


def cmd_credit(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(settings)
    with db.transaction() as session:
        accounts.get_account(session, args.account)
        if args.cents >= 0:
            ledger.credit(
                session,
                args.account,
                args.cents,
                kind=EntryKind.ADJUSTMENT,
                reason=args.reason,
                expiry_days=settings.credit_expiry_days,
            )
        else:
            ledger.debit(session, args.account, -args.cents, kind=EntryKind.ADJUSTMENT, reason=args.reason)
        balance = ledger.balance_cents(session, args.account)
    print(f"balance of {args.account}: {balance} cents (${pricing.dollars(balance)})")
    return 0


def _announce_dev_key(settings: Settings, host: str, port: int) -> None:
    """On an empty database, create a development key and show how to call the service."""
    db = Database(settings)
    try:
        with db.transaction() as session:
            if accounts.has_accounts(session):
                return
        created = _create_key(db, settings, "development", settings.dev_credit_cents)
    finally:
        db.dispose()
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}{settings.root_path}"  # noqa: S104
    print(
        "\nCreated a development API key (shown once) with "
        f"${pricing.dollars(settings.dev_credit_cents)} of credit:\n\n  {created.plaintext}\n\n"
        f"Open {base}/console and paste it, or try it:\n\n"
        f'  curl {base}/v1/balance -H "X-API-Key: {created.plaintext}"\n'
        f'  curl -X POST {base}/v1/transcribe -H "X-API-Key: {created.plaintext}" -F "file=@call.wav"\n',
        flush=True,
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if not args.no_migrate:
        migrate(settings.database_url)
    if not args.no_dev_key:
        _announce_dev_key(settings, args.host, args.port)
    print(f"VoxParse Server on http://{args.host}:{args.port}{settings.root_path} (Ctrl+C stops it)", flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        root_path=settings.root_path,
        proxy_headers=False,  # the app's own ProxyHeadersMiddleware applies the trusted list
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        # WebSockets (/v1/stream) through the websockets library's sans-I/O protocol.
        ws="websockets-sansio",
        log_config=None,
    )
    return 0


def cmd_warm(settings: Settings, args: argparse.Namespace) -> int:
    """Load every model once and compile the diarizer's kernels into the numba cache (an image's
    build step, so that a container's first request is not the slow one)."""
    from app.speech.registry import ModelRegistry

    ModelRegistry(settings).load_all()
    print(f"models loaded; numba cache in {settings.numba_cache_dir}")
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from app import worker

    return worker.run(settings, concurrency=args.concurrency)


def cmd_transcribe(settings: Settings, args: argparse.Namespace) -> int:
    """The server's pipeline on a local file, without a server, a database or a charge."""
    from app.speech import audio, metrics, pipeline
    from app.speech.diarization import SpeakerCount
    from app.speech.registry import ModelRegistry

    count = (
        SpeakerCount(exact=args.speakers)
        if args.speakers
        else SpeakerCount(min=args.min_speakers, max=args.max_speakers)
    )
    options = pipeline.TranscriptionOptions(
        language=args.language, instructions=args.instructions, speakers=count, channels=args.channels
    )
    models = ModelRegistry(settings)
    models.transcriber().check_language(options.language)
    with open(args.file, "rb") as f:
        decoded = audio.decode(f, max_seconds=settings.max_audio_seconds)
    result = pipeline.run(models, decoded, options, thresholds=metrics.Thresholds.of(settings))
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        print(result.ai_analysis.transcript_cleaned)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxparse", description="VoxParse Server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate the database and start the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-dev-key", action="store_true", help="never create a development key")
    serve.add_argument(
        "--no-migrate", action="store_true", help="leave migrations to `voxparse migrate` (several replicas)"
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)

    sub.add_parser("warm", help="load every model once and fill the compile caches").set_defaults(func=cmd_warm)

    worker = sub.add_parser("worker", help="run async jobs from the broker (VOXPARSE_BROKER_URL)")
    worker.add_argument("--concurrency", type=int, default=1, help="jobs run at once (threads sharing the models)")
    worker.set_defaults(func=cmd_worker)

    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an account and its key (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--credit-cents", type=int, default=0)
    create.set_defaults(func=cmd_keys_create)
    keys.add_parser("list", help="list keys (never their secret part)").set_defaults(func=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by id or display prefix")
    revoke.add_argument("key")
    revoke.set_defaults(func=cmd_keys_revoke)

    transcribe = sub.add_parser("transcribe", help="run the transcription pipeline on a local file")
    transcribe.add_argument("file")
    transcribe.add_argument("--json", action="store_true", help="print the whole result as JSON")
    transcribe.add_argument("--language")
    transcribe.add_argument("--instructions")
    transcribe.add_argument("--speakers", type=int, default=None, help="exactly this many speakers")
    transcribe.add_argument("--min-speakers", type=int, default=1)
    transcribe.add_argument("--max-speakers", type=int, default=2)
    transcribe.add_argument("--channels", choices=["auto", "split", "mix"], default="auto")
    transcribe.set_defaults(func=cmd_transcribe)

    credit = sub.add_parser("credit", help="add (or with a negative amount, remove) credit")
    credit.add_argument("account")
    credit.add_argument("cents", type=int)
    credit.add_argument("--reason", required=True)
    credit.set_defaults(func=cmd_credit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        code: int = args.func(settings, args)
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
