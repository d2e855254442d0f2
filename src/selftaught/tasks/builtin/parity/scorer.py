"""Trusted scorer of `parity` (STOP's "parity without noise"): test accuracy, strictly checked."""

from selftaught.tasks.library.parity import make_parity_instance, parity_arguments, score_predictions


def make_instance(seed):
    return make_parity_instance(seed, noise_rate=0.0)


def arguments(instance):
    return parity_arguments(instance)


def score(instance, outcome):
    return score_predictions(instance, outcome)
