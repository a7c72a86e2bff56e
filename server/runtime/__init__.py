"""The server runtime: configuration, security, interceptors, start-up and shutdown."""
