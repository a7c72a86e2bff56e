"""The shared storage layer: engine, unit of work, migrations, page tokens, idempotency, backup."""
