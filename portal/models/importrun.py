"""One upload of an affected-persons CSV through the helpdesk, and its outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.base import UTCDateTime, one_of, utcnow

IMPORT_STATUSES = ("queued", "running", "finished", "failed")


class ImportRun(db.Model):
    """An import job. The uploaded file is kept encrypted until the job has read it.

    ``errors_csv`` and ``errors_sample`` name lines, columns and reasons only,
    never a value from the file.
    """

    __tablename__ = "import_run"
    __table_args__ = (one_of("status", IMPORT_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    processed_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)  # English, as logged
    # Why a file could not be read, translatable (``ImportFileError.record``).
    error_reason: Mapped[dict | None] = mapped_column(JSON)
    errors_sample: Mapped[list] = mapped_column(JSON, default=list)
    errors_csv: Mapped[str | None] = mapped_column(Text)
    upload: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token of the file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        if self.status == "finished":
            return 100
        if not self.total_bytes:
            return 0
        return min(100, int(100 * self.processed_bytes / self.total_bytes))

    def __repr__(self) -> str:
        return f"<ImportRun {self.id} {self.status}>"
