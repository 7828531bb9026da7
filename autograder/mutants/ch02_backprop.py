"""Classic wrong solutions of chapter 02 (backpropagation), each an exact text
replacement inside one solution cell, and the test cells it must lose points in.

Not a mutant on purpose: ReLU's derivative with ``x >= 0`` instead of ``x > 0``
(both are valid subgradients at the kink; the tests keep inputs away from 0).
"""

from autograder.mutants import Mutant

MUTANTS = [
    # Exercises 1-2, circuits
    Mutant(
        name="add_mul_multiply_gate_does_not_swap",
        cell="ch02_add_mul_circuit",
        old="dz = dout * q",
        new="dz = dout * z",
        loses=("ch02_add_mul_circuit_visible", "ch02_add_mul_circuit_hidden"),
    ),
    Mutant(
        name="fanout_forgets_a_path",
        cell="ch02_fanout_circuit",
        old="dx = dx_direct + dx_via_p",
        new="dx = dx_via_p",
        loses=("ch02_fanout_circuit_visible", "ch02_fanout_circuit_hidden"),
    ),
    # Exercise 3, derive
    Mutant(
        name="derive_recursion_without_transpose",
        cell="ch02_derive_deltas",
        old="(W2.T * delta2)",
        new="(W2 * delta2)",
        loses=("ch02_derive_deltas_visible", "ch02_derive_deltas_hidden"),
    ),
    Mutant(
        name="derive_psi_where_psi_prime_belongs",
        cell="ch02_derive_deltas",
        old="delta2 = (a2 - t).multiply_elementwise(sigma_prime2)",
        new="delta2 = (a2 - t).multiply_elementwise(a2)",
        loses=("ch02_derive_deltas_visible", "ch02_derive_deltas_hidden"),
    ),
    Mutant(
        name="derive_dW_transposed",
        cell="ch02_derive_deltas",
        old="dC_dW1 = delta1 * a0.T",
        new="dC_dW1 = a0 * delta1.T",
        loses=("ch02_derive_deltas_visible", "ch02_derive_deltas_hidden"),
    ),
    # Exercise 4, affine
    Mutant(
        name="affine_forward_drops_bias",
        cell="ch02_affine",
        old="out = X @ W + b",
        new="out = X @ W",
        loses=("ch02_affine_visible", "ch02_affine_hidden"),
    ),
    Mutant(
        name="affine_dW_transposed",
        cell="ch02_affine",
        old="dW = X.T @ dout",
        new="dW = dout.T @ X",
        loses=("ch02_affine_visible", "ch02_affine_hidden"),
    ),
    Mutant(
        name="affine_db_summed_over_wrong_axis",
        cell="ch02_affine",
        old="db = dout.sum(axis=0)",
        new="db = dout.sum(axis=1)",
        loses=("ch02_affine_visible", "ch02_affine_hidden"),
    ),
    Mutant(
        name="affine_db_mean_over_batch",
        cell="ch02_affine",
        old="db = dout.sum(axis=0)",
        new="db = dout.mean(axis=0)",
        loses=("ch02_affine_visible", "ch02_affine_hidden"),
    ),
    # Exercises 5-7, activations
    Mutant(
        name="relu_derivative_sign_error",
        cell="ch02_relu",
        old="dx = dout * (x > 0)",
        new="dx = dout * (x < 0)",
        loses=("ch02_relu_visible", "ch02_relu_hidden"),
    ),
    Mutant(
        name="relu_psi_where_psi_prime_belongs",
        cell="ch02_relu",
        old="dx = dout * (x > 0)",
        new="dx = dout * np.maximum(x, 0.0)",
        loses=("ch02_relu_visible", "ch02_relu_hidden"),
    ),
    Mutant(
        name="sigmoid_psi_where_psi_prime_belongs",
        cell="ch02_sigmoid",
        old="dx = dout * s * (1.0 - s)",
        new="dx = dout * s",
        loses=("ch02_sigmoid_visible", "ch02_sigmoid_hidden"),
    ),
    Mutant(
        name="tanh_derivative_forgets_square",
        cell="ch02_tanh",
        old="dx = dout * (1.0 - th**2)",
        new="dx = dout * (1.0 - th)",
        loses=("ch02_tanh_visible", "ch02_tanh_hidden"),
    ),
    # Exercises 8-11, losses
    Mutant(
        name="mse_forgets_1_over_N",
        cell="ch02_mse_loss",
        old="dscores = diff / N",
        new="dscores = diff",
        loses=("ch02_mse_loss_visible", "ch02_mse_loss_hidden"),
    ),
    Mutant(
        name="bce_gradient_of_mse_through_sigmoid",
        cell="ch02_bce_loss",
        old="dscores = (p - y) / N",
        new="dscores = (p - y) * p * (1 - p) / N",
        loses=("ch02_bce_loss_visible", "ch02_bce_loss_hidden"),
    ),
    Mutant(
        name="bce_forgets_1_over_N_in_the_gradient",
        cell="ch02_bce_loss",
        old="dscores = (p - y) / N",
        new="dscores = p - y",
        loses=("ch02_bce_loss_visible", "ch02_bce_loss_hidden"),
    ),
    Mutant(
        name="bce_softplus_overflows",
        cell="ch02_bce_loss",
        old="softplus = np.maximum(scores, 0.0) + np.log1p(np.exp(-np.abs(scores)))",
        new="softplus = np.log(1.0 + np.exp(scores))",
        loses=("ch02_bce_loss_hidden",),
    ),
    Mutant(
        name="softmax_without_max_shift",
        cell="ch02_softmax_loss",
        old="shifted = scores - scores.max(axis=1, keepdims=True)",
        new="shifted = scores",
        loses=("ch02_softmax_loss_visible", "ch02_softmax_loss_hidden"),
    ),
    Mutant(
        name="softmax_forgets_minus_onehot",
        cell="ch02_softmax_loss",
        old="dscores[np.arange(N), y] -= 1.0",
        new="dscores[np.arange(N), y] -= 0.0",
        loses=("ch02_softmax_loss_visible", "ch02_softmax_loss_hidden"),
    ),
    Mutant(
        name="softmax_forgets_1_over_N",
        cell="ch02_softmax_loss",
        old="dscores /= N",
        new="dscores /= 1",
        loses=("ch02_softmax_loss_visible", "ch02_softmax_loss_hidden"),
    ),
    Mutant(
        name="svm_forgets_1_over_N_in_the_gradient",
        cell="ch02_svm_loss",
        old="dscores = active / N",
        new="dscores = active",
        loses=("ch02_svm_loss_visible", "ch02_svm_loss_hidden"),
    ),
    Mutant(
        name="svm_margin_sign",
        cell="ch02_svm_loss",
        old="margins = np.maximum(0.0, scores - correct + delta)",
        new="margins = np.maximum(0.0, correct - scores + delta)",
        loses=("ch02_svm_loss_visible", "ch02_svm_loss_hidden"),
    ),
    Mutant(
        name="svm_counts_the_right_class",
        cell="ch02_svm_loss",
        old="margins[rows, y] = 0.0",
        new="margins[rows, y] = margins[rows, y]",
        loses=("ch02_svm_loss_visible", "ch02_svm_loss_hidden"),
    ),
    Mutant(
        name="svm_right_class_gradient_sign",
        cell="ch02_svm_loss",
        old="active[rows, y] = -active.sum(axis=1)",
        new="active[rows, y] = active.sum(axis=1)",
        loses=("ch02_svm_loss_visible", "ch02_svm_loss_hidden"),
    ),
    # Exercise 12, numerical gradient
    Mutant(
        name="numerical_grad_forward_difference",
        cell="ch02_numerical_grad",
        old="grad[i] = (f_plus - f_minus) / (2 * h)",
        new="grad[i] = (f_plus - f(x)) / h",
        loses=("ch02_numerical_grad_visible", "ch02_numerical_grad_hidden"),
    ),
    Mutant(
        name="numerical_grad_does_not_restore_x",
        cell="ch02_numerical_grad",
        old="x[i] = old  # restore",
        new="pass  # restore",
        loses=("ch02_numerical_grad_visible", "ch02_numerical_grad_hidden"),
    ),
    # Exercise 14, the network
    Mutant(
        name="mlp_skips_activation_backward",
        cell="ch02_mlp",
        old="dout = act_backward(dout, act_cache)",
        new="dout = dout",
        loses=("ch02_mlp_visible", "ch02_mlp_hidden"),
    ),
    Mutant(
        name="mlp_gradient_of_the_wrong_loss",
        cell="ch02_mlp",
        old="loss, dout = softmax_loss(out, y)",
        new="loss, dout = svm_loss(out, y)",
        loses=("ch02_mlp_visible", "ch02_mlp_hidden"),
    ),
    Mutant(
        name="mlp_activation_on_the_scores",
        cell="ch02_mlp",
        old="if i < self.num_layers:",
        new="if True:",
        loses=("ch02_mlp_visible", "ch02_mlp_hidden"),
    ),
    # Exercise 15, SGD
    Mutant(
        name="sgd_gradient_ascent",
        cell="ch02_sgd_train",
        old="model.params[name] -= lr * grads[name]",
        new="model.params[name] += lr * grads[name]",
        loses=("ch02_sgd_train_visible", "ch02_sgd_train_hidden"),
    ),
    Mutant(
        name="sgd_drops_the_last_small_batch",
        cell="ch02_sgd_train",
        old="for start in range(0, N, batch_size):",
        new="for start in range(0, N - batch_size + 1, batch_size):",
        loses=("ch02_sgd_train_visible", "ch02_sgd_train_hidden"),
    ),
    Mutant(
        name="sgd_never_shuffles",
        cell="ch02_sgd_train",
        old="order = rng.permutation(N)\n",
        new="order = np.arange(N)\n",  # not the docstring's
        loses=("ch02_sgd_train_visible", "ch02_sgd_train_hidden"),
    ),
    # Exercise 16, confusion matrix
    Mutant(
        name="confusion_matrix_transposed",
        cell="ch02_confusion_matrix",
        old="np.add.at(M, (y_true, y_pred), 1)",
        new="np.add.at(M, (y_pred, y_true), 1)",
        loses=("ch02_confusion_matrix_visible", "ch02_confusion_matrix_hidden"),
    ),
    Mutant(
        name="confusion_matrix_buffered_fancy_index",
        cell="ch02_confusion_matrix",
        old="np.add.at(M, (y_true, y_pred), 1)",
        new="M[y_true, y_pred] += 1",
        loses=("ch02_confusion_matrix_visible", "ch02_confusion_matrix_hidden"),
    ),
]
