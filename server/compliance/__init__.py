"""Compliance domain: regulation interpretation, version comparison and contract review.

The engines here are deterministic and work on the frozen dataclasses of
:mod:`server.compliance.domain`; the servicer (later) only maps protobuf to
those types (:mod:`server.compliance.mapping`) and calls the engines.
"""
