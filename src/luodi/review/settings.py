"""Settings of the review queue in ``luodi serve`` (``LUODI_SERVE_REVIEW__*``); also read by ``luodi review``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReviewSettings(BaseModel):
    """The review queue in ``luodi serve`` (``LUODI_SERVE_REVIEW__*``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True  # mount /ui and /ui/api
    keep: bool = True  # keep every extraction with needs_review (sync, batch, job) for review
    db_url: str | None = None  # default sqlite:///$LUODI_HOME/review/review.db
    images: str | None = None  # a folder or s3://bucket/prefix; default $LUODI_HOME/review/images
    lease_s: float = Field(300.0, gt=0, le=24 * 3600)
