"""What the API runs on: settings, manifest, chain clients, the index and the plug-in seams."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.indexer.db import make_engine, make_sessions
from api.indexer.indexer import Indexer
from api.indexer.rpc import JsonRpc, RpcError
from api.plugins import DiscardingFeedSink, FeedSink, LineStore, NoLineStore
from api.settings import ApiSettings
from royalty_chain.client import Chain
from royalty_chain.devkeys import role
from royalty_chain.manifest import Manifest, ManifestError, manifest_path
from royalty_chain.tokens import TokenBook

LOCAL_CHAIN_IDS = frozenset({31337, 1337})


class StartupError(Exception):
    """The API cannot start: the message names the setting to fix."""


@dataclass
class Services:
    settings: ApiSettings
    manifest: Manifest
    chain: Chain
    rpc: JsonRpc
    engine: Engine
    sessions: sessionmaker[Session]
    indexer: Indexer
    relayer: LocalAccount | None
    line_store: LineStore = field(default_factory=NoLineStore)
    feed_sink: FeedSink = field(default_factory=DiscardingFeedSink)
    relay_lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: TokenBook = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenBook(self.chain)

    def close(self) -> None:
        self.rpc.close()
        self.engine.dispose()


def build_services(
    settings: ApiSettings, line_store: LineStore | None = None, feed_sink: FeedSink | None = None
) -> Services:
    rpc = JsonRpc(settings.rpc_url)
    try:
        chain_id = rpc.chain_id()
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
    elif chain_id in LOCAL_CHAIN_IDS:
        relayer = role("relayer")
    else:
        relayer = None
    chain = Chain(settings.rpc_url, manifest)
    if settings.oracle_outbox is not None:
        # Imported here: the API runs without the oracle's outbox unless it is configured.
        from oracle.linestore import OutboxFeedSink, OutboxLineStore

        licensees: dict[int, str] = {}

        def licensee_of(licence_id: int) -> str:
            if licence_id not in licensees:
                licensees[licence_id] = str(chain.registry.settlement_context(licence_id)["licensee"])
            return licensees[licence_id]

        line_store = line_store or OutboxLineStore(settings.oracle_outbox)
        feed_sink = feed_sink or OutboxFeedSink(settings.oracle_outbox, licensee_of)
    engine = make_engine(settings.database())
    sessions = make_sessions(engine)
    indexer = Indexer(rpc, manifest, sessions, batch_blocks=settings.index_batch_blocks)
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
    )
