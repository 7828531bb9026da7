"""Classic wrong solutions of chapter 03 (making training work), each an exact
text replacement inside one solution cell, and the test cells it must lose points in.

Not a mutant on purpose: epsilon inside the square root with the default
``eps = 1e-8`` (the difference is below any sensible tolerance; the hidden
tests use ``eps = 0.1`` and ``0.01`` so that the mistake shows).
"""

from autograder.mutants import Mutant

MUTANTS = [
    # Exercise 1, curvature
    Mutant(
        name="hessian_forgets_the_bias",
        cell="ch03_hessian",
        old="A = np.hstack([X, np.ones((N, 1))])",
        new="A = X",
        loses=("ch03_hessian_visible", "ch03_hessian_hidden"),
    ),
    Mutant(
        name="hessian_forgets_1_over_N",
        cell="ch03_hessian",
        old="return A.T @ A / N",
        new="return A.T @ A",
        loses=("ch03_hessian_hidden",),
    ),
    Mutant(
        name="stable_lr_uses_the_smallest_eigenvalue",
        cell="ch03_hessian",
        old="lambda_max = np.linalg.eigvalsh(H).max()",
        new="lambda_max = np.linalg.eigvalsh(H)[np.linalg.eigvalsh(H) > 1e-12].min()",
        loses=("ch03_hessian_hidden",),
    ),
    Mutant(
        name="stable_lr_one_over_lambda",
        cell="ch03_hessian",
        old="return float(2.0 / lambda_max)",
        new="return float(1.0 / lambda_max)",
        loses=("ch03_hessian_visible", "ch03_hessian_hidden"),
    ),
    # Exercise 2, initialisation
    Mutant(
        name="he_and_xavier_swapped",
        cell="ch03_init",
        old='"xavier": 1.0 / fan_in, "he": 2.0 / fan_in',
        new='"xavier": 2.0 / fan_in, "he": 1.0 / fan_in',
        loses=("ch03_init_visible", "ch03_init_hidden"),
    ),
    Mutant(
        name="init_variance_used_as_std",
        cell="ch03_init",
        old="std = np.sqrt(variances[scheme])",
        new="std = variances[scheme]",
        loses=("ch03_init_visible", "ch03_init_hidden"),
    ),
    # Exercise 3, SGD / momentum / Nesterov
    Mutant(
        name="momentum_velocity_not_stored",
        cell="ch03_sgd_momentum",
        old='config["velocity"] = v\n',
        new="pass\n",
        loses=("ch03_sgd_momentum_visible", "ch03_sgd_momentum_hidden"),
    ),
    Mutant(
        name="momentum_ignores_the_given_velocity",
        cell="ch03_sgd_momentum",
        old='    v = config.get("velocity", np.zeros_like(w))',
        new="    v = np.zeros_like(w)",
        loses=("ch03_sgd_momentum_hidden",),
    ),
    Mutant(
        name="nesterov_without_look_ahead",
        cell="ch03_sgd_momentum",
        old='next_w = w - config["mu"] * v_prev + (1 + config["mu"]) * v_new',
        new="next_w = w + v_new",
        loses=("ch03_sgd_momentum_visible", "ch03_sgd_momentum_hidden"),
    ),
    Mutant(
        name="nesterov_look_ahead_sign",
        cell="ch03_sgd_momentum",
        old='next_w = w - config["mu"] * v_prev + (1 + config["mu"]) * v_new',
        new='next_w = w + config["mu"] * v_prev + (1 + config["mu"]) * v_new',
        loses=("ch03_sgd_momentum_hidden",),
    ),
    # Exercise 4, Adagrad / RMSprop
    Mutant(
        name="adagrad_accumulates_g_not_g_squared",
        cell="ch03_adagrad_rmsprop",
        old="np.zeros_like(w)) + dw**2",
        new="np.zeros_like(w)) + dw",
        loses=("ch03_adagrad_rmsprop_visible", "ch03_adagrad_rmsprop_hidden"),
    ),
    Mutant(
        name="rmsprop_eps_inside_the_root",
        cell="ch03_adagrad_rmsprop",
        old='step = dw / (np.sqrt(cache) + config["eps"])',
        new='step = dw / np.sqrt(cache + config["eps"])',
        loses=("ch03_adagrad_rmsprop_hidden",),
    ),
    Mutant(
        name="rmsprop_decay_weights_swapped",
        cell="ch03_adagrad_rmsprop",
        old='cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2',
        new='cache = (1 - rho) * config.get("cache", np.zeros_like(w)) + rho * dw**2',
        loses=("ch03_adagrad_rmsprop_visible", "ch03_adagrad_rmsprop_hidden"),
    ),
    # Exercise 5, Adam / AdamW
    Mutant(
        name="adam_without_bias_correction",
        cell="ch03_adam",
        old="m_hat = m / (1 - beta1**t)  # bias correction, eq. (11)\n    v_hat = v / (1 - beta2**t)",
        new="m_hat = m\n    v_hat = v",
        loses=("ch03_adam_visible", "ch03_adam_hidden"),
    ),
    Mutant(
        name="adam_bias_correction_wrong_power",
        cell="ch03_adam",
        old="m_hat = m / (1 - beta1**t)",
        new="m_hat = m / (1 - beta1)**t",
        loses=("ch03_adam_visible", "ch03_adam_hidden"),
    ),
    Mutant(
        name="adam_eps_inside_the_root",
        cell="ch03_adam",
        old='np.sqrt(v_hat) + config["eps"]',
        new='np.sqrt(v_hat + config["eps"])',
        loses=("ch03_adam_hidden",),
    ),
    Mutant(
        name="adam_t_counts_from_zero",
        cell="ch03_adam",
        old='t = config.get("t", 0) + 1',
        new='t = config.get("t", 0)\n    t = t if t > 0 else 1',
        loses=("ch03_adam_visible", "ch03_adam_hidden"),
    ),
    Mutant(
        name="adamw_is_adam_plus_l2",
        cell="ch03_adam",
        old="adam_w, config = adam(w, dw, config)  # the adaptive step, on the loss gradient only\n"
        '    next_w = adam_w - config["lr"] * config["weight_decay"] * w',
        new='next_w, config = adam(w, dw + config["weight_decay"] * w, config)',
        loses=("ch03_adam_visible", "ch03_adam_hidden"),
    ),
    # Exercise 7, L2
    Mutant(
        name="weight_decay_on_biases",
        cell="ch03_l2",
        old='if name.startswith("W"):',
        new="if True:",
        loses=("ch03_l2_visible", "ch03_l2_hidden"),
    ),
    Mutant(
        name="l2_penalty_without_one_half",
        cell="ch03_l2",
        old="penalty += 0.5 * reg * float(np.sum(value**2))",
        new="penalty += reg * float(np.sum(value**2))",
        loses=("ch03_l2_visible", "ch03_l2_hidden"),
    ),
    # Exercise 8, schedules
    Mutant(
        name="step_decay_off_by_one",
        cell="ch03_schedules",
        old="drop ** (t // every)",
        new="drop ** ((t + 1) // every)",
        loses=("ch03_schedules_visible", "ch03_schedules_hidden"),
    ),
    Mutant(
        name="inverse_time_decay_off_by_one",
        cell="ch03_schedules",
        old="return float(lr0 / (1 + k * t))",
        new="return float(lr0 / (1 + k * (t + 1)))",
        loses=("ch03_schedules_visible", "ch03_schedules_hidden"),
    ),
    # Exercise 9, dropout
    Mutant(
        name="dropout_backward_draws_a_new_mask",
        cell="ch03_dropout",
        old='return dout * cache["mask"]',
        new='return dout * (np.random.default_rng().random(dout.shape) < cache["p"]) / cache["p"]',
        loses=("ch03_dropout_visible", "ch03_dropout_hidden"),
    ),
    Mutant(
        name="dropout_not_inverted",
        cell="ch03_dropout",
        old="mask = (rng.random(x.shape) < p) / p",
        new="mask = (rng.random(x.shape) < p) * 1.0",
        loses=("ch03_dropout_visible", "ch03_dropout_hidden"),
    ),
    Mutant(
        name="dropout_also_scales_at_test_time",
        cell="ch03_dropout",
        old="        mask = None\n        out = x\n",
        new="        mask = None\n        out = x * p\n",
        loses=("ch03_dropout_visible", "ch03_dropout_hidden"),
    ),
    # Exercise 10, batch norm forward
    Mutant(
        name="batchnorm_variance_1_over_m_minus_1",
        cell="ch03_batchnorm_forward",
        old="var = ((x - mu) ** 2).mean(axis=0)",
        new="var = ((x - mu) ** 2).sum(axis=0) / (x.shape[0] - 1)",
        loses=("ch03_batchnorm_forward_visible", "ch03_batchnorm_forward_hidden"),
    ),
    Mutant(
        name="batchnorm_running_mean_updated_in_eval",
        cell="ch03_batchnorm_forward",
        old="        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta\n",
        new="        running_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)\n"
        "        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta\n",
        loses=("ch03_batchnorm_forward_visible", "ch03_batchnorm_forward_hidden"),
    ),
    Mutant(
        name="batchnorm_momentum_weights_swapped",
        cell="ch03_batchnorm_forward",
        old="running_mean = momentum * running_mean + (1 - momentum) * mu",
        new="running_mean = (1 - momentum) * running_mean + momentum * mu",
        loses=("ch03_batchnorm_forward_hidden",),
    ),
    Mutant(
        name="batchnorm_eval_uses_batch_statistics",
        cell="ch03_batchnorm_forward",
        old="        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta\n",
        new="        out = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta\n",
        loses=("ch03_batchnorm_forward_visible", "ch03_batchnorm_forward_hidden"),
    ),
    # Exercise 11, batch norm backward
    Mutant(
        name="batchnorm_backward_seed003_1_over_m",
        cell="ch03_batchnorm_backward",
        old="dx = dx_hat / std + dmu / m",
        new="dx = dx_hat / m + dmu / m",
        loses=("ch03_batchnorm_backward_visible", "ch03_batchnorm_backward_hidden"),
    ),
    Mutant(
        name="batchnorm_backward_forgets_the_mean_path",
        cell="ch03_batchnorm_backward",
        old="dx = dx_hat / std + dmu / m + ",
        new="dx = dx_hat / std + ",
        loses=("ch03_batchnorm_backward_visible", "ch03_batchnorm_backward_hidden"),
    ),
    Mutant(
        name="batchnorm_backward_forgets_the_variance_path",
        cell="ch03_batchnorm_backward",
        old=" + dvar * 2.0 * x_hat * std / m",
        new="",
        loses=("ch03_batchnorm_backward_visible", "ch03_batchnorm_backward_hidden"),
    ),
    Mutant(
        name="batchnorm_dgamma_without_x_hat",
        cell="ch03_batchnorm_backward",
        old="dgamma = (dout * x_hat).sum(axis=0)",
        new="dgamma = dout.sum(axis=0)",
        loses=("ch03_batchnorm_backward_visible", "ch03_batchnorm_backward_hidden"),
    ),
]
