"""Dossiers an agency sent back to the commune (liên thông): transferred back to the office, or
finished at the agency with the result for the desk to hand over. A dossier stays listed until
the desk acts on it again (its newest event is then the desk's own)."""
from .dossiers import Dossier, DossierEvent


def back_from_agencies(office_agency, limit=50):
    """[(dossier, event, kind)] newest first; kind is "returned" (to be worked on here) or
    "finished" (the agency has the result: hand it to the citizen)."""
    went_out = (DossierEvent.select(DossierEvent.dossier)
                .where(DossierEvent.agency != "", DossierEvent.agency != office_agency).distinct())
    found = []
    for dossier in Dossier.select().where(Dossier.id.in_(went_out), Dossier.status.in_((2, 4, 5, 6, 9))):
        last = (DossierEvent.select().where(DossierEvent.dossier == dossier.id)
                .order_by(DossierEvent.at.desc(), DossierEvent.id.desc()).first())
        if last is None:
            continue
        back_here = last.action == "transfer" and last.agency == office_agency
        if back_here and _came_from_agency(dossier, last, office_agency):
            found.append((dossier, last, "returned"))
        elif last.action == "finish" and last.agency and last.agency != office_agency:
            found.append((dossier, last, "finished"))
    found.sort(key=lambda row: row[1].at, reverse=True)
    return found[:limit]


def _came_from_agency(dossier, last, office_agency):
    before = (DossierEvent.select().where(DossierEvent.dossier == dossier.id, DossierEvent.id != last.id,
                                          DossierEvent.at <= last.at)
              .order_by(DossierEvent.at.desc(), DossierEvent.id.desc()).first())
    return before is not None and before.agency not in ("", office_agency)
