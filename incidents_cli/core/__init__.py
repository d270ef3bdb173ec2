"""The pure core: the vocabulary, the records, the lifecycle and every rule.

Imports nothing outside core (tests/test_architecture.py checks it)."""
