"""Unit tests: pure logic with scripted fakes (tests/support/fakes.py); no Chroma, no servers, no model."""
