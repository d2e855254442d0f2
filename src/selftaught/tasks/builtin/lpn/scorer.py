"""Trusted scorer of `lpn` (learning parity with noise): accuracy on noiseless test labels."""

from selftaught.tasks.library.parity import make_parity_instance, parity_arguments, score_predictions

NOISE_RATE = 0.05  # each train label flipped independently with this probability


def make_instance(seed):
    return make_parity_instance(seed, noise_rate=NOISE_RATE)


def arguments(instance):
    return parity_arguments(instance)


def score(instance, outcome):
    return score_predictions(instance, outcome)
