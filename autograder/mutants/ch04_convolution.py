"""Classic wrong solutions of chapter 04 (convolution and pooling), each an exact
text replacement inside one solution cell, and the test cells it must lose points in.

Not a mutant on purpose: a max-pool backward that breaks ties towards the *last*
maximum is a valid subgradient too, but the chapter fixes the convention
(first maximum, as PyTorch), so "every tied maximum" is the mutant below.
"""

from autograder.mutants import Mutant

MUTANTS = [
    # Exercise 1, 1-D
    Mutant(
        name="conv1d_kernel_not_flipped",
        cell="ch04_conv1d",
        old="flipped = b[::-1]",
        new="flipped = b",
        loses=("ch04_conv1d_visible", "ch04_conv1d_hidden"),
    ),
    Mutant(
        name="xcorr1d_flips_the_kernel",
        cell="ch04_conv1d",
        old="out[t] = np.sum(x[t : t + K] * k)  # no flip",
        new="out[t] = np.sum(x[t : t + K] * k[::-1])",
        loses=("ch04_conv1d_visible", "ch04_conv1d_hidden"),
    ),
    # Exercise 2, 2-D
    Mutant(
        name="conv2d_kernel_not_flipped",
        cell="ch04_conv2d",
        old="flipped = kernel[::-1, ::-1]",
        new="flipped = kernel",
        loses=("ch04_conv2d_visible", "ch04_conv2d_hidden"),
    ),
    Mutant(
        name="conv2d_flipped_in_one_direction_only",
        cell="ch04_conv2d",
        old="flipped = kernel[::-1, ::-1]",
        new="flipped = kernel[::-1, :]",
        loses=("ch04_conv2d_visible", "ch04_conv2d_hidden"),
    ),
    Mutant(
        name="xcorr2d_padding_on_one_side_only",
        cell="ch04_conv2d",
        old="padded = np.pad(image, pad)",
        new="padded = np.pad(image, ((pad, 0), (pad, 0)))",
        loses=("ch04_conv2d_visible", "ch04_conv2d_hidden"),
    ),
    # Exercise 3, output sizes
    Mutant(
        name="output_size_without_floor",
        cell="ch04_output_size",
        old="return (n + 2 * pad - kernel_size) // stride + 1",
        new="return (n + 2 * pad - kernel_size) / stride + 1",
        loses=("ch04_output_size_visible", "ch04_output_size_hidden"),
    ),
    Mutant(
        name="output_size_without_plus_one",
        cell="ch04_output_size",
        old="return (n + 2 * pad - kernel_size) // stride + 1",
        new="return (n + 2 * pad - kernel_size) // stride",
        loses=("ch04_output_size_visible", "ch04_output_size_hidden"),
    ),
    Mutant(
        name="pool_size_without_plus_one",
        cell="ch04_output_size",
        old="return (n - pool_size) // stride + 1",
        new="return (n - pool_size) // stride",
        loses=("ch04_output_size_visible", "ch04_output_size_hidden"),
    ),
    # Exercise 4, conv forward
    Mutant(
        name="conv_forward_padding_on_one_side_only",
        cell="ch04_conv_forward",
        old="x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
        new="x_pad = np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))",
        loses=("ch04_conv_forward_visible", "ch04_conv_forward_hidden"),
    ),
    Mutant(
        name="conv_forward_size_without_plus_one",
        cell="ch04_conv_forward",
        old="H_out = 1 + (H + 2 * pad - KH) // stride",
        new="H_out = (H + 2 * pad - KH) // stride",
        loses=("ch04_conv_forward_visible", "ch04_conv_forward_hidden"),
    ),
    Mutant(
        name="conv_forward_flips_the_kernel",
        cell="ch04_conv_forward",
        old='np.einsum("nckl,fckl->nf", window, w)',
        new='np.einsum("nckl,fckl->nf", window, w[:, :, ::-1, ::-1])',
        loses=("ch04_conv_forward_visible", "ch04_conv_forward_hidden"),
    ),
    Mutant(
        name="conv_forward_forgets_bias",
        cell="ch04_conv_forward",
        old='np.einsum("nckl,fckl->nf", window, w) + b',
        new='np.einsum("nckl,fckl->nf", window, w)',
        loses=("ch04_conv_forward_visible", "ch04_conv_forward_hidden"),
    ),
    # Exercise 5, conv backward
    Mutant(
        name="conv_backward_dw_summed_over_the_wrong_axes",
        cell="ch04_conv_backward",
        old='dw += np.einsum("nf,nckl->fckl", d, x_pad[:, :, rows, cols])',
        new='dw += np.einsum("nf,nckl->ckl", d, x_pad[:, :, rows, cols])',
        loses=("ch04_conv_backward_visible", "ch04_conv_backward_hidden"),
    ),
    Mutant(
        name="conv_backward_db_per_position",
        cell="ch04_conv_backward",
        old="db = dout.sum(axis=(0, 2, 3))",
        new="db = dout.sum(axis=(0, 1))",
        loses=("ch04_conv_backward_visible", "ch04_conv_backward_hidden"),
    ),
    Mutant(
        name="conv_backward_ignores_stride",
        cell="ch04_conv_backward",
        old="rows = slice(i * stride, i * stride + KH)\n            cols = slice(j * stride, j * stride + KW)",
        new="rows = slice(i, i + KH)\n            cols = slice(j, j + KW)",
        loses=("ch04_conv_backward_hidden",),
    ),
    Mutant(
        name="conv_backward_crops_padding_on_one_side",
        cell="ch04_conv_backward",
        old="dx = dx_pad[:, :, pad : pad + H, pad : pad + W]",
        new="dx = dx_pad[:, :, :H, :W]",
        loses=("ch04_conv_backward_visible", "ch04_conv_backward_hidden"),
    ),
    Mutant(
        name="conv_backward_dx_assigns_overlapping_windows",
        cell="ch04_conv_backward",
        old="dx_pad[:, :, rows, cols] += np.einsum",
        new="dx_pad[:, :, rows, cols] = np.einsum",
        loses=("ch04_conv_backward_visible", "ch04_conv_backward_hidden"),
    ),
    # Exercise 6, ROT180
    Mutant(
        name="rot180_as_a_transpose",
        cell="ch04_rot180",
        old="return w[..., ::-1, ::-1]",
        new="return np.swapaxes(w, -1, -2)",
        loses=("ch04_rot180_visible", "ch04_rot180_hidden"),
    ),
    Mutant(
        name="rot180_dx_kernel_not_rotated",
        cell="ch04_rot180",
        old="filters = rot180(w).transpose(1, 0, 2, 3)",
        new="filters = w.transpose(1, 0, 2, 3)",
        loses=("ch04_rot180_visible", "ch04_rot180_hidden"),
    ),
    Mutant(
        name="rot180_dx_without_dilation",
        cell="ch04_rot180",
        old="dilated[:, :, ::stride, ::stride] = dout",
        new="dilated[:, :, :H_out, :W_out] = dout",
        loses=("ch04_rot180_hidden",),
    ),
    # Exercise 7, max pooling
    Mutant(
        name="max_pool_gradient_to_every_element",
        cell="ch04_max_pool",
        old="np.put_along_axis(mask, first[:, :, None], 1.0, axis=2)",
        new="mask[:] = 1.0",
        loses=("ch04_max_pool_visible", "ch04_max_pool_hidden"),
    ),
    Mutant(
        name="max_pool_gradient_to_every_tied_maximum",
        cell="ch04_max_pool",
        old="np.put_along_axis(mask, first[:, :, None], 1.0, axis=2)",
        new="mask = (window == window.max(axis=2, keepdims=True)).astype(float)",
        loses=("ch04_max_pool_visible", "ch04_max_pool_hidden"),
    ),
    Mutant(
        name="max_pool_overlapping_windows_assigned",
        cell="ch04_max_pool",
        old="dx[:, :, rows, cols] += (mask",
        new="dx[:, :, rows, cols] = (mask",
        loses=("ch04_max_pool_hidden",),
    ),
    Mutant(
        name="max_pool_size_without_plus_one",
        cell="ch04_max_pool",
        old="H_out = (H - pool_size) // stride + 1",
        new="H_out = (H - pool_size) // stride",
        loses=("ch04_max_pool_visible", "ch04_max_pool_hidden"),
    ),
    # Exercise 8, average pooling
    Mutant(
        name="avg_pool_gradient_not_divided_by_window_size",
        cell="ch04_avg_pool",
        old="share = dout[:, :, i, j][:, :, None, None] / pool_size**2",
        new="share = dout[:, :, i, j][:, :, None, None]",
        loses=("ch04_avg_pool_visible", "ch04_avg_pool_hidden"),
    ),
    # Exercises 9-10, sizes
    Mutant(
        name="layer_table_forgets_biases",
        cell="ch04_layer_table",
        old="params = F * (C * K * K + 1)",
        new="params = F * C * K * K",
        loses=("ch04_layer_table_visible", "ch04_layer_table_hidden"),
    ),
    Mutant(
        name="layer_table_fc_does_not_flatten",
        cell="ch04_layer_table",
        old="n_in = int(np.prod(shape))",
        new="n_in = shape[0]",
        loses=("ch04_layer_table_visible", "ch04_layer_table_hidden"),
    ),
    Mutant(
        name="fc_vs_conv_units_copied_from_the_source",
        cell="ch04_fc_vs_conv",
        old="units = W * H * J",
        new="units = W * H * I",
        loses=("ch04_fc_vs_conv_visible", "ch04_fc_vs_conv_hidden"),
    ),
    # Exercise 13, batch norm per channel
    Mutant(
        name="spatial_batchnorm_statistics_per_position",
        cell="ch04_spatial_batchnorm",
        old="mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))",
        new="mean, var = x.mean(axis=0), x.var(axis=0)",
        loses=("ch04_spatial_batchnorm_visible", "ch04_spatial_batchnorm_hidden"),
    ),
    Mutant(
        name="spatial_batchnorm_unbiased_variance",
        cell="ch04_spatial_batchnorm",
        old="x.var(axis=(0, 2, 3))",
        new="x.var(axis=(0, 2, 3), ddof=1)",
        loses=("ch04_spatial_batchnorm_visible", "ch04_spatial_batchnorm_hidden"),
    ),
    Mutant(
        name="spatial_batchnorm_eval_uses_the_batch",
        cell="ch04_spatial_batchnorm",
        old="x_hat = (x - running_mean.reshape(per_channel)) / std",
        new="x_hat = (x - x.mean(axis=(0, 2, 3)).reshape(per_channel)) / std",
        loses=("ch04_spatial_batchnorm_visible", "ch04_spatial_batchnorm_hidden"),
    ),
    Mutant(
        name="spatial_batchnorm_backward_counts_one_image",
        cell="ch04_spatial_batchnorm",
        old="M = dout.shape[0] * dout.shape[2] * dout.shape[3]",
        new="M = dout.shape[2] * dout.shape[3]",
        loses=("ch04_spatial_batchnorm_visible", "ch04_spatial_batchnorm_hidden"),
    ),
    Mutant(
        name="spatial_batchnorm_backward_without_the_mean_path",
        cell="ch04_spatial_batchnorm",
        old="dx = (M * dx_hat - total - x_hat * along) / (M * std)",
        new="dx = (M * dx_hat - x_hat * along) / (M * std)",
        loses=("ch04_spatial_batchnorm_visible", "ch04_spatial_batchnorm_hidden"),
    ),
    # Exercise 14, group norm
    Mutant(
        name="groupnorm_groups_interleaved",
        cell="ch04_groupnorm",
        old="groups = x.reshape(N, G, C // G, H, W)",
        new="groups = x.reshape(N, C // G, G, H, W)",
        loses=("ch04_groupnorm_visible", "ch04_groupnorm_hidden"),
    ),
    Mutant(
        name="groupnorm_mean_over_the_batch",
        cell="ch04_groupnorm",
        old="mean = groups.mean(axis=(2, 3, 4), keepdims=True)",
        new="mean = groups.mean(axis=(0, 2, 3, 4), keepdims=True)",
        loses=("ch04_groupnorm_visible", "ch04_groupnorm_hidden"),
    ),
    Mutant(
        name="groupnorm_dbeta_of_the_first_image",
        cell="ch04_groupnorm",
        old="dbeta = dout.sum(axis=(0, 2, 3))",
        new="dbeta = dout[0].sum(axis=(1, 2))",
        loses=("ch04_groupnorm_visible", "ch04_groupnorm_hidden"),
    ),
    Mutant(
        name="groupnorm_accepts_a_g_that_does_not_divide_c",
        cell="ch04_groupnorm",
        old="if G < 1 or C % G:",
        new="if G < 1:",
        loses=("ch04_groupnorm_visible",),
    ),
]
