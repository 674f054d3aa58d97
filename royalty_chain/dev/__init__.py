"""Development tooling: local chains started from a checkout, and the well-known dev keys.

Kept apart from the runtime modules of :mod:`royalty_chain` so that nothing a service imports in
its normal path needs a checkout (node_modules, ``ape``) or knows a development key. The services
reach in here only lazily, for the documented local-only fallback to the dev keys on a local chain
(:func:`royalty_chain.networks.is_local_chain`). It stays inside the installed package (rather
than a top-level ``devchain/``) because the tests, scripts and benches import it from wherever
the package is installed, and ``royalty_chain.spec`` resolves development role names with it.
"""
