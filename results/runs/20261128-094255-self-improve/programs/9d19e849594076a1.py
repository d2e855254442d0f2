from helpers import extract_code
import random

def improve_algorithm(initial_solution, utility, language_model):
    """Improves a solution according to a utility function."""
    expertise = (
        "You are an expert computer science researcher and programmer, especially skilled at "
        "optimizing algorithms."
    )
    message = f"""Improve the following solution:
```python
{initial_solution}
```

You will be evaluated based on this score function:
```python
{utility.str}
```

You must return an improved solution. Be as creative as you can under the constraints.
Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""
    n_messages = min(language_model.max_responses_per_call, utility.budget)
    new_solutions = language_model.batch_prompt(expertise, [message] * n_messages, temperature=0.7)
    new_solutions = extract_code(new_solutions)
    best_solution = max(new_solutions, key=utility)
    
    # Genetic algorithm parameters
    population_size = 100
    mutation_rate = 0.1
    generations = 100
    
    # Initial population
    population = [random.choice(new_solutions) for _ in range(population_size)]
    
    for _ in range(generations):
        # Evaluate the population
        fitness_scores = [utility(solution) for solution in population]
        
        # Select parents
        parents = sorted(population, key=lambda x: fitness_scores[population.index(x)], reverse=True)[:population_size // 2]
        
        # Create offspring
        offspring = []
        while len(offspring) < population_size:
            parent1, parent2 = random.sample(parents, 2)
            child = crossover(parent1, parent2)
            if random.random() < mutation_rate:
                child = mutate(child)
            offspring.append(child)
        
        # Replace the population
        population = offspring
    
    best_solution = max(population, key=utility)
    return best_solution

def crossover(parent1, parent2):
    # Simple crossover between two strings
    crossover_point = random.randint(1, len(parent1) - 1)
    return parent1[:crossover_point] + parent2[crossover_point:]

def mutate(child):
    # Randomly insert or delete a character
    for i in range(len(child)):
        if random.random() < 0.5:
            child = child[:i] + random.choice("abcdefghijklmnopqrstuvwxyz") + child[i:]
        elif random.random() < 0.5:
            child = child[:i] + child[i + 1:]
    return child