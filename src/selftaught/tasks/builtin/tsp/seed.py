def algorithm(points):
    # Visit the cities in the order they are given, then return to the first.
    return list(range(len(points)))
