"""The box's change log stays bounded: confirmed, old entries go; the chain stays verifiable."""
from datetime import timedelta

from office.clock import utcnow
from office.queue import issue_ticket
from sync.capture import this_node
from sync.models import ChangeEntry, SyncNode
from sync.retention import prune, verify_chain


def _issue(policy, count):
    for _ in range(count):
        issue_ticket(policy, "ho-tich")


def _age_all(days):
    ChangeEntry.update(created_at=utcnow() - timedelta(days=days)).execute()


def _ack(seq):
    SyncNode.update(acked_seq=seq).execute()


def test_confirmed_change_log_does_not_grow_for_ever(office, policy):
    _issue(policy, 5)
    _age_all(100)
    node = this_node()
    _ack(node.last_seq)
    assert prune(90) == node.last_seq
    assert ChangeEntry.select().count() == 0
    node = this_node()
    assert (node.pruned_seq, node.pruned_hash) == (node.last_seq, node.last_hash)
    _issue(policy, 2)  # the log goes on from the anchor
    assert verify_chain() == (True, "")


def test_pruned_chain_verifies_from_its_anchor(office, policy):
    _issue(policy, 5)
    _age_all(100)
    middle = this_node().last_seq
    _issue(policy, 5)  # recent: kept
    _ack(this_node().last_seq)
    assert prune(90) == middle
    first = ChangeEntry.select().order_by(ChangeEntry.seq).first()
    assert first.seq == middle + 1 and first.prev == this_node().pruned_hash
    assert verify_chain() == (True, "")


def test_unconfirmed_entries_are_never_pruned(office, policy):
    _issue(policy, 6)
    _age_all(400)
    total = ChangeEntry.select().count()
    _ack(3)
    assert prune(90) == 3
    assert ChangeEntry.select().count() == total - 3
    assert min(e.seq for e in ChangeEntry.select()) == 4  # everything the hub has not confirmed stays
    _ack(0)
    assert prune(1) == 0


def test_recent_entries_are_kept_and_zero_days_keeps_all(office, policy):
    _issue(policy, 3)
    _ack(this_node().last_seq)
    assert prune(90) == 0
    _age_all(1000)
    assert prune(0) == 0
    assert ChangeEntry.select().count() == this_node().last_seq


def test_tampered_or_missing_entry_after_the_anchor_is_found(office, policy):
    _issue(policy, 4)
    _age_all(100)
    _ack(this_node().last_seq - 4)
    prune(90)
    assert verify_chain() == (True, "")
    victim = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    ChangeEntry.update(data='{"number": "A999"}').where(ChangeEntry.id == victim.id).execute()
    ok, problem = verify_chain()
    assert not ok and str(victim.seq) in problem
    ChangeEntry.delete().where(ChangeEntry.id == victim.id).execute()
    ok, problem = verify_chain()
    assert not ok
    SyncNode.update(pruned_hash="x" * 64).execute()
    assert verify_chain()[0] is False


def test_worker_upkeep_prunes_the_log_and_the_previews(office, policy, settings, tmp_path):
    from pathlib import Path

    from edge.tasks import create_huey

    _issue(policy, 3)
    _age_all(100)
    _ack(this_node().last_seq)
    prints = Path(settings["data_dir"]) / "prints"
    prints.mkdir(parents=True)
    for i in range(settings["print_previews_keep"] + 5):
        (prints / f"A{i:04d}.png").write_bytes(b"x")
    huey, tasks = create_huey(settings, immediate=True)
    assert "storage_upkeep" in {t.__name__ for t in huey._registry._periodic_tasks}
    tasks["storage_upkeep"].call_local()
    assert ChangeEntry.select().count() == 0
    assert len(list(prints.iterdir())) == settings["print_previews_keep"]


def test_a_large_prune_goes_in_small_transactions_and_keeps_the_anchor(office, policy):
    _issue(policy, 6)
    _age_all(100)
    node = this_node()
    _ack(node.last_seq)
    assert prune(90, batch=7) == node.last_seq
    node = this_node()
    assert (node.pruned_seq, node.pruned_hash) == (node.last_seq, node.last_hash)
    _issue(policy, 1)
    assert verify_chain() == (True, "")


def test_crash_harness_chain_check_starts_from_the_anchor(office, policy):
    from tests.crash.harness import check_chain

    _issue(policy, 4)
    _age_all(100)
    _ack(this_node().last_seq - 3)
    assert prune(90) > 0
    entries, problems = check_chain(this_node().node_id)
    assert problems == [] and entries[0]["seq"] == this_node().pruned_seq + 1
