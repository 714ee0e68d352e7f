"""Image build step: write bytecode for what the service imports when it starts and serves.

pip compiles every module it installs (50 MB of ``__pycache__`` in the CPU image). The Dockerfile
drops all of it, then runs this with bytecode writing on: loading the app, the models and one
extraction imports exactly the modules a replica or a worker needs, so their bytecode is written
and a container (read-only, it can write none) starts fast; the rest compiles in memory on first use.
"""

from __future__ import annotations

import boto3
import huey
import numpy as np
import redis
import uvicorn

import luodi.cli.serve
import luodi.review.service
from luodi import Pipeline
from luodi.serve.app import create_app
from luodi.serve.settings import load_serve_settings

create_app(load_serve_settings())
for service in ("s3", "sts"):  # `luodi models pull --from s3://...`: the client and credential chain
    boto3.client(service, region_name="us-east-1")
pipeline = Pipeline()
pipeline.load()
pipeline.describe()
pipeline.run("extract", np.full((64, 96, 3), 255, np.uint8), option="waybill")
print("compiled what serving imports:", luodi.cli.serve.__name__, huey.__name__, redis.__name__, uvicorn.__name__)
