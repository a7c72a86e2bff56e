"""The CustomerService answering engine: grounded answers, approved answers first, a deterministic handoff."""
