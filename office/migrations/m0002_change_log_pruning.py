"""Change-log retention: the box keeps the seq and hash of the newest entry it pruned, the anchor
from which the rest of its chain is verified."""
from peewee import CharField, IntegerField

NAME = "change log pruning anchor"


def up(step):
    step.add_column("sync_node", "pruned_seq", IntegerField(default=0))
    step.add_column("sync_node", "pruned_hash", CharField(default=""))
