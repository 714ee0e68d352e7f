#!/bin/sh
# One-shot MinIO setup for the compose stack: the buckets luodi uses, private, versioned for bundles.
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
# luodi-models: bundles from `luodi models push NAME s3://luodi-models/bundles` (versioned: a bad
# push can be rolled back). luodi-artifacts: training checkpoints, logs, exported reports.
mc mb --ignore-existing local/luodi-models local/luodi-artifacts
# Versioning needs a MinIO backend that supports it; the stack still works without it.
mc version enable local/luodi-models || echo "minio-init: versioning not available here, continuing"
mc anonymous set none local/luodi-models
mc anonymous set none local/luodi-artifacts
echo "minio-init: buckets ready"
