"""Encryption at rest: envelope encryption with per-subject data keys, blind indexes, rotation, shredding."""
