"""Child process of the SIGKILL test: works a box database until it is killed.

Usage: python issuer.py DB_PATH SEED       one issuer, in this process
       python issuer.py DB_PATH --zygote   a fork server: each line ``spawn SEED`` read on
                                           stdin forks an issuer (start-up paid once)

It issues tickets and, now and then, calls, serves, finishes, recalls, transfers, cancels,
rates and moves officers between counters, so every replicated table the queue writes is
written. After each domain call returns (its transaction committed) it writes one line to
stdout with a single ``write()`` (atomic on a pipe): that is what the client was told.
Each line starts with the issuer's pid (several issuers may share the pipe of a zygote):

    ready
    T <ticket id> <day> <prefix> <seq> <number>   a ticket was issued
    E <ticket id> <action>                        an event of that ticket was committed
                                                  (not "serve": starting twice writes nothing)
    R <rating id> <ticket id>                     a rating was committed

Kept small: the start-up of this process is most of the cost of one kill round. The node
identity and the demo office are created by the parent, once. The zygote imports the code
but never opens the database: each forked issuer opens its own connection.

The zygote also writes ``spawned <pid>`` after each fork and ``exit <pid> <code>`` once it
has reaped an issuer (after everything that issuer wrote: it wrote before it died).
"""
import faulthandler
import os
import random
import signal
import sys

from office import queue, ratings
from office.db import bind, open_database
from office.errors import Conflict, MotcuaError
from office.models import MODELS, Counter, Officer, Service, Ticket


def ack(*parts):
    os.write(1, (" ".join(map(str, (os.getpid(),) + parts)) + "\n").encode())


def say(*parts):
    os.write(1, (" ".join(map(str, parts)) + "\n").encode())


def work(path, seed):
    faulthandler.register(signal.SIGUSR1)  # the parent asks for the stack of an issuer that hangs
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
            try:
                queue.sign_in(number, officer)
            except Conflict:  # the other issuer of a two-issuer round seated someone there meanwhile
                pass
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


def zygote(path):
    import select
    import traceback

    pending = b""
    while True:
        readable, _, _ = select.select([0], [], [], 0.01)
        while True:  # reap before reading: an exit is reported after all the issuer wrote
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            say("exit", pid, os.waitstatus_to_exitcode(status))
        if not readable:
            continue
        chunk = os.read(0, 4096)
        if not chunk:  # the parent is gone or done
            return
        *commands, pending = (pending + chunk).split(b"\n")
        for command in commands:
            verb, seed = command.decode().split()
            assert verb == "spawn", command
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    work(path, int(seed))
                except BaseException:  # noqa: BLE001 - printed, then the fork ends here
                    traceback.print_exc()
                finally:
                    os._exit(code)
            say("spawned", pid)


if __name__ == "__main__":
    if sys.argv[2] == "--zygote":
        zygote(sys.argv[1])
    else:
        work(sys.argv[1], int(sys.argv[2]))
