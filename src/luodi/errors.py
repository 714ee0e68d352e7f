"""One error hierarchy for all of luodi.

Every public failure is a ``LuodiError``. Each class carries the HTTP status the service answers
with and a short ``type`` string used in JSON error bodies, so the CLI and the service report the
same thing. Backend exceptions are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class LuodiError(Exception):
    """Base of every error luodi raises on purpose."""

    http_status: int = 500
    type: str = "luodi_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"type": self.type, "message": self.message}}


# --- configuration -----------------------------------------------------------------------------
class ConfigError(LuodiError):
    """A bad setting, option or config file."""

    http_status = 400
    type = "config_error"


# --- inputs ------------------------------------------------------------------------------------
class InputError(LuodiError):
    """Something about the input the user gave us."""

    http_status = 400
    type = "input_error"


class InputNotFoundError(InputError):
    """A path that does not exist or cannot be read."""

    http_status = 404
    type = "input_not_found"


class EmptyInputError(InputError):
    type = "empty_input"


class UnsupportedFormatError(InputError):
    """The bytes are not an image or PDF we decode (sniffed by content, not extension)."""

    http_status = 415
    type = "unsupported_format"


class CorruptInputError(InputError):
    """Recognised format, but the data is truncated or broken."""

    http_status = 422
    type = "corrupt_input"


class LimitExceededError(InputError):
    http_status = 422
    type = "limit_exceeded"


class TooManyBytesError(LimitExceededError):
    http_status = 413
    type = "too_many_bytes"


class TooManyPixelsError(LimitExceededError):
    type = "too_many_pixels"


class TooManyPagesError(LimitExceededError):
    type = "too_many_pages"


class TooManyFilesError(LimitExceededError):
    http_status = 413
    type = "too_many_files"


class PdfError(CorruptInputError):
    type = "pdf_error"


class EncryptedPdfError(PdfError):
    type = "encrypted_pdf"


class UnknownTaskError(InputError):
    """A task name the processing pipeline does not know (``luodi.Pipeline``)."""

    type = "unknown_task"


# --- models ------------------------------------------------------------------------------------
class ModelError(LuodiError):
    http_status = 500
    type = "model_error"


class UnknownModelError(ModelError):
    http_status = 404
    type = "unknown_model"


class ModelNotPulledError(ModelError):
    http_status = 503
    type = "model_not_pulled"


class ModelIntegrityError(ModelError):
    """A model file whose sha256 does not match its spec."""

    type = "model_integrity"


class ModelExistsError(ModelError):
    http_status = 409
    type = "model_exists"


class ModelSourceError(ModelError):
    """Fetching a model from its source (wheel, S3) failed."""

    http_status = 502
    type = "model_source"


class ModelRegressionError(ModelError):
    """A fine-tuned model lost more on the general regression set (or on unseen dot-matrix printers) than
    export allows unasked."""

    http_status = 409
    type = "model_regression"


# --- runtime -----------------------------------------------------------------------------------
class RuntimeBackendError(LuodiError):
    """An inference backend is missing, refused the model, or failed while running it."""

    http_status = 500
    type = "runtime_error"


# --- extraction --------------------------------------------------------------------------------
class SchemaError(LuodiError):
    http_status = 400
    type = "schema_error"


class UnknownSchemaError(SchemaError):
    http_status = 404
    type = "unknown_schema"


# --- service -----------------------------------------------------------------------------------
class ServiceError(LuodiError):
    http_status = 500
    type = "service_error"


class AuthError(ServiceError):
    http_status = 401
    type = "unauthorized"


class QueueFullError(ServiceError):
    http_status = 503
    type = "queue_full"


class DeadlineExceededError(ServiceError):
    http_status = 504
    type = "deadline_exceeded"


class JobNotFoundError(ServiceError):
    http_status = 404
    type = "job_not_found"


class QuotaExceededError(ServiceError):
    """An API key is over one of its job quotas (jobs queued or running, bytes queued)."""

    http_status = 429
    type = "quota_exceeded"


class QueueUnavailableError(ServiceError):
    """The job queue (Redis) cannot be reached: nothing was created, the client may retry."""

    http_status = 503
    type = "queue_unavailable"


class IdempotencyKeyReusedError(ServiceError):
    """An ``Idempotency-Key`` sent again with a different request than the first time."""

    http_status = 422
    type = "idempotency_key_reused"


# --- datasets ----------------------------------------------------------------------------------
class LabelFormatError(InputError):
    """A dataset label file with a malformed line; the message names the file and line number."""

    http_status = 422
    type = "label_format"


class NotReadyError(ServiceError):
    """The service is up but its models are not loaded (yet, or loading failed)."""

    http_status = 503
    type = "not_ready"


# --- output ------------------------------------------------------------------------------------
class OutputError(LuodiError):
    """A result could not be written (output file or folder not writable)."""

    http_status = 500
    type = "output_error"


# --- batch ------------------------------------------------------------------------------------
class ClusterError(LuodiError):
    """The Ray cluster of a batch run cannot be reached, or failed under the run."""

    http_status = 503
    type = "cluster_error"


# --- review --------------------------------------------------------------------------------------
class ReviewError(LuodiError):
    """The review store (database or image store) failed."""

    http_status = 500
    type = "review_error"


class ReviewItemNotFoundError(ReviewError):
    http_status = 404
    type = "review_item_not_found"


class EditConflictError(ReviewError):
    """The item changed since the caller read it (another reviewer saved first)."""

    http_status = 409
    type = "edit_conflict"


class LeaseHeldError(ReviewError):
    """Another reviewer holds the item's lease."""

    http_status = 409
    type = "lease_held"


class ImagePathError(ReviewError):
    """An image reference that points outside the review image store."""

    http_status = 400
    type = "image_path_refused"
