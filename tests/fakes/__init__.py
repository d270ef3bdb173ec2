"""Fakes of outside services, served for real on 127.0.0.1 (never any other address)."""
