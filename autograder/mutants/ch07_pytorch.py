"""Classic wrong solutions of chapter 07 (PyTorch as an oracle, modules, the training loop,
evaluation, checkpoints), each an exact text replacement inside one solution cell, and the test
cells it must lose points in.

Not mutants on purpose: a missing ``torch.no_grad()`` in ``evaluate`` changes no result (only
speed and memory), so no test can or should take points for it.
"""

from autograder.mutants import Mutant, both

MUTANTS = [
    # Exercise 1, the vector-Jacobian product
    Mutant(
        name="vjp_mean_instead_of_sum",
        cell="ch07_vjp",
        old="(out * torch.as_tensor(np.asarray(dout, dtype=np.float64))).sum().backward()",
        new="(out * torch.as_tensor(np.asarray(dout, dtype=np.float64))).mean().backward()",
        loses=both("ch07_vjp"),
    ),
    # Exercise 2, nn.Linear from our (D, M) weights
    Mutant(
        name="linear_weight_reshaped_not_transposed",
        cell="ch07_linear",
        old="layer.weight.copy_(W_t.T)",
        new="layer.weight.copy_(W_t.reshape(M, D))",
        loses=both("ch07_linear"),
    ),
    # Exercise 3, nn.Conv2d from our filters: chapter 04's conv is already a cross-correlation
    Mutant(
        name="conv_kernel_flipped_when_copied",
        cell="ch07_conv",
        old="layer.weight.copy_(w_t)",
        new="layer.weight.copy_(w_t.flip(2, 3))",
        loses=both("ch07_conv"),
    ),
    # Exercise 5, the modules
    Mutant(
        name="seed003_second_conv_padding_1_as_in_the_text",
        cell="ch07_modules",
        old="self.cnn2 = nn.Conv2d(8, 32, 5, stride=1, padding=2)",
        new="self.cnn2 = nn.Conv2d(8, 32, 5, stride=1, padding=1)",
        loses=both("ch07_modules"),
    ),
    Mutant(
        name="dropout_given_the_keep_probability",
        cell="ch07_modules",
        old="self.dropout = nn.Dropout(1 - keep_prob)",
        new="self.dropout = nn.Dropout(keep_prob)",
        loses=("ch07_modules_hidden",),
    ),
    # Exercise 6, the training step
    Mutant(
        name="train_step_forgets_zero_grad",
        cell="ch07_train_step",
        old="    optimizer.zero_grad()  # the gradients of the last step would add up, eq. (3)\n",
        new="",
        loses=both("ch07_train_step"),
    ),
    Mutant(
        name="train_step_backward_after_step",
        cell="ch07_train_step",
        old="    loss.backward()\n    optimizer.step()  # every parameter from its .grad\n",
        new="    optimizer.step()  # every parameter from its .grad\n    loss.backward()\n",
        loses=both("ch07_train_step"),
    ),
    Mutant(
        name="train_step_without_train_mode",
        cell="ch07_train_step",
        old="    model.train()  # dropout on, batch norm on batch statistics\n",
        new="",
        loses=both("ch07_train_step"),
    ),
    # Exercise 7, top-k accuracy
    Mutant(
        name="topk_over_the_examples_dim_0",
        cell="ch07_topk",
        old="top = logits.topk(max(ks), dim=1).indices",
        new="top = logits.topk(max(ks), dim=0).indices.T",
        loses=both("ch07_topk"),
    ),
    # Exercise 8, evaluation
    Mutant(
        name="evaluate_without_eval_mode",
        cell="ch07_evaluate",
        old="    model.eval()  # dropout off, batch norm on its running statistics\n",
        new="",
        loses=both("ch07_evaluate"),
    ),
    Mutant(
        name="evaluate_does_not_restore_train_mode",
        cell="ch07_evaluate",
        old="    for module, mode in modes:\n        module.training = mode\n",
        new="",
        loses=both("ch07_evaluate"),
    ),
    # Exercise 9, checkpoints
    Mutant(
        name="checkpoint_without_optimizer_state",
        cell="ch07_checkpoint",
        old='    optimizer.load_state_dict(checkpoint["optimizer"])\n',
        new="",
        loses=both("ch07_checkpoint"),
    ),
]
