"""Component tests: real embedded Chroma, the packaged embedder, in-process fake HTTP servers and CLI
runs in a child process, all without the local model. `make test-fast` runs these and tests/unit."""
