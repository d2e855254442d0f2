from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    incumbent = initial_solution
    incumbent_score = utility(incumbent)
    for _ in range(3):
        message = f"Improve the following solution:\n```python\n{incumbent}\n```"
        responses = language_model.batch_prompt("You are an expert.", [message] * 2, temperature=0.7)
        challenger = max(extract_code(responses), key=utility)
        challenger_score = utility(challenger)
        if challenger_score > incumbent_score:
            incumbent, incumbent_score = challenger, challenger_score
    return incumbent
