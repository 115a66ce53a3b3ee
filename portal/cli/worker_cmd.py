"""``flask worker``: an rq worker (with its scheduler) inside an app context."""

from __future__ import annotations

import threading

import click
from flask import Flask, current_app

from portal.core import jobs, periodic


def _worker_class():
    from rq import SimpleWorker

    from portal.extensions import db

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
