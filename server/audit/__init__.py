"""The tamper-evident audit trail: hash-chained records, signed checkpoints, export, four-eyes approval."""
