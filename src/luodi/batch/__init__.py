"""Batch runs over folders, globs, list files or S3 prefixes: ``luodi batch`` (docs/batch.md).

One process (``engine="local"``) or a Ray cluster (``engine="ray"``, the ``luodi[ray]`` extra) runs
the same :class:`~luodi.batch.worker.BatchWorker` over the inputs; results go into atomically
written, resumable parts (:mod:`luodi.batch.layout`).
"""

from luodi.batch.engine import BatchOptions, BatchReport, run_batch
from luodi.batch.inputs import Inputs, list_inputs
from luodi.batch.worker import BatchWorker, WorkSpec

__all__ = ["BatchOptions", "BatchReport", "BatchWorker", "Inputs", "WorkSpec", "list_inputs", "run_batch"]
