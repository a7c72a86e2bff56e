"""Fakes at the process boundary: real processes on loopback that stand in for outside systems."""
