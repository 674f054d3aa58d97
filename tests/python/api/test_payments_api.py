"""The money actions through the HTTP API without web3 on the client, on Anvil and on Ganache:
relayed withdrawals for a payee and for the tax account, a deposit by the licensee's EIP-2612
permit, and the unsigned approve and deposit transactions signed by the licensee's own key.

Every licence here: 8% of net sales, payees licensor_brand 60% / co_owner 40%, 10% withheld for
the tax authority, no dispute window (a settlement is final at once). Token: USDX, 6 decimals.
Every bad input is answered with a problem naming what is wrong, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from apikit import USDX, Node, bucket, chain_time, fund, register, settle, synced, terms_json
from eth_account import Account

from royalty_chain.clients import TokenClient
from royalty_chain.dev.keys import role
from royalty_chain.terms import DAY


def _licence(node: Node, licensee: str = "licensee_apparel") -> int:
    terms = terms_json(node.chain, chain_time(node.chain) - 31 * DAY, licensee=role(licensee).address)
    licence_id = register(node.client, terms, licensee=licensee)
    synced(node.services)
    return licence_id


def _usdx(node: Node) -> TokenClient:
    return node.chain.token(node.chain.manifest.token("USDX").address)


def _problem(answer: Any, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["type"] == f"/problems/{kind}", problem
    return problem


def test_relayed_withdrawals_pay_the_payee_its_part_and_the_tax_account_its_tax(node: Node) -> None:
    chain, client = node.chain, node.client
    licence_id = _licence(node)
    fund(chain, licence_id, 10_000 * USDX)
    # 100,000 USDX sold: royalty 8% = 8,000; tax 10% = 800; the payees' 7,200 split 60/40:
    # licensor_brand 4,320, co_owner 2,880.
    settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 10, 100_000 * USDX)])
    token, ledger = _usdx(node), chain.ledger
    co_owner, licensor, tax = role("co_owner").address, role("licensor_brand").address, role("tax_authority").address
    assert (ledger.claimable(licence_id, co_owner), ledger.claimable(licence_id, licensor)) == (
        2_880 * USDX,
        4_320 * USDX,
    )
    before = {a: token.balance_of(a) for a in (co_owner, licensor, tax, role("relayer").address)}

    paid = client.post(f"/licences/{licence_id}/withdrawals", json={"payee": co_owner.lower()})
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert (body["licence_id"], body["account"], body["amount"], body["tax"]) == (
        licence_id, co_owner, "2880000000", False,
    )  # fmt: skip
    assert body["tx_hash"].startswith("0x") and body["block_number"] > 0
    assert token.balance_of(co_owner) == before[co_owner] + 2_880 * USDX
    assert ledger.claimable(licence_id, co_owner) == 0
    assert ledger.claimable(licence_id, licensor) == 4_320 * USDX  # untouched
    assert token.balance_of(role("relayer").address) == before[role("relayer").address]  # it pays gas only

    taxed = client.post(f"/licences/{licence_id}/tax-withdrawals")
    assert taxed.status_code == 201, taxed.text
    assert (taxed.json()["account"], taxed.json()["amount"], taxed.json()["tax"]) == (tax, "800000000", True)
    assert token.balance_of(tax) == before[tax] + 800 * USDX
    assert ledger.tax_claimable(licence_id) == 0

    # Bad inputs, each refused before anything is sent.
    after = {a: token.balance_of(a) for a in before}
    again = _problem(client.post(f"/licences/{licence_id}/withdrawals", json={"payee": co_owner}), 422,
                     "contract-rejected")  # fmt: skip
    assert again["error"] == "NothingToWithdraw"
    assert again["arguments"] == {"licenceId": str(licence_id), "account": co_owner}
    tax_again = _problem(client.post(f"/licences/{licence_id}/tax-withdrawals"), 422, "contract-rejected")
    assert tax_again["error"] == "NothingToWithdraw" and tax_again["arguments"]["account"] == tax
    outsider = role("licensee_apparel").address
    not_payee = _problem(client.post(f"/licences/{licence_id}/withdrawals", json={"payee": outsider}), 422,
                         "contract-rejected")  # fmt: skip
    assert not_payee["error"] == "NotPayee" and not_payee["arguments"]["account"] == outsider
    _problem(client.post("/licences/999999/withdrawals", json={"payee": co_owner}), 404, "not-found")
    _problem(client.post("/licences/999999/tax-withdrawals"), 404, "not-found")
    zero = _problem(client.post(f"/licences/{licence_id}/withdrawals", json={"payee": "0x" + "0" * 40}), 422,
                    "invalid-input")  # fmt: skip
    assert zero["errors"][0]["field"] == "body.payee"
    assert {a: token.balance_of(a) for a in before} == after
    assert ledger.claimable(licence_id, licensor) == 4_320 * USDX


def _permit_draft(node: Node, licence_id: int, amount: int, **extra: Any) -> dict[str, Any]:
    answer = node.client.post(f"/licences/{licence_id}/deposits/permit/drafts", json={"amount": str(amount), **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _wallet_sign(typed_data: dict[str, Any], role_name: str) -> str:
    """What a wallet's eth_signTypedData_v4 answers for the draft's typed data."""
    return "0x" + bytes(Account.sign_typed_data(role(role_name).key, full_message=typed_data).signature).hex()


def test_permit_deposit_pays_arrears_first_then_escrow(node: Node) -> None:
    chain, client = node.chain, node.client
    licence_id = _licence(node)
    # 10,000 USDX sold with nothing in escrow: the royalty of 800 becomes arrears.
    settle(chain, licence_id, 0, [bucket("US", "apparel", "retail", 1, 10_000 * USDX)])
    assert chain.ledger.arrears_of(licence_id) == 800 * USDX
    token, licensee = _usdx(node), role("licensee_apparel")
    token.mint(licensee.address, 2_500 * USDX, licensee)
    balance, nonce = token.balance_of(licensee.address), token.nonces(licensee.address)

    draft = _permit_draft(node, licence_id, 2_500 * USDX)
    assert (draft["owner"], draft["spender"], draft["token"]) == (licensee.address, chain.ledger.address, token.address)
    assert (draft["value"], draft["nonce"]) == ("2500000000", nonce)
    typed = draft["typed_data"]
    assert typed["primaryType"] == "Permit"
    assert typed["domain"] == {"name": "Demo US Dollar", "version": "1", "chainId": chain.chain_id,
                               "verifyingContract": token.address}  # fmt: skip
    assert typed["message"] == {"owner": licensee.address, "spender": chain.ledger.address, "value": 2_500 * USDX,
                                "nonce": nonce, "deadline": draft["deadline"]}  # fmt: skip
    signature = _wallet_sign(typed, "licensee_apparel")
    post = {"amount": "2500000000", "deadline": draft["deadline"], "nonce": nonce, "signature": signature}

    # Bad inputs first: each answered by name, nothing moves.
    url = f"/licences/{licence_id}/deposits/permit"
    wrong = _problem(client.post(url, json={**post, "signature": _wallet_sign(typed, "licensor_brand")}), 422,
                     "signature-invalid")  # fmt: skip
    assert (wrong["party"], wrong["address"]) == ("licensee", licensee.address)
    assert wrong["recovered"] == role("licensor_brand").address
    other_amount = _problem(client.post(url, json={**post, "amount": "2500000001"}), 422, "signature-invalid")
    assert other_amount["errors"][0]["field"] == "signature"
    past = chain_time(chain) - 1
    expired = _problem(client.post(url, json={**post, "deadline": past}), 422, "invalid-input")
    assert expired["errors"][0]["field"] == "deadline"
    ahead = _problem(client.post(url, json={**post, "nonce": nonce + 1}), 422, "invalid-input")
    assert ahead["errors"][0]["field"] == "nonce"
    zero = _problem(client.post(url, json={**post, "amount": 0}), 422, "invalid-input")
    assert zero["errors"][0]["field"] == "body.amount"
    negative = _problem(client.post(url, json={**post, "amount": -5}), 422, "invalid-input")
    assert negative["errors"][0]["field"] == "body.amount"
    _problem(client.post("/licences/999999/deposits/permit", json=post), 404, "not-found")
    _problem(client.post(f"/licences/{licence_id}/deposits/permit/drafts", json={"amount": "1", "deadline": past}),
             422, "invalid-input")  # fmt: skip
    assert (token.balance_of(licensee.address), token.nonces(licensee.address)) == (balance, nonce)
    assert (chain.ledger.escrow_of(licence_id), chain.ledger.arrears_of(licence_id)) == (0, 800 * USDX)

    answer = client.post(url, json=post)
    assert answer.status_code == 201, answer.text
    deposit = answer.json()
    # 2,500 received: 800 pays the arrears, 1,700 goes to escrow.
    assert (deposit["from"], deposit["received"], deposit["to_arrears"], deposit["to_escrow"]) == (
        licensee.address, "2500000000", "800000000", "1700000000",
    )  # fmt: skip
    assert chain.ledger.escrow_of(licence_id) == 2_500 * USDX - 800 * USDX
    assert chain.ledger.arrears_of(licence_id) == 0
    assert token.balance_of(licensee.address) == balance - 2_500 * USDX
    assert token.nonces(licensee.address) == nonce + 1
    synced(node.services)
    assert client.get(f"/licences/{licence_id}").json()["escrow"] == "1700000000"

    # The same permit again: spent, so the ledger can take nothing more.
    replay = _problem(client.post(url, json=post), 422, "contract-rejected")
    assert replay["error"] == "ERC20InsufficientAllowance"
    assert chain.ledger.escrow_of(licence_id) == 1_700 * USDX
    assert token.balance_of(licensee.address) == balance - 2_500 * USDX


def test_permit_deposit_still_deposits_when_someone_submitted_the_permit_first(node: Node) -> None:
    chain = node.chain
    licence_id = _licence(node)
    token, licensee = _usdx(node), role("licensee_apparel")
    token.mint(licensee.address, 1_000 * USDX, licensee)
    balance = token.balance_of(licensee.address)
    draft = _permit_draft(node, licence_id, 1_000 * USDX)
    signature = bytes.fromhex(_wallet_sign(draft["typed_data"], "licensee_apparel")[2:])
    r, s, v = signature[:32], signature[32:64], signature[64]
    # Someone watching submits the permit to the token itself before the API's transaction.
    permit = token.contract.functions.permit(licensee.address, chain.ledger.address, 1_000 * USDX,
                                             draft["deadline"], v, r, s)  # fmt: skip
    chain.transact(permit, role("keeper"))
    answer = node.client.post(
        f"/licences/{licence_id}/deposits/permit",
        json={"amount": 1_000 * USDX, "deadline": draft["deadline"], "nonce": draft["nonce"],
              "signature": "0x" + signature.hex()},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.json()["to_escrow"] == "1000000000"
    assert chain.ledger.escrow_of(licence_id) == 1_000 * USDX
    assert token.balance_of(licensee.address) == balance - 1_000 * USDX


def _send(node: Node, tx: dict[str, Any], role_name: str) -> dict[str, Any]:
    """Signs the API's unsigned transaction with the wallet's key, as it is, and sends it raw."""
    fields = {k: v for k, v in tx.items() if k not in ("purpose", "from")}
    signed = Account.sign_transaction(fields, role(role_name).key)
    w3 = node.chain.w3
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=60)
    assert receipt["status"] == 1
    return dict(receipt)


def test_unsigned_deposit_transactions_signed_by_the_licensees_own_key(node: Node) -> None:
    chain, client = node.chain, node.client
    licence_id = _licence(node, "licensee_devices")
    token, licensee = _usdx(node), role("licensee_devices")
    token.mint(licensee.address, 3_000 * USDX, licensee)
    token.approve(chain.ledger.address, 0, licensee)  # no allowance left by earlier tests
    balance = token.balance_of(licensee.address)
    url = f"/licences/{licence_id}/deposits/transactions"

    # Bad inputs: named, and nothing built.
    assert _problem(client.get(url, params={"amount": 0}), 422, "invalid-input")["errors"][0]["field"] == "query.amount"
    _problem(client.get(url, params={"amount": -1}), 422, "invalid-input")
    too_much = _problem(client.get(url, params={"amount": balance + 1}), 422, "invalid-input")
    assert too_much["errors"][0]["field"] == "amount"
    _problem(client.get("/licences/999999/deposits/transactions", params={"amount": 1}), 404, "not-found")
    nobody = _problem(client.get(url, params={"amount": 1, "from": "0x" + "0" * 40}), 422, "invalid-input")
    assert nobody["errors"][0]["field"] == "query.from"

    first = client.get(url, params={"amount": 3_000 * USDX})
    assert first.status_code == 200, first.text
    plan = first.json()
    assert (plan["from"], plan["token"], plan["spender"]) == (licensee.address, token.address, chain.ledger.address)
    assert (plan["amount"], plan["allowance"], plan["balance"]) == ("3000000000", "0", str(balance))
    approve, deposit = plan["transactions"]
    nonce = chain.w3.eth.get_transaction_count(licensee.address, "pending")
    assert (approve["purpose"], approve["to"], approve["value"], approve["type"]) == (
        "approve", token.address, "0x0", "0x2",
    )  # fmt: skip
    assert (int(approve["chainId"], 16), int(approve["nonce"], 16)) == (chain.chain_id, nonce)
    assert int(approve["gas"], 16) > 21_000
    assert int(approve["maxFeePerGas"], 16) >= int(approve["maxPriorityFeePerGas"], 16)
    assert approve["data"] == "0x" + token.approve_fn(chain.ledger.address, 3_000 * USDX)._encode_transaction_data()[2:]
    assert (deposit["purpose"], deposit["to"], int(deposit["nonce"], 16), deposit["gas"]) == (
        "deposit", chain.ledger.address, nonce + 1, None,
    )  # fmt: skip
    assert chain.ledger.escrow_of(licence_id) == 0  # nothing sent by the API

    _send(node, approve, "licensee_devices")
    assert token.allowance(licensee.address, chain.ledger.address) == 3_000 * USDX
    second = client.get(url, params={"amount": str(3_000 * USDX)}).json()
    (only,) = second["transactions"]
    assert (only["purpose"], int(only["nonce"], 16), second["allowance"]) == ("deposit", nonce + 1, "3000000000")
    assert only["data"] == deposit["data"]
    _send(node, only, "licensee_devices")

    assert chain.ledger.escrow_of(licence_id) == 3_000 * USDX
    assert token.balance_of(licensee.address) == balance - 3_000 * USDX
    assert token.allowance(licensee.address, chain.ledger.address) == 0


def _index_payees(node: Node, licence_id: int) -> dict[str, tuple[int, int]]:
    """(withdrawn, claimable) per payee as the index shows them."""
    synced(node.services)
    detail = node.client.get(f"/licences/{licence_id}")
    assert detail.status_code == 200, detail.text
    return {p["account"]: (int(p["withdrawn"]), int(p["claimable"])) for p in detail.json()["payees"]}


def test_one_relayed_distribution_pays_every_payee_and_one_claim_collects_many_licences(node: Node) -> None:
    chain, client = node.chain, node.client
    token, ledger = _usdx(node), chain.ledger
    licensor, co_owner = role("licensor_brand").address, role("co_owner").address
    first, second, third = _licence(node), _licence(node), _licence(node)
    for licence_id in (first, second, third):
        fund(chain, licence_id, 10_000 * USDX)
    # 100,000 USDX sold: royalty 8,000, tax 800, the payees' 7,200 split 60/40: 4,320 and 2,880.
    settle(chain, first, 0, [bucket("US", "apparel", "retail", 10, 100_000 * USDX)])
    before = {a: token.balance_of(a) for a in (licensor, co_owner)}

    answer = client.post(f"/licences/{first}/distributions")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["licence_id"], body["from_total"], body["to_total"], body["paid"], body["unpaid"]) == (
        first, "0", "7200000000", "7200000000", "0",
    )  # fmt: skip
    assert body["published_tx_hash"] is None  # two payees: published at registration
    in_order = sorted((licensor, co_owner), key=lambda account: int(account, 16))
    expected = {licensor: "4320000000", co_owner: "2880000000"}
    assert body["payments"] == [{"account": a, "amount": expected[a], "paid": True} for a in in_order]
    assert token.balance_of(licensor) == before[licensor] + 4_320 * USDX
    assert token.balance_of(co_owner) == before[co_owner] + 2_880 * USDX
    # The index follows the one Distributed event (no Withdrawn per payee) and agrees with the chain.
    assert _index_payees(node, first) == {licensor: (4_320 * USDX, 0), co_owner: (2_880 * USDX, 0)}
    assert (ledger.claimable(first, licensor), ledger.claimable(first, co_owner)) == (0, 0)

    again = _problem(client.post(f"/licences/{first}/distributions"), 422, "contract-rejected")
    assert again["error"] == "NothingToDistribute"
    assert again["arguments"] == {"licenceId": str(first), "paidUpTo": "7200000000"}
    _problem(client.post("/licences/999999/distributions"), 404, "not-found")

    # 100,000 on the second licence: licensor 4,320; 50,000 on the third: royalty 4,000, tax 400,
    # 3,600: licensor 2,160. The first owes it nothing now. One claim: 6,480, one transfer.
    settle(chain, second, 0, [bucket("US", "apparel", "retail", 10, 100_000 * USDX)])
    settle(chain, third, 0, [bucket("US", "apparel", "retail", 5, 50_000 * USDX)])
    claimed = client.post("/claims", json={"payee": licensor.lower(), "licence_ids": [first, second, third]})
    assert claimed.status_code == 201, claimed.text
    body = claimed.json()
    assert (body["payee"], body["total"]) == (licensor, "6480000000")
    assert [(w["licence_id"], w["account"], w["amount"]) for w in body["withdrawals"]] == [
        (second, licensor, "4320000000"), (third, licensor, "2160000000"),
    ]  # fmt: skip
    assert token.balance_of(licensor) == before[licensor] + 4_320 * USDX + 6_480 * USDX
    assert _index_payees(node, second) == {licensor: (4_320 * USDX, 0), co_owner: (0, 2_880 * USDX)}
    assert _index_payees(node, third) == {licensor: (2_160 * USDX, 0), co_owner: (0, 1_440 * USDX)}

    # Bad claims: each refused, nothing paid.
    after = {a: token.balance_of(a) for a in (licensor, co_owner)}
    nothing = _problem(client.post("/claims", json={"payee": licensor, "licence_ids": [first, second, third]}), 422,
                       "contract-rejected")  # fmt: skip
    assert nothing["error"] == "NothingToClaim" and nothing["arguments"] == {"payee": licensor}
    outsider = role("licensee_apparel").address
    not_payee = _problem(client.post("/claims", json={"payee": outsider, "licence_ids": [first]}), 422,
                         "contract-rejected")  # fmt: skip
    assert not_payee["error"] == "NotPayee" and not_payee["arguments"]["account"] == outsider
    empty = _problem(client.post("/claims", json={"payee": licensor, "licence_ids": []}), 422, "invalid-input")
    assert empty["errors"][0]["field"] == "body.licence_ids"
    too_many = _problem(client.post("/claims", json={"payee": licensor, "licence_ids": list(range(1, 52))}), 422,
                        "invalid-input")  # fmt: skip
    assert too_many["errors"][0]["field"] == "body.licence_ids"
    assert {a: token.balance_of(a) for a in after} == after
