"""One commune box as its own process, for the chaos test.

    python tests/chaos/box_driver.py CONFIG.json

CONFIG: dir, name, commune, hub_url (the fault proxy), hub_key, seed, ops, restore (bool),
services (codes this box issues), counter (number it calls at), officer (username),
hot_places (hub-made place ids edited concurrently), control (directory of marker files),
deadline_s, skew_ms (this box's clock offset), sync_timeout.

Phases:
1. identity (key already registered at the hub) and data: ``seed_office`` or, for a
   second box of a commune, ``restore`` from the hub's snapshot;
2. sync until the office, its services and the hot places are here, sign in at a counter;
3. edit the hot places' ``description`` WITHOUT syncing, write ``ready-<name>``, wait for
   ``go`` (the test edits the same fields at the hub meanwhile): concurrent by design;
4. random writes (tickets issued/called/finished, ratings, place edits and creations)
   interleaved with ``sync_now``, until ``ops`` are done AND the hub restart happened (the
   ``restarted`` marker) and a few more ops ran after it; bounded by ``deadline_s``;
5. write ``result-<name>.json`` and exit (no final sync: the test heals and syncs).
"""
import json
import random
import sys
import time
import traceback
from pathlib import Path


def main(config_path):
    config = json.loads(Path(config_path).read_text())
    started = time.monotonic()
    deadline = started + config.get("deadline_s", 60)
    control = Path(config["control"])
    name = config["name"]
    result = {"name": name, "errors": [], "sync_ok": 0, "sync_failed": 0, "sync_errors": {}, "ops": {},
              "tickets": [], "places_created": [], "place_edits": 0, "timed_out": False, "phase": "start"}
    try:
        run(config, control, name, deadline, result)
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        result["errors"].append(traceback.format_exc())
    result["elapsed_s"] = round(time.monotonic() - started, 2)
    Path(control / f"result-{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))


def run(config, control, name, deadline, result):
    skew_ms = int(config.get("skew_ms", 0))
    if skew_ms:
        import sync.capture

        real_now_ms = sync.capture.now_ms
        sync.capture.now_ms = lambda: real_now_ms() + skew_ms  # the HLC's wall clock on this box

    from motcua.settings import load_settings
    from office import queue, ratings
    from office.communes import find_commune
    from office.db import bind, open_database
    from office.errors import MotcuaError
    from office.models import MODELS, Counter, Officer, Place, Service, Ticket
    from office.seed import seed_office
    from provisioning.identity import ensure_identity, ensure_key
    from sync import box as sync_box

    rng = random.Random(config["seed"])
    settings = load_settings("edge", environ={}, overrides={
        "data_dir": config["dir"], "commune_code": config["commune"], "hub_url": config["hub_url"],
        "sync_timeout": config.get("sync_timeout", 5.0)})
    db = bind(open_database(settings["database"]), MODELS)
    node_id = ensure_identity(config["dir"], config["commune"], config["hub_url"], config["hub_key"])
    key = ensure_key(config["dir"])
    result["node_id"] = node_id
    policy = queue.QueuePolicy()

    def time_left():
        return deadline - time.monotonic()

    def sync():
        outcome = sync_box.sync_now(settings, key)
        if outcome["ok"]:
            result["sync_ok"] += 1
        else:
            result["sync_failed"] += 1
            kind = outcome["error"][:60]
            result["sync_errors"][kind] = result["sync_errors"].get(kind, 0) + 1
        return outcome

    # 1. data
    result["phase"] = "data"
    if config.get("restore"):
        while True:
            if time_left() <= 0:
                raise RuntimeError("restore did not succeed in time")
            try:
                result["restored"] = sync_box.restore(sync_box.client_for(settings, key))
                break
            except (sync_box.HubUnreachable, sync_box.HubRefused, sync_box.SyncFailed) as exc:
                result.setdefault("restore_errors", []).append(str(exc)[:120])
                time.sleep(0.1)
    else:
        seed_office(find_commune(config["commune"]))

    # 2. converge once
    result["phase"] = "initial sync"
    hot = config["hot_places"]
    for _attempt in range(500):
        if time_left() <= 0:
            raise RuntimeError("initial sync did not converge in time")
        outcome = sync()
        if (outcome["ok"] and outcome["pending"] == 0 and Service.select().count() >= 5
                and Place.select().where(Place.id.in_(hot)).count() == len(hot)):
            break
        time.sleep(0.05)
    officer = Officer.get(Officer.username == config["officer"])
    counter = queue.sign_in(config["counter"], officer)

    # 3. concurrent edits of the hot places (not synced before the go)
    result["phase"] = "concurrent edit"
    for pk in hot:
        place = Place.get_by_id(pk)
        place.description = f"{name}: concurrent edit"
        place.save()
    (control / f"ready-{name}").write_text(node_id)
    while not (control / "go").exists():
        if time_left() <= 0:
            raise RuntimeError("no go from the test")
        time.sleep(0.02)

    # 4. random writes under faults
    result["phase"] = "writes"
    services = config["services"]
    weights = {"issue": 28, "call": 14, "finish": 10, "rate": 8, "edit_place": 22, "create_place": 4, "sync": 14}
    kinds, cumulative = list(weights), list(weights.values())
    done, after_restart = 0, 0
    ops_goal, after_goal = config["ops"], config.get("ops_after_restart", 12)
    while True:
        restarted = (control / "restarted").exists()
        if done >= ops_goal and restarted and after_restart >= after_goal:
            break
        if time_left() <= 0:
            result["timed_out"] = True
            break
        kind = rng.choices(kinds, cumulative)[0]
        try:
            if kind == "issue":
                ticket = queue.issue_ticket(policy, rng.choice(services), priority=rng.choice([None, None, "elderly"]))
                result["tickets"].append(ticket.id)
            elif kind == "call":
                queue.call_next(policy, counter.id)
            elif kind == "finish":
                current = queue.current_ticket(counter.id)
                if current is not None and current.state == Ticket.CALLED:
                    queue.start_serving(counter.id)
                queue.finish(counter.id)
            elif kind == "rate":
                last = (Ticket.select().where(Ticket.counter == counter.id, Ticket.state == Ticket.DONE,
                                              Ticket.commune == config["commune"])
                        .order_by(Ticket.ended_at.desc()).first())
                if last is not None:
                    ratings.rate(last.id, rng.choice([1, 2, 3]), reason=f"{name} {done}")
            elif kind == "edit_place":
                pks = [p.id for p in Place.select(Place.id)]
                pk = rng.choice(hot) if rng.random() < 0.5 else rng.choice(pks)
                place = Place.get_by_id(pk)
                for field in rng.sample(["name", "category", "address", "description", "phone",
                                         "opening_hours", "active"], rng.choice([1, 1, 2])):
                    setattr(place, field, _value(rng, field, name, done))
                place.save()
                result["place_edits"] += 1
            elif kind == "create_place":
                place = Place.create(name=f"{name} place {done}", category=rng.choice(["school", "market", "health"]))
                result["places_created"].append(place.id)
            elif kind == "sync":
                sync()
        except MotcuaError as exc:  # nobody waiting, nothing to finish, already rated...
            result["ops"]["refused"] = result["ops"].get("refused", 0) + 1
            del exc
        result["ops"][kind] = result["ops"].get(kind, 0) + 1
        done += 1
        if restarted:
            after_restart += 1
        time.sleep(rng.uniform(0, 0.02))
    result["done"] = done
    result["phase"] = "finished"
    with db.atomic():
        result["last_seq"] = sync_box.status()["last_seq"]
    result["counter_id"] = Counter.get(Counter.number == config["counter"]).id
    db.close()


def _value(rng, field, name, i):
    if field == "active":
        return rng.random() < 0.7
    if field == "phone":
        return f"0208 {rng.randrange(10**6):06d}"
    return f"{field} by {name} #{i}"


if __name__ == "__main__":
    main(sys.argv[1])
