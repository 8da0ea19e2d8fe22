"""The models: the chat client for any OpenAI-compatible endpoint, the bundled model file and its
local llama.cpp server, and the packaged embedding model."""
