"""A task for batch tests: no models, importable by workers (``WorkSpec(tasks={"fake": ...})``).

The pages task returns the decoded image's size; an image 13 pixels wide raises a plain exception
(a bug-like failure, not a LuodiError), and ``$FAKE_TASK_STOP_AFTER`` makes the process die after that
many documents, as a killed run would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

CALLS_FILE = "FAKE_TASK_CALLS"  # env: append each processed source to this file


@dataclass(frozen=True)
class Size:
    source: str | None
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "width": self.width, "height": self.height}


class SizeProcessor:
    takes = "pages"

    def __call__(self, value: Any, call: Any) -> tuple[Size, dict[str, float]]:
        calls = os.environ.get(CALLS_FILE)
        if calls:
            with open(calls, "a", encoding="utf-8") as fh:
                fh.write(f"{call.source}\n")
            stop = int(os.environ.get("FAKE_TASK_STOP_AFTER", "0") or 0)
            if stop:
                with open(calls, encoding="utf-8") as fh:
                    if sum(1 for _ in fh) >= stop:
                        os._exit(137)  # as SIGKILL would: no cleanup, no flush
        page = value[0]
        if page.shape[1] == 13:
            raise ValueError("thirteen is unlucky")
        return Size(call.source, int(page.shape[1]), int(page.shape[0])), {"fake": 0.0}


def size_processor(pipeline: Any, option: str | None, **params: Any) -> SizeProcessor:
    return SizeProcessor()


class ThreadsProcessor:
    """What the worker's process runs with: OpenCV's thread count and the thread variables of its environment."""

    takes = "pages"

    def __call__(self, value: Any, call: Any) -> tuple[Threads, dict[str, float]]:
        import cv2

        env = {k: os.environ.get(k) for k in ("OPENCV_FOR_THREADS_NUM", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        return Threads(call.source, os.getpid(), cv2.getNumThreads(), env), {"fake": 0.0}


@dataclass(frozen=True)
class Threads:
    source: str | None
    pid: int
    cv2_threads: int
    env: dict[str, str | None]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "pid": self.pid, "cv2_threads": self.cv2_threads, "env": self.env}


def threads_processor(pipeline: Any, option: str | None, **params: Any) -> ThreadsProcessor:
    return ThreadsProcessor()


TASKS = {"fake": "batch_fake_task:size_processor", "threads": "batch_fake_task:threads_processor"}
