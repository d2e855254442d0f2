"""The embedded local model: llama.cpp's llama-server and a GGUF shipped on PyPI."""
