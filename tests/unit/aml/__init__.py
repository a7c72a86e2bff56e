"""AML unit tests."""
