import numpy as np
from helpers import Scores, extract_code, improve_message

class QLearningAgent:
    def __init__(self, state_dim, action_dim, learning_rate, discount_factor):
        self.state_dim = state_dim
        self.action_dim = action_dim
        self.learning_rate = learning_rate
        self.discount_factor = discount_factor
        self.q_table = np.zeros((state_dim, action_dim))

    def choose_action(self, state):
        action_probs = np.exp(self.q_table[state]) / np.sum(np.exp(self.q_table[state]))
        return np.random.choice(range(self.action_dim), p=action_probs)

    def update_q_table(self, state, action, reward, next_state):
        current_q = self.q_table[state, action]
        next_q = np.max(self.q_table[next_state])
        new_q = current_q + self.learning_rate * (reward + self.discount_factor * next_q - current_q)
        self.q_table[state, action] = new_q