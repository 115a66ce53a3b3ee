"""One thin module per outbound channel (``sms``, ``email``), each with ``send``.

Both write to the development outbox when ``OUTBOX_ENABLED`` is set, and reach
the real provider otherwise.
"""


class ChannelError(RuntimeError):
    """Sending failed; ``permanent`` errors must not be retried."""

    def __init__(self, message: str, *, code: str | None = None, permanent: bool = False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent
