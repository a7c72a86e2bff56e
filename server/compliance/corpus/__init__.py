"""The sample corpus of the compliance domain: regulations, contracts, labels and their generator."""
