"""What the tests share and are not tests: fakes, fake servers, shared cases, child-process entry points."""
