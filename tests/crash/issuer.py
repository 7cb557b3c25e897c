"""Child process of the SIGKILL test: works a box database until it is killed.

Usage: python issuer.py DB_PATH SEED

It issues tickets and, now and then, calls, serves, finishes, recalls, transfers, cancels,
rates and moves officers between counters, so every replicated table the queue writes is
written. After each domain call returns (its transaction committed) it writes one line to
stdout with a single ``write()`` (atomic on a pipe): that is what the client was told.

    ready
    T <ticket id> <day> <prefix> <seq> <number>   a ticket was issued
    E <ticket id> <action>                        an event of that ticket was committed
                                                  (not "serve": starting twice writes nothing)
    R <rating id> <ticket id>                     a rating was committed

Kept small: the start-up of this process is most of the cost of one kill round. The node
identity and the demo office are created by the parent, once.
"""
import os
import random
import sys

from office import queue, ratings
from office.db import bind, open_database
from office.errors import MotcuaError
from office.models import MODELS, Counter, Officer, Service, Ticket


def ack(*parts):
    os.write(1, (" ".join(map(str, parts)) + "\n").encode())


def main():
    path, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    bind(open_database(path), MODELS)
    policy = queue.QueuePolicy()
    services = [s.code for s in Service.select(Service.code).order_by(Service.code)]
    counters = {c.number: c.id for c in Counter.select(Counter.number, Counter.id)}
    numbers = sorted(counters)
    officers = list(Officer.select().order_by(Officer.username))
    priorities = list(policy.priority_categories)
    for number, officer in zip(numbers, officers):  # a killed sign-in is redone by the next child
        if Counter.get_by_id(counters[number]).officer_id is None:
            queue.sign_in(number, officer)
    ack("ready")

    def issue():
        ticket = queue.issue_ticket(
            policy, rng.choice(services),
            priority=rng.choice(priorities) if rng.random() < 0.2 else None,
            phone="0912345678" if rng.random() < 0.1 else None,
            print_payload=(lambda t: {"service": t.service_id}) if rng.random() < 0.5 else None,
        )
        ack("T", ticket.id, ticket.day, ticket.prefix, ticket.seq, ticket.number)

    def at_counter(action, name):
        def run():
            ticket = action(counters[rng.choice(numbers)])
            if name:
                ack("E", ticket.id, name)
        return run

    def call_next():
        ticket = queue.call_next(policy, counters[rng.choice(numbers)])
        if ticket is not None:
            ack("E", ticket.id, "call")

    def finish():
        ticket = queue.finish(counters[rng.choice(numbers)])
        ack("E", ticket.id, "finish")
        if rng.random() < 0.6:
            rating = ratings.rate(ticket.id, rng.choice((1, 2, 3)), reason=rng.choice(("", "nhanh", "lâu quá")))
            ack("R", rating.id, ticket.id)

    def transfer():
        number = rng.choice(numbers)
        if rng.random() < 0.5:
            ticket = queue.transfer(counters[number], service_code=rng.choice(services))
        else:
            ticket = queue.transfer(counters[number], to_counter=rng.choice([n for n in numbers if n != number]))
        ack("E", ticket.id, "transfer")

    def cancel():
        waiting = Ticket.select(Ticket.id).where(Ticket.state == Ticket.ISSUED).order_by(Ticket.id.desc()).first()
        if waiting is not None:
            ack("E", queue.cancel(waiting.id).id, "cancel")

    def keypad():
        rating = ratings.rate_at_counter(rng.choice(numbers), rng.choice((1, 2, 3)), window_seconds=3600)
        if rating is not None:
            ack("R", rating.id, rating.ticket_id)

    def reseat():
        number = rng.choice(numbers)
        queue.sign_out(counters[number])
        queue.sign_in(number, rng.choice(officers))  # may take the officer from another counter

    actions = [
        (issue, 45), (call_next, 15), (at_counter(queue.start_serving, None), 6), (finish, 12),
        (at_counter(queue.recall, "recall"), 3), (at_counter(queue.no_show, "no_show"), 3),
        (transfer, 4), (cancel, 2), (keypad, 3), (reseat, 2),
    ]
    funcs, weights = zip(*actions)
    while True:
        action = rng.choices(funcs, weights)[0]
        try:
            action()
        except MotcuaError:  # nobody waiting, no officer seated, nothing called...: the queue said no
            pass


if __name__ == "__main__":
    main()
