def algorithm(weights, values, capacity):
    # Greedy: take the most valuable items first, skipping those that no longer fit.
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    chosen = []
    total_weight = 0
    for i in order:
        if total_weight + weights[i] <= capacity:
            chosen.append(i)
            total_weight += weights[i]
    return chosen
