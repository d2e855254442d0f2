import ast

from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    tree = ast.parse(initial_solution)
    parts = []
    for node in tree.body:
        part = ast.unparse(node)
        if isinstance(node, ast.FunctionDef):
            reply = language_model.prompt("You optimize one function at a time.",
                                          f"Optimize only this function:\n{part}")[0]
            part = extract_code(reply) or part
        parts.append(part)
    assembled = "\n\n".join(parts)
    return assembled if utility(assembled) >= utility(initial_solution) else initial_solution
