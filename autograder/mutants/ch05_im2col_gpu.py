"""Classic wrong solutions of chapter 05 (im2col, col2im, fast pooling, the layer graph, training),
each an exact text replacement inside one solution cell, and the test cells it must lose points in.

Not mutants on purpose: the optional CUDA kernel (``ch05_im2col_kernel``) has no
graded test, since the grader has no GPU; ``tests/test_ch05_gpu.py`` checks it
where one is available.
"""

from autograder.mutants import Mutant, both

MUTANTS = [
    # Exercise 1, offsets and strides
    Mutant(
        name="offset_column_major_as_in_eq_3_2",
        cell="ch05_offsets",
        old="for n_i, N_i in zip(index, shape):",
        new="for n_i, N_i in zip(index[::-1], shape[::-1]):",
        loses=both("ch05_offsets"),
    ),
    Mutant(
        name="strides_in_reverse_order",
        cell="ch05_offsets",
        old="return tuple(int(s) for s in reversed(strides))",
        new="return tuple(int(s) for s in strides)",
        loses=both("ch05_offsets"),
    ),
    # Exercise 2, the window view
    Mutant(
        name="window_view_ignores_stride",
        cell="ch05_window_view",
        old="strides=(s_N, s_C, s_H, s_W, s_H * S, s_W * S)\n",
        new="strides=(s_N, s_C, s_H, s_W, s_H, s_W)\n",
        loses=both("ch05_window_view"),
    ),
    Mutant(
        name="window_view_kernel_axes_swapped",
        cell="ch05_window_view",
        old="strides=(s_N, s_C, s_H, s_W, s_H * S, s_W * S)\n",
        new="strides=(s_N, s_C, s_W, s_H, s_H * S, s_W * S)\n",
        loses=both("ch05_window_view"),
    ),
    # Exercise 3, im2col
    Mutant(
        name="im2col_without_padding",
        cell="ch05_im2col",
        old="x_pad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
        new="x_pad = x",
        loses=both("ch05_im2col"),
    ),
    Mutant(
        name="im2col_wrong_reshape_order",
        cell="ch05_im2col",
        old="windows.transpose(1, 2, 3, 0, 4, 5).reshape(C * K * K, -1)",
        new="windows.reshape(C * K * K, -1)",
        loses=both("ch05_im2col"),
    ),
    # Exercise 4, the forward GEMM
    Mutant(
        name="conv_forward_filter_axis_not_moved",
        cell="ch05_conv_forward",
        old="out = out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)",
        new="out = out.reshape(N, F, H_out, W_out)",
        loses=both("ch05_conv_forward"),
    ),
    Mutant(
        name="conv_forward_weights_reshaped_in_the_wrong_order",
        cell="ch05_conv_forward",
        old="out = w.reshape(F, -1) @ cols",
        new="out = w.reshape(-1, F).T @ cols",
        loses=both("ch05_conv_forward"),
    ),
    # Exercise 5, col2im with add.at
    Mutant(
        name="col2im_add_at_fancy_index_drops_repeats",
        cell="ch05_col2im_add_at",
        old="xp.add.at(dx_pad, (n, c, i * S + k, j * S + l), cols.reshape(C, K, K, N, H_out, W_out))",
        new="dx_pad[n, c, i * S + k, j * S + l] += cols.reshape(C, K, K, N, H_out, W_out)",
        loses=both("ch05_col2im_add_at"),
    ),
    Mutant(
        name="col2im_add_at_crops_the_padding_on_one_side",
        cell="ch05_col2im_add_at",
        old="return dx_pad[:, :, pad : pad + H, pad : pad + W]\n",
        new="return dx_pad[:, :, :H, :W]\n",
        loses=both("ch05_col2im_add_at"),
    ),
    # Exercise 6, fast col2im
    Mutant(
        name="col2im_overwrites_instead_of_adding",
        cell="ch05_col2im",
        old="+= cols6[:, k, l]",
        new="= cols6[:, k, l]",
        loses=both("ch05_col2im"),
    ),
    Mutant(
        name="col2im_ignores_stride",
        cell="ch05_col2im",
        old="dx_pad[:, :, k : k + S * H_out : S, l : l + S * W_out : S]",
        new="dx_pad[:, :, k : k + H_out, l : l + W_out]",
        loses=both("ch05_col2im"),
    ),
    # Exercise 7, the backward pass
    Mutant(
        name="conv_backward_db_summed_over_the_wrong_axis",
        cell="ch05_conv_backward",
        old="db = dout_mat.sum(axis=1)",
        new="db = dout_mat.sum(axis=0)",
        loses=both("ch05_conv_backward"),
    ),
    Mutant(
        name="conv_backward_dw_wrong_transpose",
        cell="ch05_conv_backward",
        old="dw = (dout_mat @ cols.T).reshape(w.shape)",
        new="dw = (cols @ dout_mat.T).reshape(w.shape)",
        loses=both("ch05_conv_backward"),
    ),
    Mutant(
        name="conv_backward_dcols_transposed_gemm_reshaped",
        cell="ch05_conv_backward",
        old="dcols = w.reshape(F, -1).T @ dout_mat",
        new="dcols = (dout_mat.T @ w.reshape(F, -1)).reshape(-1, dout_mat.shape[1])",
        loses=both("ch05_conv_backward"),
    ),
    Mutant(
        name="conv_backward_dout_not_transposed",
        cell="ch05_conv_backward",
        old="dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, -1)",
        new="dout_mat = dout.reshape(F, -1)",
        loses=both("ch05_conv_backward"),
    ),
    # Exercise 8, max pooling
    Mutant(
        name="max_pool_ties_double_count",
        cell="ch05_max_pool",
        old="dcols[first, xp.arange(cols.shape[1])] = dout.ravel()",
        new="dcols = (cols == cols.max(axis=0)) * dout.ravel()",
        loses=both("ch05_max_pool"),
    ),
    Mutant(
        name="max_pool_mixes_the_channels",
        cell="ch05_max_pool",
        old="cols = im2col(x.reshape(N * C, 1, H, W), pool_size, stride)",
        new="cols = im2col(x, pool_size, stride)",
        loses=both("ch05_max_pool"),
    ),
    # Exercise 9, the nodes
    Mutant(
        name="conv2d_build_ignores_padding",
        cell="ch05_layers",
        old="H_out, W_out = conv_output_size(H, K, S, P), conv_output_size(W, K, S, P)",
        new="H_out, W_out = conv_output_size(H, K, S), conv_output_size(W, K, S)",
        loses=both("ch05_layers"),
    ),
    Mutant(
        name="he_init_with_the_fan_out",
        cell="ch05_layers",
        old='"W": he_normal((F, C, K, K), C * K * K, rng)',
        new='"W": he_normal((F, C, K, K), F * K * K, rng)',
        loses=("ch05_layers_hidden",),
    ),
    Mutant(
        name="conv2d_backward_forgets_the_gradients",
        cell="ch05_layers",
        old='dx, self.grads["W"], self.grads["b"] = conv_backward_im2col(dout, self.cache)',
        new="dx, _, _ = conv_backward_im2col(dout, self.cache)",
        loses=both("ch05_layers"),
    ),
    # Exercise 10, the network
    Mutant(
        name="network_backward_in_forward_order",
        cell="ch05_network",
        old="for layer in reversed(self.layers):",
        new="for layer in self.layers:",
        loses=("ch05_network_hidden", "ch05_train_visible", "ch05_train_hidden"),
    ),
    Mutant(
        name="network_error_does_not_name_the_layer",
        cell="ch05_network",
        old='raise ValueError(\n                    f"layer {k}, {layer!r}, cannot take an input of shape {self.shapes[-1]}: {err}"\n                ) from None',
        new="raise",
        loses=both("ch05_network"),
    ),
    Mutant(
        name="table_3_2_second_conv_padding_1",
        cell="ch05_network",
        old="Conv2D(64, 5, stride=1, pad=2)",
        new="Conv2D(64, 5, stride=1, pad=1)",
        loses=("ch05_network_visible",),
    ),
    # Exercise 11, the training step
    Mutant(
        name="weight_decay_on_the_biases_too",
        cell="ch05_train",
        old='"weight_decay": weight_decay if name == "W" else 0.0',
        new='"weight_decay": weight_decay',
        loses=both("ch05_train"),
    ),
    Mutant(
        name="training_step_without_dropout",
        cell="ch05_train",
        old="scores = net.forward(X, train=True)",
        new="scores = net.forward(X, train=False)",
        loses=("ch05_train_hidden",),
    ),
]
