"""Operations: Prometheus metrics, request observation, access logs and admin endpoints."""
