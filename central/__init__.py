"""The hub: merges the communes' change logs and serves operators."""
