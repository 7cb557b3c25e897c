"""The hub's memory of shared fields: every write, and the values concurrent edits overwrote."""
import json

from office.clock import utcnow

from .encoding import canonical
from .merge import Write, field_outcome
from .models import Conflict, FieldWrite


class FieldHistory:
    """Every write of shared fields, and the conflicts between them (see ``sync.merge``)."""

    def take(self, table, pk, field, write, scope):
        """Remember ``write``, record every value now known to be concurrently overwritten,
        and say whether ``write`` is the field's value (False for a duplicate or a loser)."""
        writes = self.writes(table, pk, field)
        if write in writes:
            return False
        FieldWrite.create(table=table, pk=pk, field=field, hlc=write.hlc, origin=write.origin,
                          base=write.base, value=_dump(write.value), scope=scope)
        winner, losers = field_outcome(writes | {write})
        known = {(c.loser_hlc, c.loser_origin) for c in Conflict.select(Conflict.loser_hlc, Conflict.loser_origin)
                 .where(Conflict.table == table, Conflict.pk == pk, Conflict.field == field)}
        for loser in losers:
            if (loser.hlc, loser.origin) not in known:
                Conflict.create(table=table, pk=pk, field=field, scope=scope, loser_value=_dump(loser.value),
                                loser_hlc=loser.hlc, loser_origin=loser.origin, winner_value=_dump(winner.value),
                                winner_hlc=winner.hlc, winner_origin=winner.origin, recorded_at=utcnow())
        return winner == write

    def writes(self, table, pk, field):
        rows = FieldWrite.select().where(FieldWrite.table == table, FieldWrite.pk == pk, FieldWrite.field == field)
        return {Write(r.hlc, r.origin, r.base, json.loads(r.value)) for r in rows}


def _dump(value):
    return canonical(value).decode()
