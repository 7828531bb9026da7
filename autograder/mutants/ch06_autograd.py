"""Classic wrong solutions of chapter 06 (a small reverse-mode autograd), each an exact text
replacement inside one solution cell, and the test cells it must lose points in."""

from autograder.mutants import Mutant, both

MUTANTS = [
    # Exercise 1, matmul
    Mutant(
        name="matmul_dA_without_transpose",
        cell="ch06_matmul",
        old="return dout @ B.data.T, A.data.T @ dout",
        new="return dout @ B.data, A.data.T @ dout",
        loses=both("ch06_matmul"),
    ),
    # Exercise 2, the three rules
    Mutant(
        name="relu_passes_every_gradient",
        cell="ch06_rules",
        old="return (dout * (a.data > 0),)",
        new="return (dout,)",
        loses=both("ch06_rules"),
    ),
    Mutant(
        name="sum_rule_returns_a_number",
        cell="ch06_rules",
        old="return (dout * np.ones_like(a.data),)",
        new="return (dout,)",
        loses=both("ch06_rules"),
    ),
    Mutant(
        name="cross_entropy_without_one_over_n",
        cell="ch06_rules",
        old="return (dout * (P - Y) / N,)",
        new="return (dout * (P - Y),)",
        loses=both("ch06_rules"),
    ),
    Mutant(
        name="cross_entropy_without_max_shift",
        cell="ch06_rules",
        old="shifted = scores.data - scores.data.max(axis=1, keepdims=True)",
        new="shifted = scores.data",
        loses=both("ch06_rules"),
    ),
    # Exercise 3, the topological order
    Mutant(
        name="node_listed_before_its_parents",
        cell="ch06_topological_order",
        old="        for parent in node.parents:\n            visit(parent)\n        order.append(node)\n",
        new="        order.append(node)\n        for parent in node.parents:\n            visit(parent)\n",
        loses=both("ch06_topological_order"),
    ),
    Mutant(
        name="shared_node_listed_twice",
        cell="ch06_topological_order",
        old="        if id(node) in seen:\n            return\n",
        new="",
        loses=both("ch06_topological_order"),
    ),
    # Exercise 4, backward
    Mutant(
        name="gradient_overwritten_at_fan_out",
        cell="ch06_backward",
        old="parent.grad = parent.grad + grad  # accumulate: eq. (1)",
        new="parent.grad = grad",
        loses=both("ch06_backward"),
    ),
    Mutant(
        name="backward_in_forward_order",
        cell="ch06_backward",
        old="for node in reversed(topological_order(root)):",
        new="for node in topological_order(root):",
        loses=both("ch06_backward"),
    ),
    Mutant(
        name="backward_seeded_with_zero",
        cell="ch06_backward",
        old="root.grad = np.ones_like(root.data)",
        new="root.grad = np.zeros_like(root.data)",
        loses=both("ch06_backward"),
    ),
    # Exercise 5, the network's loss
    Mutant(
        name="mlp_without_relu",
        cell="ch06_mlp_loss",
        old='hidden = relu(matmul(X, params["W1"]) + params["b1"])',
        new='hidden = matmul(X, params["W1"]) + params["b1"]',
        loses=both("ch06_mlp_loss"),
    ),
    Mutant(
        name="mlp_forgets_the_output_bias",
        cell="ch06_mlp_loss",
        old='scores = matmul(hidden, params["W2"]) + params["b2"]',
        new='scores = matmul(hidden, params["W2"])',
        loses=both("ch06_mlp_loss"),
    ),
]
