"""Runtime seam: InferenceSession protocol and backends."""
