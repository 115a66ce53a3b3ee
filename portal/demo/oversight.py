"""The demo's log oversight: a first checkpoint and verification of the seeded log.

On the embedded default no periodic job runs (there is no worker), so without this
the log page would say "never verified, no checkpoint" until someone ran
``flask audit checkpoint``. Seeded once: a demo that has a checkpoint is left alone.
"""

from __future__ import annotations

from portal.audit import checkpoints


def seed_oversight() -> None:
    """Sign a checkpoint of the log as seeded, then verify the log against it."""
    if checkpoints.directory() is None or checkpoints.checkpoint_files():
        return
    checkpoints.make_checkpoint()
    checkpoints.verify_log()
