"""Backends: the places a deployment plugs a model in (see `selftaught.lm.protocol.Backend`)."""
