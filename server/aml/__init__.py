"""AML: transaction screening, account alerts and network investigation.

Engines here work on columnar domain data (Polars/NumPy) and never import ``grpc``:
:mod:`server.aml.screening` (decisions, rule hits, alerts; incremental state in
:mod:`server.aml.state`), :mod:`server.aml.network` (investigations), :mod:`server.aml.rules`
(the versioned rule set, ``rules.toml``). :mod:`server.aml.amlsim` and
:mod:`server.aml.enrichment` load and enrich AMLSim archives; :mod:`server.aml.mapping`
converts to and from ``fintech.aml.v1`` messages.
"""
