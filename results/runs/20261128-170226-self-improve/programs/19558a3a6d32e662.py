import numpy as np

class GradientDescentAlgorithm:
    def __init__(self, initial_solution, utility, learning_rate=0.1, max_iterations=1000):
        self.initial_solution = initial_solution
        self.utility = utility
        self.learning_rate = learning_rate
        self.max_iterations = max_iterations
        self.current_solution = self.initial_solution

    def evaluate(self):
        return self.utility(self.current_solution)

    def update(self, gradient):
        self.current_solution += self.learning_rate * gradient

    def optimize(self):
        for _ in range(self.max_iterations):
            gradient = self.calculate_gradient()
            self.update(gradient)
            if self.evaluate() <= 0:
                break

    def calculate_gradient(self):
        # This is a placeholder for the actual gradient calculation
        # It should be based on the utility function and the current solution
        return np.random.randn(len(self.current_solution))

# Example usage
def fibonacci(initial_solution):
    # Placeholder for the actual Fibonacci sequence implementation
    return initial_solution

def string_grid_distance(initial_solution):
    # Placeholder for the actual string grid distance implementation
    return initial_solution

def parity(initial_solution):
    # Placeholder for the actual parity check implementation
    return initial_solution

utility = meta_utility
language_model = LanguageModel(budget=2)

gradient_descent_algorithm = GradientDescentAlgorithm(initial_solution, utility)
gradient_descent_algorithm.optimize()

print(gradient_descent_algorithm.current_solution)