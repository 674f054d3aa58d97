"""The keeper: the time-based actions of every licence, performed once their time has come.

``royalty-oracle keep`` runs it (``--once`` for one round); ``make run`` starts it next to the
chain, the API and the oracle. :mod:`oracle.keeper.work` derives what is due from the chain,
:mod:`oracle.keeper.keeper` performs it, :mod:`oracle.keeper.settings` configures it (KEEPER_).
It lives in the oracle package because it is an operator's service run from the same CLI, but it
shares nothing with the oracle's outbox: everything it knows, it reads from the chain.
"""

from oracle.keeper.keeper import KEEPER_FAULT_POINTS, Charge, Keeper, Release, RoundResult
from oracle.keeper.settings import KeeperSettings

__all__ = ["KEEPER_FAULT_POINTS", "Charge", "Keeper", "KeeperSettings", "Release", "RoundResult"]
