"""`ape run deploy`: deploy the registry and the ledger and write the deployment manifest.

    ape run deploy                                   # local Anvil started by ape-foundry
    ape run deploy --network http://127.0.0.1:8545   # any JSON-RPC endpoint (Anvil, Ganache, ...)
    ape run deploy --network ethereum:sepolia:node --account my-deployer

On a local development chain (chain id 31337 or 1337) it also deploys a demo stablecoin (USDX,
6 decimals) and allows it as a payment token; elsewhere pass `--token SYMBOL:ADDRESS:DECIMALS:CCY`
for each token to allow.

`--manifest` (default data/deployments/<chain id>.json) names the pointer to the current
deployment (royalty_chain.deployments): each deployment's manifest is a file of its own next to
it, never overwritten. When the chain holds the current deployment (the code at its addresses is
the code deployed), nothing is deployed; when a deployment is on record but the chain does not
hold it, nothing is deployed either and the command fails saying why: `--force` deploys afresh.
"""

from __future__ import annotations

from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from royalty_chain.deployments import DeploymentNotOnChain, Deployments, code_hash
from royalty_chain.manifest import DEFAULT_DATA_DIR, DeployedContract, Manifest, TokenInfo, manifest_path
from royalty_chain.networks import is_local_chain


def _abi(contract_type: object) -> list[dict]:
    return [item.model_dump(mode="json", by_alias=True) for item in contract_type.abi]  # type: ignore[attr-defined]


@click.command(cls=ConnectedProviderCommand)
@click.option("--account", "account_alias", default=None, help="ape account alias (default: dev account 0)")
@click.option("--manifest", "manifest_file", type=click.Path(path_type=Path), default=None)
@click.option("--token", "tokens", multiple=True, help="SYMBOL:ADDRESS:DECIMALS:CURRENCY to allow")
@click.option("--force", is_flag=True, help="deploy afresh, even where a deployment is on record (it is kept)")
def cli(network, account_alias, manifest_file, tokens, force):
    chain_id = chain.chain_id
    path = manifest_file or manifest_path(chain_id, DEFAULT_DATA_DIR)
    deployments = Deployments(path)
    genesis = chain.blocks[0].hash.hex()
    if not genesis.startswith("0x"):
        genesis = "0x" + genesis
    if not force:
        try:
            existing = deployments.on_chain(chain_id, _read_code)
        except DeploymentNotOnChain as err:
            raise click.ClickException(f"{err}. Nothing was deployed: --force deploys afresh.") from err
        if existing is not None:
            click.echo(f"already deployed on chain {chain_id}: registry {existing.registry.address} ({path})")
            return

    deployer = accounts.load(account_alias) if account_alias else accounts.test_accounts[0]
    if account_alias:
        deployer.set_autosign(False)
    start_block = chain.blocks.head.number + 1
    registry = deployer.deploy(project.LicenceRegistry, deployer.address)
    # The ledger runs settlement and disputes in these modules (deployed apart: nested, they would
    # take the ledger's creation code past EIP-3860's limit).
    # Reports' conversions are checked (and fixed contractual rates held) apart from settlement.
    fx = deployer.deploy(project.LicenceFx, registry.address)
    settlement = deployer.deploy(project.SettlementModule, registry.address, registry.clock(), fx.address)
    disputes = deployer.deploy(project.DisputeModule, registry.address, registry.clock())
    ledger = deployer.deploy(
        project.RoyaltyLedger, registry.address, deployer.address, settlement.address, disputes.address
    )
    registry.setLedger(ledger.address, sender=deployer)
    # Index-linked escalation appends schedule versions: the registry lets this contract only.
    escalator = deployer.deploy(project.LicenceEscalator, registry.address)
    registry.grantRole(registry.ESCALATOR_ROLE(), escalator.address, sender=deployer)
    # Rate reviews hold no role: an accepted review is an amendment both parties signed, relayed.
    reviews = deployer.deploy(project.LicenceReviews, registry.address)

    contracts = {
        "LicenceRegistry": DeployedContract(address=registry.address, abi=_abi(registry.contract_type)),
        "RoyaltyLedger": DeployedContract(address=ledger.address, abi=_abi(ledger.contract_type)),
        "LicenceEscalator": DeployedContract(address=escalator.address, abi=_abi(escalator.contract_type)),
        "LicenceReviews": DeployedContract(address=reviews.address, abi=_abi(reviews.contract_type)),
        "LicenceFx": DeployedContract(address=fx.address, abi=_abi(fx.contract_type)),
        # Deployed by the registry: the consent struct hashes and the report digest oracles sign.
        "LicenceTypedData": DeployedContract(
            address=registry.typedData(), abi=_abi(project.LicenceTypedData.contract_type)
        ),
    }
    token_infos: dict[str, TokenInfo] = {}
    if is_local_chain(chain_id):
        usdx = deployer.deploy(project.TestToken, "Demo US Dollar", "USDX", 6)
        contracts["TestToken"] = DeployedContract(address=usdx.address, abi=_abi(usdx.contract_type))
        token_infos["USDX"] = TokenInfo(address=usdx.address, symbol="USDX", decimals=6, currency="USD")
    for spec in tokens:
        symbol, address, decimals, currency = spec.split(":")
        token_infos[symbol] = TokenInfo(address=address, symbol=symbol, decimals=int(decimals), currency=currency)
    for info in token_infos.values():
        registry.setTokenAllowed(info.address, True, sender=deployer)

    # What recognises this deployment later: the code the chain holds at its addresses now.
    codes = _read_code([c.address for c in contracts.values()])
    manifest = Manifest(
        chain_id=chain_id,
        genesis_hash=genesis,
        deploy_block=start_block,
        deployer=deployer.address,
        network=network.choice,
        contracts=contracts,
        tokens=token_infos,
        code_hashes={name: code_hash(code) for name, code in zip(contracts, codes, strict=True)},
    )
    written = deployments.add(manifest)
    click.echo(f"deployed on chain {chain_id}: registry {registry.address}, ledger {ledger.address}")
    click.echo(f"manifest written to {written} ({path} points to it)")


def _read_code(addresses):
    return [bytes(chain.provider.get_code(address)) for address in addresses]
