"""Classic wrong solutions of chapter 01 (gradient descent), each an exact text
replacement inside one solution cell, and the test cells it must lose points in.
"""

from autograder.mutants import Mutant

MUTANTS = [
    # Exercise 1, derive
    Mutant(
        name="derive_wrong_sign",
        cell="ch01_derive_gradients",
        old="dC_dz = z - y",
        new="dC_dz = y - z",
        loses=("ch01_derive_gradients_visible", "ch01_derive_gradients_hidden"),
    ),
    Mutant(
        name="derive_forgets_inner_derivative",
        cell="ch01_derive_gradients",
        old="dC_dw1 = x1 * dC_dz",
        new="dC_dw1 = dC_dz",
        loses=("ch01_derive_gradients_visible", "ch01_derive_gradients_hidden"),
    ),
    Mutant(
        name="derive_db_times_input",
        cell="ch01_derive_gradients",
        old="dC_db = 1 * dC_dz",
        new="dC_db = x2 * dC_dz",
        loses=("ch01_derive_gradients_visible", "ch01_derive_gradients_hidden"),
    ),
    Mutant(
        name="derive_dw2_forgets_inner_derivative",
        cell="ch01_derive_gradients",
        old="dC_dw2 = x2 * dC_dz",
        new="dC_dw2 = dC_dz",
        loses=("ch01_derive_gradients_visible", "ch01_derive_gradients_hidden"),
    ),
    # Exercise 2, forward and cost
    Mutant(
        name="forward_drops_bias",
        cell="ch01_forward",
        old="return X @ W + b",
        new="return X @ W",
        loses=("ch01_forward_visible", "ch01_forward_hidden"),
    ),
    Mutant(
        name="forward_elementwise_product",
        cell="ch01_forward",
        old="return X @ W + b",
        new="return X * W + b",
        loses=("ch01_forward_visible", "ch01_forward_hidden"),
    ),
    Mutant(
        name="cost_without_half",
        cell="ch01_cost",
        old="return (y - z) ** 2 / 2",
        new="return (y - z) ** 2",
        loses=("ch01_cost_visible", "ch01_cost_hidden"),
    ),
    Mutant(
        name="cost_not_squared",
        cell="ch01_cost",
        old="return (y - z) ** 2 / 2",
        new="return abs(y - z) / 2",
        loses=("ch01_cost_visible", "ch01_cost_hidden"),
    ),
    # Exercise 3, gradients
    Mutant(
        name="gradients_swapped_y_z",
        cell="ch01_gradients",
        old="error = forward(X, W, b) - y",
        new="error = y - forward(X, W, b)",
        loses=("ch01_gradients_visible", "ch01_gradients_hidden"),
    ),
    Mutant(
        name="gradients_missing_input_factor",
        cell="ch01_gradients",
        old="dW = error * X",
        new="dW = np.full_like(X, error)",
        loses=("ch01_gradients_visible", "ch01_gradients_hidden"),
    ),
    Mutant(
        name="gradients_factor_two",
        cell="ch01_gradients",
        old="dW = error * X",
        new="dW = 2 * error * X",
        loses=("ch01_gradients_visible", "ch01_gradients_hidden"),
    ),
    Mutant(
        name="gradients_db_times_sum_of_inputs",
        cell="ch01_gradients",
        old="db = float(error)",
        new="db = float(error * X.sum())",
        loses=("ch01_gradients_visible", "ch01_gradients_hidden"),
    ),
    # Exercise 4, gd_step
    Mutant(
        name="gd_step_gradient_ascent",
        cell="ch01_gd_step",
        old="W_new = W - lr * dW",
        new="W_new = W + lr * dW",
        loses=("ch01_gd_step_visible", "ch01_gd_step_hidden"),
    ),
    Mutant(
        name="gd_step_mutates_W_in_place",
        cell="ch01_gd_step",
        old="W_new = W - lr * dW",
        new="W -= lr * dW; W_new = W",
        loses=("ch01_gd_step_visible", "ch01_gd_step_hidden"),
    ),
    Mutant(
        name="gd_step_returns_input",
        cell="ch01_gd_step",
        old="return W_new, b_new",
        new="return W, b",
        loses=("ch01_gd_step_visible", "ch01_gd_step_hidden"),
    ),
    Mutant(
        name="gd_step_bias_not_updated",
        cell="ch01_gd_step",
        old="b_new = b - lr * db",
        new="b_new = b",
        loses=("ch01_gd_step_visible", "ch01_gd_step_hidden"),
    ),
    # Exercise 5, train
    Mutant(
        name="train_off_by_one_history",
        cell="ch01_train",
        old="for _ in range(num_epochs + 1):",
        new="for _ in range(num_epochs):",
        loses=("ch01_train_visible", "ch01_train_hidden"),
    ),
    Mutant(
        name="train_one_update_too_many",
        cell="ch01_train",
        old="for _ in range(num_epochs + 1):",
        new="for _ in range(num_epochs + 2):",
        loses=("ch01_train_visible", "ch01_train_hidden"),
    ),
    Mutant(
        name="train_never_updates",
        cell="ch01_train",
        old="W, b = gd_step(W, b, dW, db, lr)",
        new="gd_step(W, b, dW, db, lr)",
        loses=("ch01_train_visible", "ch01_train_hidden"),
    ),
    # Exercise 6, max_stable_lr
    Mutant(
        name="max_stable_lr_forgets_bias",
        cell="ch01_max_stable_lr",
        old="return float(2.0 / (X @ X + 1.0))",
        new="return float(2.0 / (X @ X))",
        loses=("ch01_max_stable_lr_visible", "ch01_max_stable_lr_hidden"),
    ),
    Mutant(
        name="max_stable_lr_forgets_two",
        cell="ch01_max_stable_lr",
        old="return float(2.0 / (X @ X + 1.0))",
        new="return float(1.0 / (X @ X + 1.0))",
        loses=("ch01_max_stable_lr_visible", "ch01_max_stable_lr_hidden"),
    ),
    Mutant(
        name="max_stable_lr_hard_coded_toy",
        cell="ch01_max_stable_lr",
        old="return float(2.0 / (X @ X + 1.0))",
        new="return 2.0 / 54.0",
        loses=("ch01_max_stable_lr_hidden",),
    ),
    # Exercise 8, momentum_step
    Mutant(
        name="momentum_source_sign",
        cell="ch01_momentum_step",
        old="vW_new = mu * vW - lr * dW",
        new="vW_new = mu * vW + lr * dW",
        loses=("ch01_momentum_step_visible", "ch01_momentum_step_hidden"),
    ),
    Mutant(
        name="momentum_forgets_mu",
        cell="ch01_momentum_step",
        old="vW_new = mu * vW - lr * dW",
        new="vW_new = vW - lr * dW",
        loses=("ch01_momentum_step_visible", "ch01_momentum_step_hidden"),
    ),
    Mutant(
        name="momentum_returns_old_velocity",
        cell="ch01_momentum_step",
        old="return W + vW_new, b + vb_new, vW_new, vb_new",
        new="return W + vW_new, b + vb_new, vW, vb",
        loses=("ch01_momentum_step_visible", "ch01_momentum_step_hidden"),
    ),
    Mutant(
        name="momentum_bias_velocity_ignores_mu",
        cell="ch01_momentum_step",
        old="vb_new = mu * vb - lr * db",
        new="vb_new = -lr * db",
        loses=("ch01_momentum_step_visible", "ch01_momentum_step_hidden"),
    ),
    # Exercise 9, train_momentum
    Mutant(
        name="train_momentum_resets_velocity",
        cell="ch01_train_momentum",
        old="W, b, vW, vb = momentum_step(W, b, vW, vb, dW, db, lr, mu)",
        new="W, b, _, _ = momentum_step(W, b, vW, vb, dW, db, lr, mu)",
        loses=("ch01_train_momentum_visible", "ch01_train_momentum_hidden"),
    ),
    Mutant(
        name="train_momentum_off_by_one_history",
        cell="ch01_train_momentum",
        old="for _ in range(num_epochs + 1):",
        new="for _ in range(num_epochs):",
        loses=("ch01_train_momentum_visible", "ch01_train_momentum_hidden"),
    ),
    Mutant(
        name="train_momentum_source_sign",
        cell="ch01_train_momentum",
        old="W, b, vW, vb = momentum_step(W, b, vW, vb, dW, db, lr, mu)",
        new="W, b, vW, vb = momentum_step(W, b, vW, vb, dW, db, -lr, mu)",
        loses=("ch01_train_momentum_visible", "ch01_train_momentum_hidden"),
    ),
]
