"""Stand-ins shared by tests that run real sandboxed improvers which never call the model."""


class NoModel:
    """A backend that fails the test if an improver asks it for anything."""

    name, model = "none", "none"

    def complete(self, messages, sampling):
        raise AssertionError("these improvers never call the language model")

    def close(self):
        pass
