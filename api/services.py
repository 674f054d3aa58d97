"""What the API runs on: settings, manifest, chain clients, the index and the plug-in seams."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.index_status import IndexStatus
from api.indexer.db import PoolSize, make_engine, make_sessions
from api.indexer.indexer import Indexer
from api.plugins import DiscardingFeedSink, FeedSink, LineStore, NoLineStore
from api.relay_guard import CallersFile, RelayCaller, RelayGuardError, UsageBook
from api.settings import ApiSettings
from api.uploads import UploadStore
from outbox import Outbox, OutboxError
from outbox.linestore import OutboxFeedSink, OutboxLineStore
from outbox.migrate import shown
from royalty_chain.client import Chain, FeeCaps
from royalty_chain.manifest import Manifest, ManifestError, manifest_path
from royalty_chain.networks import is_local_chain
from royalty_chain.tokens import TokenBook
from royalty_chain.transport import RpcError, Transport, wait_for_rpc

STARTUP_WAIT = 10.0
"""Seconds the API waits for its node at start."""


class StartupError(Exception):
    """The API cannot start: the message names the setting to fix."""


@dataclass
class Services:
    settings: ApiSettings
    manifest: Manifest
    chain: Chain
    rpc: Transport  # the one connection to the node, shared by ``chain`` and ``indexer``
    engine: Engine
    sessions: sessionmaker[Session]
    indexer: Indexer
    relayer: LocalAccount | None
    line_store: LineStore = field(default_factory=NoLineStore)
    feed_sink: FeedSink = field(default_factory=DiscardingFeedSink)
    relay_lock: threading.Lock = field(default_factory=threading.Lock)
    outbox: Outbox | None = None  # the oracle's, when API_ORACLE_OUTBOX is set
    uploads: UploadStore | None = None  # staged in the oracle's inbox, when API_ORACLE_INBOX is set
    relay_callers: dict[str, RelayCaller] = field(default_factory=dict)  # by SHA-256 of their API key
    relay_callers_file: CallersFile | None = None  # API_RELAY_CALLERS_FILE, read again when it changes
    relay_usage: UsageBook | None = None
    tokens: TokenBook = field(init=False)
    index_status: IndexStatus = field(init=False)  # what /health reports, refreshed in the background

    def __post_init__(self) -> None:
        self.tokens = TokenBook(self.chain)
        self.index_status = IndexStatus(self.sessions)

    def close(self) -> None:
        self.rpc.close()
        self.engine.dispose()
        if self.relay_usage is not None:
            self.relay_usage.close()
        if self.outbox is not None:
            self.outbox.close()


def build_services(
    settings: ApiSettings, line_store: LineStore | None = None, feed_sink: FeedSink | None = None
) -> Services:
    try:
        # As the oracle does: wait up to 10 s for the node at start, rather than the transport's
        # full backoff (about 50 s) before saying which setting is wrong.
        chain_id = wait_for_rpc(settings.rpc_url, timeout=STARTUP_WAIT)
    except RpcError as err:
        raise StartupError(f"API_RPC_URL {settings.rpc_url} does not answer: {err}") from err
    path = settings.manifest or manifest_path(chain_id, settings.data_dir)
    try:
        manifest = Manifest.load(path)
    except ManifestError as err:
        raise StartupError(f"API_MANIFEST: {err}") from err
    if manifest.chain_id != chain_id:
        raise StartupError(f"API_MANIFEST {path} is for chain {manifest.chain_id}, the node is chain {chain_id}")
    if settings.relayer_key is not None:
        try:
            relayer: LocalAccount | None = Account.from_key(settings.relayer_key.get_secret_value())
        except (ValueError, TypeError) as err:
            raise StartupError("API_RELAYER_KEY is not a valid private key") from err
    elif is_local_chain(chain_id):
        from royalty_chain.dev.keys import role  # the documented local-only fallback

        relayer = role("relayer")
    else:
        relayer = None
    try:
        callers_file = CallersFile(settings) if settings.relay_callers_file is not None else None
    except RelayGuardError as err:
        raise StartupError(str(err)) from err
    if settings.relay_allow_hosts and not is_local_chain(chain_id):
        raise StartupError(f"API_RELAY_ALLOW_HOSTS relays without a key: only for a local chain, not chain {chain_id}")
    rpc = Transport(settings.rpc_url)
    caps = FeeCaps(settings.relay_max_fee_per_gas, settings.relay_max_priority_fee_per_gas)
    chain = Chain(settings.rpc_url, manifest, transport=rpc, fee_caps=caps)
    outbox: Outbox | None = None
    outbox_location = settings.oracle_outbox_location()
    if outbox_location is not None:
        try:  # the oracle owns the outbox: the API opens it only if it exists at the right revision
            outbox = Outbox.existing(outbox_location)
        except OutboxError as err:
            raise StartupError(f"API_ORACLE_OUTBOX: {err}") from err
        except SQLAlchemyError as err:  # a database server that does not answer or refuses us
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise StartupError(f"API_ORACLE_OUTBOX: cannot open {shown(outbox_location)}: {reason}") from err
        licensees: dict[int, str] = {}

        def licensee_of(licence_id: int) -> str:
            if licence_id not in licensees:
                licensees[licence_id] = chain.registry.settlement_context(licence_id).licensee
            return licensees[licence_id]

        line_store = line_store or OutboxLineStore(outbox)
        feed_sink = feed_sink or OutboxFeedSink(outbox, licensee_of)
    pool = PoolSize(settings.pool_size(), settings.db_max_overflow, settings.db_pool_timeout_seconds)
    engine = make_engine(settings.database(), pool)
    sessions = make_sessions(engine)
    indexer = Indexer(rpc, manifest, sessions, batch_blocks=settings.index_batch_blocks)
    uploads: UploadStore | None = None
    if settings.oracle_inbox is not None:
        if not settings.oracle_inbox.is_dir():
            raise StartupError(f"API_ORACLE_INBOX {settings.oracle_inbox} is not a folder")
        uploads = UploadStore(settings.oracle_inbox, settings.max_upload_bytes, settings.upload_expiry_seconds)
    return Services(
        settings=settings,
        manifest=manifest,
        chain=chain,
        rpc=rpc,
        engine=engine,
        sessions=sessions,
        indexer=indexer,
        relayer=relayer,
        line_store=line_store or NoLineStore(),
        feed_sink=feed_sink or DiscardingFeedSink(),
        outbox=outbox,
        uploads=uploads,
        relay_callers=callers_file.current() if callers_file is not None else {},
        relay_callers_file=callers_file,
        relay_usage=UsageBook(settings.relay_usage()),
    )
