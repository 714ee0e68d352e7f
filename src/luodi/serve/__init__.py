"""The production service: FastAPI app factory, inference gate, dynamic batcher, jobs, metrics, auth.

``luodi serve`` runs :func:`luodi.serve.app.create_app` on uvicorn; ``luodi worker`` runs the same
job code (:class:`luodi.serve.jobs.JobQueue`) against Redis. Endpoints (bodies are the CLI's JSON):

- ``POST /v1/ocr`` (multipart ``file`` or JSON ``{"image": base64, "name"?}``), ``POST /v1/extract/{schema}``
- ``POST /v1/batch/ocr``, ``POST /v1/batch/extract/{schema}`` (multipart ``files``; ``{"results": [...]}``
  in order, each item ``{"index", "source", "result"}`` or ``{"index", "source", "error"}``)
- ``POST /v1/jobs`` (multipart ``file`` or ``files``, ``task``=ocr|extract, ``schema``, ``webhook``) -> 202
  ``{"id", "status"}``; ``GET /v1/jobs/{id}`` -> status queued|running|succeeded|failed, ``result`` when done
- ``GET /v1/models``; open: ``/healthz``, ``/readyz``, ``/metrics``, ``/docs``, ``/openapi.json``

Errors are ``{"error": {"type", "message"}}`` with the status of the :mod:`luodi.errors` class.
A client may shorten (never extend) its deadline with ``X-Deadline-Ms``; ``X-Request-ID`` is echoed.
Library code here never configures logging; :mod:`luodi.serve.logs` is installed by the CLI only.
"""
