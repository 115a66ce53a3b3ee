"""``flask worker``: an rq worker (with its scheduler) inside an app context."""

from __future__ import annotations

import os
import threading

import click
from flask import Flask, current_app

from portal.core import jobs, periodic


def _scheduler_class():
    from rq.scheduler import RQScheduler

    class WorkerBoundScheduler(RQScheduler):
        """rq's scheduler, which stops when the worker that started it is gone.

        rq runs the scheduler in a process forked from the worker. A worker killed with
        SIGKILL (the OOM killer, a ``kill -9``, a container stopping only its main
        process) cannot stop it, and rq's scheduler never looks at its parent: it ran on,
        orphaned, holding the queue's scheduler lock for good, with the code of whatever
        release started it. Here its heartbeat (every second) notices the new parent,
        and it stops as on SIGTERM: the lock released, so the next worker's scheduler
        takes over at once rather than after the lock's time-out.
        """

        worker_pid: int | None = None

        def start(self):
            self.worker_pid = os.getpid()  # before the fork: the worker's pid
            return super().start()

        def heartbeat(self):
            forked = self.worker_pid is not None and os.getpid() != self.worker_pid
            if forked and os.getppid() != self.worker_pid:
                self.log.warning("Scheduler: worker %s is gone, stopping", self.worker_pid)
                self.request_stop()
            return super().heartbeat()

    return WorkerBoundScheduler


def _worker_class():
    from rq import SimpleWorker
    from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT

    from portal.extensions import db

    scheduler_class = _scheduler_class()

    class AppWorker(SimpleWorker):
        """Runs jobs in this process, inside the command's app context.

        No fork per job: database connections are never shared across a fork,
        and each job ends by returning its session to the pool.
        """

        def perform_job(self, job, queue):
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()

        def _start_scheduler(self, burst=False, logging_level="INFO",
                             date_format=DEFAULT_LOGGING_DATE_FORMAT,
                             log_format=DEFAULT_LOGGING_FORMAT):
            # rq 2.12's ``Worker._start_scheduler`` with the scheduler class above (rq builds
            # an ``RQScheduler`` by name there); tests/dispatch/test_worker_scheduler.py
            # kills a worker and fails if an upgrade of rq bypasses this.
            self.scheduler = scheduler_class(
                self.queues, connection=self.connection, serializer=self.serializer,
                logging_level=logging_level if logging_level is not None else self.log.level,
                date_format=date_format, log_format=log_format)
            self.scheduler.acquire_locks()
            if self.scheduler.acquired_locks:
                if burst:
                    try:
                        self.scheduler.register_birth()
                        self.scheduler.enqueue_scheduled_jobs()
                    finally:
                        self.scheduler.release_locks()
                        self.scheduler.register_death()
                else:
                    self.scheduler.start()

    return AppWorker


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker(burst: bool) -> None:
    """Process background jobs from Redis."""
    queue = jobs.queue()
    if queue is None:
        raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker is needed")
    worker_ = _worker_class()([queue], connection=queue.connection)
    current_app.logger.info("worker listening on %s", queue.name)
    stop = threading.Event()
    if not burst:
        # Periodic jobs (portal.core.periodic): offered to the queue once per period.
        periodic.start_ticker(current_app._get_current_object(), stop)
    try:
        worker_.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()


def register(app: Flask) -> None:
    app.cli.add_command(worker)
