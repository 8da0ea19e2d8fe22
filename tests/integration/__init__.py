"""Integration tests, every one marked `integration`: a real `chroma run`, the real local model, the
browser. `make test` runs them with everything else."""
