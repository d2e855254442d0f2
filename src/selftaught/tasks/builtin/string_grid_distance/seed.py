def algorithm(t: str, dist: int):
    return t
