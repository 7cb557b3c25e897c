"""Replication: hybrid logical clock, change capture, signed batches, merge."""
