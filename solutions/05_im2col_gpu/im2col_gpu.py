# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 05 — Making it fast: im2col, col2im, and the GPU
#
# Chapter 04's layers loop in Python over every output position. They are
# right, and they are slow: one forward and backward pass of the second
# convolution of von Hacht's MNIST network on a batch of 100 images takes about
# three seconds on a laptop, and training needs thousands of them. This chapter keeps the
# mathematics and changes the *arithmetic*: **im2col** copies every window of
# the input into a column of one big matrix, so that a whole convolution layer
# becomes **one matrix product** (a GEMM, the operation CPUs and GPUs run
# fastest), and its backward pass becomes two more products and a **col2im**
# that adds the windows back. Max pooling gets the same treatment. On the way
# we look at how an array sits in memory (strides, views and copies, and why a
# view can be dangerous), write every function so that it runs unchanged with
# NumPy on a CPU or CuPy on a GPU, wrap the layers into a small graph that
# checks shapes when it is built, and train von Hacht's MNIST architecture
# (Table 3.2) with AdamW on Fashion-MNIST — evaluated as the thesis does, with
# normalised loss curves, a confusion matrix and the first layer's filters.
#
# **Source.** A. von Hacht, *Implementation of Deep Feedforward Neural Network with CUDA
# backend for Efficient and Accurate Natural Image Classification* (MSc thesis,
# Chalmers, 2017; full reference at the end of the chapter): sec. 3.1.1–3.1.6 (NCHW
# row-major tensors, eqs. 3.1–3.2; convolution as matrix multiplication; the
# computational graph of template nodes), 3.2 (BLAS and cuBLAS), 3.3 (the gradient
# check, eqs. 3.3–3.7), 3.4 (MNIST, Table 3.2), 3.6 (loss normalisation, accuracy,
# confusion matrix, filter visualisation, eq. 3.8) and the hyperparameters of Tables
# 4.1–4.4; its eqs. 2.12–2.17 and 2.41 (Adam with weight decay) and 2.42–2.46 (dropout)
# through chapter 03. We recompute every number we take from it. The text states the
# correct results; what it gets wrong is in a folded **Errata** note at the end of the
# section (click it to open), and so are notes on its omissions and ambiguities.
#
# ## Learning goals
#
# After this chapter you can
#
# - compute the memory offset and the strides of an NCHW tensor, tell a view
#   from a copy, build a sliding-window view with `as_strided`, and say what can
#   go wrong with one;
# - write im2col and col2im, and a convolution layer's forward and backward
#   passes as three matrix products, checked against chapter 04's loops and a
#   numerical gradient; explain why col2im must *add* and why `x[idx] += v` does not;
# - write max pooling, forward and backward, without a Python loop over positions,
#   with PyTorch's tie rule;
# - write array code that runs on NumPy or CuPy, and time GPU code correctly;
# - build a network from layer objects whose shapes are checked when it is built,
#   train von Hacht's MNIST architecture on Fashion-MNIST with AdamW, and evaluate
#   it as the thesis does.
#
# **Time:** about 4–5 hours of reading, deriving and coding. The notebook runs
# top to bottom in about a minute on two laptop CPU cores (most of it the
# training of section 9); no GPU is needed. Section 11 runs only where
# CuPy sees an NVIDIA GPU.
#
# **How to work:** fill in every cell that says `# YOUR CODE HERE`, then run the
# test cell below it. The visible tests check small cases you can verify by
# hand and agreement with chapter 04's loop versions; hidden tests use other
# shapes (several images and channels, non-square images, kernels 1–5, strides
# 1–3, padding 0–2), ties in max pooling, and numerical gradients, when your
# notebook is graded. Your fast functions must agree with the loops to a
# relative error below $10^{-9}$ in float64. When graded, the training and the
# timings shrink to a few seconds.

# %% nbgrader={"grade": false, "grade_id": "ch05_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import builtins
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from backproplab.backend import array_module, backend_name, to_numpy
from backproplab.conv_naive import (
    conv_backward_naive,
    conv_forward_naive,
    conv_output_size,
    max_pool_backward_naive,
    max_pool_forward_naive,
    pool_output_size,
)
from backproplab.datasets import load_fashion_mnist_or_digits, train_val_test
from backproplab.filter_viewer import filter_viewer
from backproplab.gradcheck import numerical_gradient, rel_error
from backproplab.grading import check, record
from backproplab.layers import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from backproplab.optim import adamw
from backproplab.plotting import show_figure
from backproplab.regularization import dropout_backward, dropout_forward

np.set_printoptions(precision=4, suppress=True)
# graded: experiments shrink to a smoke test
smoke_test = bool(os.environ.get("NBGRADER_EXECUTION"))
# The test cells below use the names imported and defined here: do not rebind them.

# %% [markdown]
# **Provided code.** Chapter 04's loop versions are in `backproplab.conv_naive`:
# `conv_forward_naive(x, w, b, stride, pad) -> (out, cache)`, `conv_backward_naive(dout, cache) -> (dx, dw, db)`,
# `max_pool_forward_naive(x, pool_size, stride)`, `max_pool_backward_naive(dout, cache)`, and the output sizes
# `conv_output_size(n, kernel_size, stride, pad)` $= \lfloor (n + 2P - K)/S\rfloor + 1$ and
# `pool_output_size(n, pool_size, stride)` (chapter 04, eqs. 6–7). They are the reference every
# fast function of this chapter must match. Chapter 02's dense layers and softmax loss are in
# `backproplab.layers`, chapter 03's AdamW step `adamw(w, dw, config) -> (next_w, config)` in
# `backproplab.optim`, and its inverted dropout in `backproplab.regularization`.
#
# ## 1. How an array sits in memory
#
# Von Hacht (sec. 3.1.1) stores every tensor — a batch of images, a bank of
# filters — with four indices, shape $[N, C, H, W]$ (eq. 3.1): image, channel,
# row, column. This is **NCHW**, the layout of PyTorch and of cuDNN's default.
# Memory is one line of numbers, so the tensor is laid out **row-major** ("C
# order"): the *rightmost* index varies fastest. Walking along the line, we meet
# $x_{0,0,0,0}, x_{0,0,0,1}, \dots, x_{0,0,0,W-1}$ (one row), then the next row,
# then the next channel, then the next image. The element $x_{n c h w}$ sits at
#
# $$ \text{offset}(n, c, h, w) = ((n\,C + c)\,H + h)\,W + w
#    = \sum_{i=1}^{4} n_i \prod_{j = i + 1}^{4} N_j , \tag{1} $$
#
# with $(n_1, n_2, n_3, n_4) = (n, c, h, w)$ and $(N_1, N_2, N_3, N_4) = (N, C, H, W)$:
# moving one step in index $i$ skips all the elements of the later axes. For shape
# $(2, 3, 5, 6)$ the element $(1, 2, 3, 4)$ is at $((1\cdot3 + 2)\cdot5 + 3)\cdot6 + 4 = 172$
# (`np.ravel_multi_index` agrees). A product over the axes *before* $i$ instead makes the
# first index vary fastest — column-major (Fortran) order — and gives
# $1 + 2\cdot2 + 6\cdot3 + 30\cdot4 = 143$ (von Hacht's eq. (3.2) reads that way; see the fold at
# the end of this part).
#
# **Strides.** NumPy (and CuPy) describe the layout of an array by its
# **strides**: how many *bytes* to jump to move one step along each axis. For a
# row-major array of items of `itemsize` bytes, (1) gives
#
# $$ s_i = \text{itemsize}\cdot\prod_{j > i} N_j, \qquad
#    \text{address}(n_1, \dots, n_d) = \text{base} + \sum_i n_i\, s_i . \tag{2} $$
#
# The second formula holds for **every** array, contiguous or not: an array is a
# pointer to memory plus a shape plus strides. That is why many operations cost
# nothing — they return a **view** of the same memory with new strides:
# `x.transpose(1, 0, 2, 3)` permutes the strides, `x[:, :, ::2]` doubles one,
# `x.reshape(...)` of a contiguous array recomputes them by (2). A **copy**
# happens only when no strides can describe the result: `x.transpose(...).reshape(...)`
# usually copies, and so do `np.ascontiguousarray`, fancy indexing and arithmetic.
#
# ### Exercise 1 (implement): offsets and strides
#
# Write `row_major_offset(index, shape)`, eq. (1) for any number of axes (Horner's
# scheme: `offset = offset * N_i + n_i`, axis after axis), and
# `row_major_strides(shape, itemsize)`, eq. (2), as a tuple of Python ints.
# (`np.ravel_multi_index` and `np.empty(shape).strides` are what the tests
# compare with; do not use them.)


# %% nbgrader={"grade": false, "grade_id": "ch05_offsets", "locked": false, "schema_version": 3, "solution": true, "task": false}
def row_major_offset(index, shape):
    """Position of the element `index` = (n_1, ..., n_d) on the line of a row-major array of `shape`, eq. (1)."""
    ### BEGIN SOLUTION
    offset = 0
    for n_i, N_i in zip(index, shape):
        offset = offset * N_i + n_i  # every later axis multiplies what came before
    return offset
    ### END SOLUTION


def row_major_strides(shape, itemsize):
    """Bytes to jump along each axis of a row-major (C-contiguous) array, eq. (2): a tuple of ints."""
    ### BEGIN SOLUTION
    strides, step = [], itemsize
    for N_i in reversed(shape):
        strides.append(step)  # the last axis moves one item, the one before it one row ...
        step *= N_i
    return tuple(int(s) for s in reversed(strides))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_offsets_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""The offset of (1, 2, 3, 4) in an array of shape (2, 3, 5, 6) is 172 (not eq. 3.2's 143); its float64 strides."""
from backproplab.grading import check

check(
    "offset_1234",
    row_major_offset((1, 2, 3, 4), (2, 3, 5, 6)),
    172,
    "row_major_offset((1, 2, 3, 4), (2, 3, 5, 6))",
    hint="((1*3 + 2)*5 + 3)*6 + 4 = 172: the LAST index varies fastest (143 is column-major, eq. 3.2)",
)
check(
    "strides_2356_f64",
    row_major_strides((2, 3, 5, 6), 8),
    (720, 240, 48, 8),
    "row_major_strides((2, 3, 5, 6), 8)",
    hint="the last axis jumps one item (8 bytes), the one before it a row of 6 items (48 bytes), ...",
)
print("row_major_offset, row_major_strides: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_offsets_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Offsets and strides of hidden shapes with 1 to 5 axes and item sizes 1, 4 and 8."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5001)
for shape_h in ((7,), (4, 9), (3, 1, 5), (2, 3, 4, 5), (2, 2, 3, 1, 4)):
    index_h = tuple((builtins.int(rng_h.integers(0, n_h)) for n_h in shape_h))
    got_h = record(
        f"offset_{shape_h}",
        row_major_offset(index_h, shape_h),
        about=f"row_major_offset({index_h}, {shape_h})",
    )
    for dtype_h in (np.uint8, np.float32, np.float64):
        strides_h = record(
            f"strides_{shape_h}_{np.dtype(dtype_h).name}",
            row_major_strides(shape_h, np.dtype(dtype_h).itemsize),
            about=f"row_major_strides({shape_h}, {np.dtype(dtype_h).itemsize})",
        )
        recorded_h = record(
            f"python_ints_{shape_h}_{np.dtype(dtype_h).name}",
            builtins.all(isinstance(s_h, builtins.int) for s_h in strides_h),
            about="row_major_strides returns a tuple of Python ints",
        )
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Ambiguity: the order of the axes in eq. (3.2) (von Hacht, sec. 3.1.2)</summary>
#
# The thesis writes the line position as $\sum_{i=1}^{n}\big(\prod_{j=1}^{i-1} N_j\big)\,n_i$, the
# product over the axes *before* $i$, and does not say how the axes are numbered. Numbered
# from the right ($n_1 = w$, $N_1 = W$, ..., $n_4 = n$), it is exactly row-major, as the
# sentence before it says ("the rightmost index varies fastest"): for the example above,
# $4 + 6\cdot3 + 30\cdot2 + 90\cdot1 = 172$. Numbered in the order of the shape $[N, C, H, W]$,
# as a reader will take it, it is column-major and gives 143. Our eq. (1) numbers the axes
# in the shape's order, so its product runs over the axes *after* $i$.
#
# </details>
#
# ### Windows as a view
#
# A convolution with a $K \times K$ kernel and stride $S$ reads, for every output
# position $(i, j)$, the window $x_{n, c, iS + k, jS + l}$, $0 \le k, l < K$. Put the
# window entries and the positions on axes of their own:
#
# $$ \text{windows}_{n c k l i j} = x_{n,\,c,\,iS + k,\,jS + l}, \qquad
#    \text{shape } (N, C, K, K, H', W'), \quad H' = \lfloor (H - K)/S \rfloor + 1 . \tag{3} $$
#
# By (2) the element on the right is at
# $\text{base} + n s_N + c s_C + (iS + k) s_H + (jS + l) s_W$: a step in $k$ moves $s_H$ bytes,
# a step in $i$ moves $S s_H$ bytes. So `windows` is just $x$'s memory read with the
# strides $(s_N, s_C, s_H, s_W, S s_H, S s_W)$ — a **view**, built in microseconds by
# `np.lib.stride_tricks.as_strided(x, shape, strides)`, with no copy although every
# input element appears in up to $K^2$ windows. (Always take the strides from
# `x.strides`, never from (2): then the view is right for any input, contiguous or not.)
#
# **Why a view can be dangerous.** `as_strided` checks nothing. A wrong shape or
# stride reads memory outside the array — other data, garbage, or a crash of
# the kernel (save your notebook before you experiment). Writing through such
# a view is worse: it changes $x$ itself, and since the windows overlap, the
# writes to an element they share overwrite each other (the cell after the
# exercise shows what `+= 1` does). And a small view keeps its whole base array
# alive. NumPy's
# `sliding_window_view` builds the same view safely (it checks the sizes and is
# read-only); `as_strided(..., writeable=False)` makes a view read-only. CuPy has
# `as_strided` too, but without that flag.
#
# ### Exercise 2 (implement): `window_view`
#
# Return the view (3) of an (already padded) input with `as_strided` from
# `xp.lib.stride_tricks`, where `xp = array_module(x)` is NumPy or CuPy (section 6).


# %% nbgrader={"grade": false, "grade_id": "ch05_window_view", "locked": false, "schema_version": 3, "solution": true, "task": false}
def window_view(x, kernel_size, stride=1):
    """All K x K windows of x at stride S as a view, eq. (3): windows[n, c, k, l, i, j] = x[n, c, i*S + k, j*S + l].

    x: (N, C, H, W), NumPy or CuPy, any strides. Returns a view of x's memory (no copy) of shape
    (N, C, K, K, H', W') with H' = (H - K) // S + 1 and W' = (W - K) // S + 1.
    """
    xp = array_module(x)
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    K, S = kernel_size, stride
    H_out, W_out = conv_output_size(H, K, S), conv_output_size(W, K, S)
    s_N, s_C, s_H, s_W = x.strides  # bytes per step along each axis of x
    return xp.lib.stride_tricks.as_strided(
        x, shape=(N, C, K, K, H_out, W_out), strides=(s_N, s_C, s_H, s_W, s_H * S, s_W * S)
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_window_view_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""window_view of a 4x5 image: every window for strides 1 and 2 (against sliding_window_view), and no copy."""
import numpy as np

from backproplab.grading import check

x45 = np.arange(20.0).reshape(1, 1, 4, 5)
all_windows = np.lib.stride_tricks.sliding_window_view(x45, (2, 2), axis=(2, 3)).transpose(
    0, 1, 4, 5, 2, 3
)
windows = window_view(x45, 2, 1)
check(
    "windows_s1",
    windows,
    all_windows,
    "window_view(x (1, 1, 4, 5), kernel_size=2, stride=1)",
    hint="shape (N, C, K, K, H', W') = (1, 1, 2, 2, 3, 4), windows[n, c, k, l, i, j] = x[n, c, i*S + k, j*S + l]: "
    "the window at row 1, column 2 is [[7, 8], [12, 13]]",
)
check(
    "windows_s1_is_a_view",
    builtins.bool(np.shares_memory(windows, x45)),
    True,
    "window_view returns a view of x",
    hint="window_view copied the data: build a view of x's memory with as_strided and x.strides",
)
check(
    "windows_s2",
    window_view(x45, 2, 2),
    all_windows[..., ::2, ::2],
    "window_view(x (1, 1, 4, 5), kernel_size=2, stride=2)",
    hint="H' = (4 - 2) // 2 + 1 = 2 and W' = (5 - 2) // 2 + 1 = 2; a step of i moves S rows: "
    "the stride of axis i is S * x.strides[2]",
)
print("window_view: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_window_view_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""window_view on hidden batches (strides 1-3, kernels 1-3, non-square) and on non-contiguous inputs; views, not copies."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5002)
base_h = rng_h.normal(size=(3, 2, 8, 7))
for x_h, k_h, s_h in (
    (rng_h.normal(size=(2, 3, 7, 6)), 3, 2),
    (rng_h.normal(size=(3, 2, 5, 8)), 2, 3),
    (rng_h.normal(size=(2, 2, 4, 3)), 1, 1),
    (base_h.transpose(0, 1, 3, 2), 3, 2),
    (base_h[:, :, ::2, 1:], 2, 1),
):
    tag_h = f"{x_h.shape}_{x_h.strides}_{k_h}_{s_h}"
    got_h = record(
        f"windows_{tag_h}",
        window_view(x_h, k_h, s_h),
        about=f"window_view of an input of shape {x_h.shape} (strides {x_h.strides}), kernel {k_h}, stride {s_h}",
    )
    recorded_h = record(
        f"view_{tag_h}",
        builtins.bool(np.shares_memory(got_h, x_h)),
        about="window_view returns a view of x, not a copy",
    )
### END HIDDEN TESTS

# %%
# What a view can do to you: writing through the overlapping windows of a small image.
x_demo = np.zeros((1, 1, 4, 4))
s_demo = x_demo.strides
# The windows of eq. (3) with K = 3, S = 1, made writable on purpose (your window_view may rightly be read-only):
overlapping = np.lib.stride_tricks.as_strided(
    x_demo, shape=(1, 1, 3, 3, 2, 2), strides=(*s_demo, s_demo[2], s_demo[3])
)
overlapping += 1.0  # "add 1 to every window element": 36 additions into 16 pixels
print("x after adding 1 through a writable view of its four overlapping 3x3 windows:")
print(x_demo[0, 0])
counts_demo = np.zeros((4, 4))
for i in range(2):
    for j in range(2):
        counts_demo[i : i + 3, j : j + 3] += 1.0  # one window at a time
print("how many windows contain each pixel (what adding 1 per window element would give):")
print(counts_demo)
safe = np.lib.stride_tricks.sliding_window_view(np.zeros((4, 4)), (3, 3))
print("sliding_window_view is read-only:", not safe.flags.writeable)

# %% [markdown]
# Writing through the view changed `x_demo`, the array we never touched directly, and
# the centre pixels, which belong to four windows, got 1, not 4: NumPy noticed that
# the view overlaps itself, computed all 36 new values from the old ones first, and
# then wrote them, so the four writes into a centre pixel all stored the same 1. (CuPy
# promises less: its GPU threads would write the same address concurrently.) Adding
# up the contributions of overlapping windows, as the loop above does one window at a
# time, is a different operation — **col2im**, section 3's subject. Read from
# overlapping views; never write to them.
#
# ## 2. im2col: a convolution layer is one matrix product
#
# Chapter 04's eq. (8) is, for every output position, a dot product of the
# window at $(iS, jS)$ of the padded input $\hat x$ with every filter:
#
# $$ \text{out}_{nfij} = b_f + \sum_{c, k, l} w_{fckl}\; \hat x_{n,\,c,\,iS + k,\,jS + l} . $$
#
# Von Hacht (sec. 3.1.3) turns this into a matrix product. Lay out the windows as
# the **columns** of a matrix — one column per output position $(n, i, j)$, one
# row per window entry $(c, k, l)$:
#
# $$ \text{cols}_{(c,k,l),\,(n,i,j)} = \hat x_{n,\,c,\,iS + k,\,jS + l}, \qquad
#    \text{cols} \in \mathbb R^{CK^2 \times NH'W'}, \tag{4} $$
#
# with the rows and columns numbered in row-major order (1): row $r = (cK + k)K + l$,
# column $q = (nH' + i)W' + j$. Flatten each filter the same way, $W_{\text{mat}} =$
# `w.reshape(F, C*K*K)`, whose row $f$ is $w_{f c k l}$ at position $(cK + k)K + l$ —
# *the same order as the rows of cols*. Then the sum over $(c, k, l)$ is a matrix product:
#
# $$ \text{out}_{\text{mat}} = W_{\text{mat}}\, \text{cols} + b\,\mathbf 1^{\top} \in \mathbb R^{F \times NH'W'},
#    \qquad \text{out}_{nfij} = (\text{out}_{\text{mat}})_{f,\,(n,i,j)} . \tag{5} $$
#
# The result is ordered (filter, image, row, column): reshape it to $(F, N, H', W')$
# and move the filter axis behind the image axis to get NCHW. The orders matter:
# a `reshape` only relabels the line of numbers, so reshaping in another order
# than the one the data was written in silently mixes windows, images or filters.
#
# `window_view` of the padded input gives (3) with axes $(n, c, k, l, i, j)$;
# transposing to $(c, k, l, n, i, j)$ and reshaping to $(CK^2, NH'W')$ gives (4).
# That reshape is where the **copy** happens — the only one. It is big: each
# input element is copied into up to $K^2$ columns. For the second convolution
# of Table 3.2 ($32\times14\times14$ inputs, $5\times5$ kernels, padding 2) and a batch of
# 100, cols has $800 \times 19{,}600$ entries, 62.7 MB in float32, 25 times the input.
# In exchange, the $2 F C K^2 N H' W'$ floating-point operations of the layer
# (2.0 GFLOP here) run in one call of a tuned BLAS routine (`sgemm` in OpenBLAS
# or cuBLAS, von Hacht, sec. 3.2) instead of $H'W'$ small ones from Python.
#
# ### Exercise 3 (implement): `im2col`
#
# Pad $x$ with `xp.pad` ($P$ zeros on both sides of $H$ and $W$), take the windows
# with your `window_view`, and transpose and reshape them into (4).


# %% nbgrader={"grade": false, "grade_id": "ch05_im2col", "locked": false, "schema_version": 3, "solution": true, "task": false}
def im2col(x, kernel_size, stride=1, pad=0):
    """The column matrix of eq. (4): cols[(c, k, l), (n, i, j)] = x_pad[n, c, i*S + k, j*S + l].

    x: (N, C, H, W), NumPy or CuPy. kernel_size: K; stride: S; pad: P zeros on every side of H and W.
    Returns cols: (C*K*K, N*H'*W'), rows ordered (c, k, l) and columns (n, i, j), both row-major,
    with H' = (H + 2P - K) // S + 1, W' likewise; same dtype and module as x.
    """
    xp = array_module(x)
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    K = kernel_size
    x_pad = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = window_view(x_pad, K, stride)  # (N, C, K, K, H', W'), a view
    # rows (c, k, l), columns (n, i, j): the copy
    return windows.transpose(1, 2, 3, 0, 4, 5).reshape(C * K * K, -1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_im2col_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""im2col of two 3x3 images by hand (2x2 windows), with padding 1, and the GEMM of eq. (5) against conv_forward_naive."""
import numpy as np

from backproplab.grading import check

x233 = np.arange(18.0).reshape(2, 1, 3, 3)  # image 0 holds 0..8, image 1 holds 9..17
check(
    "cols_2x1x3x3_k2",
    im2col(x233, 2),
    np.array(
        [
            [0.0, 1.0, 3.0, 4.0, 9.0, 10.0, 12.0, 13.0],
            [1.0, 2.0, 4.0, 5.0, 10.0, 11.0, 13.0, 14.0],
            [3.0, 4.0, 6.0, 7.0, 12.0, 13.0, 15.0, 16.0],
            [4.0, 5.0, 7.0, 8.0, 13.0, 14.0, 16.0, 17.0],
        ]
    ),
    "im2col(x (2, 1, 3, 3), kernel_size=2)",
    hint="C*K*K = 4 rows and N*H'*W' = 8 columns; a column is one window read row by row, (c, k, l); the columns "
    "are ordered (n, i, j): the 4 windows of image 0 first, then those of image 1",
)
cols_pad = im2col(x233, 2, stride=1, pad=1)
check(
    "cols_pad1_shape",
    np.shape(cols_pad),
    (4, 32),
    "the shape of im2col(x (2, 1, 3, 3), kernel_size=2, pad=1)",
    hint="H' = W' = (3 + 2 - 2) // 1 + 1 = 4",
)
check(
    "cols_pad1_column5",
    cols_pad[:, 5],
    [0.0, 1.0, 3.0, 4.0],
    "column 5 of the padded cols (image 0, window at (1, 1))",
    hint="pad x with P zeros on every side of H and W before taking the windows",
)
rng = np.random.default_rng(50)
x_v, w_v, b_v = rng.normal(size=(2, 3, 7, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
gemm = (w_v.reshape(4, -1) @ im2col(x_v, 3, stride=2, pad=1)).reshape(4, 2, 4, 3).transpose(
    1, 0, 2, 3
) + b_v[:, None, None]
check(
    "gemm_s2_p1",
    gemm,
    conv_forward_naive(x_v, w_v, b_v, 2, 1)[0],
    "eq. (5) with your im2col against conv_forward_naive (stride 2, pad 1)",
    tol=1e-9,
    hint="the rows of cols must follow w.reshape(F, -1): (c, k, l); the columns (n, i, j)",
)
print("im2col: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_im2col_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""im2col on hidden batches (kernels 1-4, strides 1-3, padding 0-2, non-square)."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5003)
for x_shape_h, k_h, s_h, p_h in (
    ((2, 3, 7, 5), 3, 2, 1),
    ((3, 2, 8, 6), 4, 3, 2),
    ((2, 2, 5, 6), 1, 1, 0),
    ((2, 3, 6, 9), 2, 2, 0),
    ((3, 1, 5, 5), 3, 1, 2),
):
    x_h = rng_h.normal(size=x_shape_h)
    tag_h = f"{x_shape_h}_{k_h}_{s_h}_{p_h}"
    got_h = record(
        f"cols_{tag_h}",
        im2col(x_h, k_h, s_h, p_h),
        about=f"im2col of x {x_shape_h}, kernel {k_h}, stride {s_h}, pad {p_h}",
    )
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (implement): the forward pass as a GEMM
#
# Write `conv_forward_im2col` by (5): im2col, one matrix product, the bias, and
# the reshape and transpose back to NCHW. Keep in the cache what the backward
# pass needs: the input's shape, cols (so that $dw$ needs no second im2col), $w$,
# the stride and the padding.


# %% nbgrader={"grade": false, "grade_id": "ch05_conv_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_forward_im2col(x, w, b, stride=1, pad=0):
    """The convolution layer of chapter 04 (a cross-correlation) as one matrix product, eq. (5).

    x: (N, C, H, W); w: (F, C, K, K); b: (F,); NumPy or CuPy, all on the same device.
    Returns (out, cache): out (N, F, H', W') with H' = (H + 2P - K) // S + 1, W' likewise;
    cache = (x.shape, cols, w, stride, pad).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, K, _ = w.shape
    H_out, W_out = conv_output_size(H, K, stride, pad), conv_output_size(W, K, stride, pad)
    cols = im2col(x, K, stride, pad)  # (C K K, N H' W')
    out = w.reshape(F, -1) @ cols + b.reshape(F, 1)  # (F, N H' W'): one GEMM
    # columns were (n, i, j): back to NCHW
    out = out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)
    return out, (x.shape, cols, w, stride, pad)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_conv_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""conv_forward_im2col against conv_forward_naive (relative error below 1e-9 in float64), stride 2, pad 1."""
import numpy as np

from backproplab.grading import check

rng = np.random.default_rng(51)
x_v, w_v, b_v = rng.normal(size=(2, 3, 7, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
out_v, cache_v = conv_forward_im2col(x_v, w_v, b_v, stride=2, pad=1)
check(
    "out_s2_p1",
    out_v,
    conv_forward_naive(x_v, w_v, b_v, 2, 1)[0],
    "out for x (2, 3, 7, 5), w (4, 3, 3, 3), stride 2, pad 1, against conv_forward_naive",
    tol=1e-9,
    hint="(N, F, H', W'): out_mat = w.reshape(F, -1) @ cols + b, then reshape to (F, N, H', W') and put F after N",
)
print("conv_forward_im2col: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_conv_forward_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""conv_forward_im2col on hidden layers (kernels 1-5, strides 1-3, padding 0-2, F != C != N); x unchanged; float32 stays float32."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5004)
for x_shape_h, w_shape_h, s_h, p_h in (
    ((2, 3, 7, 5), (4, 3, 3, 3), 1, 1),
    ((3, 2, 8, 6), (5, 2, 4, 4), 3, 2),
    ((2, 2, 5, 6), (3, 2, 1, 1), 1, 0),
    ((3, 1, 9, 7), (2, 1, 5, 5), 2, 2),
):
    x_h, w_h, b_h = (
        rng_h.normal(size=x_shape_h),
        rng_h.normal(size=w_shape_h),
        rng_h.normal(size=w_shape_h[0]),
    )
    out_h, _ = conv_forward_im2col(x_h, w_h, b_h, s_h, p_h)
    tag_h = f"{x_shape_h}_{w_shape_h}_{s_h}_{p_h}"
    record(
        f"out_{tag_h}",
        out_h,
        about=f"out for x {x_shape_h}, w {w_shape_h}, stride {s_h}, pad {p_h}",
    )
    record("unchanged: x", x_h, about="x after conv_forward_im2col (it must not change in place)")
x32_h, w32_h = (
    rng_h.normal(size=(2, 2, 6, 6)).astype(np.float32),
    rng_h.normal(size=(3, 2, 3, 3)).astype(np.float32),
)
out32_h = conv_forward_im2col(x32_h, w32_h, np.zeros(3, dtype=np.float32), 1, 1)[0]
recorded_h = record(
    "dtype_float32",
    str(out32_h.dtype),
    about="the dtype of the output for float32 inputs (keep x's dtype)",
)
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Errata: col2im, the flip and the reason for not flipping (von Hacht, sec. 3.1.3)</summary>
#
# (i) After the product $[K, C F_h F_w] \times [C F_h F_w, VL\cdot HL]$ the thesis says "using a
# column to image operation the input can be restored to $[1, K, VL, HL]$". The product
# already *is* the output, ordered (filter, position): a reshape restores it, at no cost.
# col2im is the adjoint of im2col and belongs to the backward pass (section 3), where it
# must *add* overlapping windows. (ii) "The weights flipped 90° horizontally and then 90°
# vertically" means flipped horizontally and vertically, i.e. rotated by 180° (chapter 04's
# ROT180); the thesis' route to $dx$ — im2col of the errors, times the rotated filters —
# works for stride 1 only (a stride needs the dilated errors of chapter 04, sec. 6), which it
# does not say. Eqs. (6)–(7) below need neither a flip nor a dilation. (iii) Not flipping is
# harmless "because the optimisation does not depend on the order of the weights, hence the
# non-convex property": the reason is that the flip is a fixed one-to-one relabelling of the
# weights, so both parametrisations describe the same functions (chapter 04, Exercise 12);
# convexity has nothing to do with it.
#
# </details>
#
# ## 3. The backward pass: two more products and col2im
#
# Let $\overline{\text{out}} = \partial L/\partial\,\text{out}$ (`dout`, shape $(N, F, H', W')$). In the
# matrix form (5) it is $\overline{\text{out}}_{\text{mat}}$, of shape $(F, NH'W')$, with the columns in
# the order $(n, i, j)$ of cols — `dout.transpose(1, 0, 2, 3).reshape(F, -1)`. Transposed,
# eq. (5) is chapter 02's affine layer (its eqs. 9–10), $\text{out}_{\text{mat}}^\top = X W + b$ with the
# "inputs" $X = \text{cols}^\top$ (one row per output position) and the "weights"
# $W = W_{\text{mat}}^\top$. Its gradients $dW = X^\top\,\text{dout}$, $dX = \text{dout}\,W^\top$ and the row
# sums for $db$, transposed back, are
#
# $$ db = \overline{\text{out}}_{\text{mat}}\,\mathbf 1 \ \ (F), \qquad
#    dW_{\text{mat}} = \overline{\text{out}}_{\text{mat}}\, \text{cols}^{\top} \ \ (F \times CK^2), \qquad
#    d\text{cols} = W_{\text{mat}}^{\top}\, \overline{\text{out}}_{\text{mat}} \ \ (CK^2 \times NH'W'). \tag{6} $$
#
# $db_f$ sums $\overline{\text{out}}$ over the images and positions (chapter 04's eq. 9); $dW_{\text{mat}}$ is
# reshaped back to $(F, C, K, K)$ — the inverse of `w.reshape(F, -1)`; it is chapter 04's
# eq. (10) with the sum over $(n, i, j)$ done by the product. The last one is the gradient
# with respect to every *copy* of an input element. An element $\hat x_{ncpq}$ was copied
# into every column whose window contains it, so its gradient is the sum of the
# gradients of its copies:
#
# $$ d\hat x_{ncpq} = \sum_{\substack{k, l, i, j:\\ iS + k = p,\; jS + l = q}} d\text{cols}_{(c,k,l),\,(n,i,j)} , \tag{7} $$
#
# and $dx$ is $d\hat x$ without the padding (chapter 04's eq. 11, now as a scatter-add). This
# is **col2im**: it reverses the bookkeeping of im2col, *adding* where im2col *copied*.
# It is not an inverse — `col2im(im2col(x))` multiplies each element by the number of
# windows that contain it — but the **adjoint** (transpose) of the linear map im2col:
#
# $$ \langle \operatorname{im2col}(x),\, Y \rangle = \langle x,\, \operatorname{col2im}(Y) \rangle
#    \quad \text{for all } x, Y , \tag{8} $$
#
# where $\langle\cdot,\cdot\rangle$ sums the products of corresponding entries. Eq. (8) is a test any
# col2im must pass. It is also why (6)–(7) are right: the backward pass of a linear
# map is multiplication by its transpose.
#
# ### col2im, the slow obvious way: `np.add.at`
#
# Build, for every entry of cols, the index $(n, c, iS + k, jS + l)$ it came from, and add
# the entry there. The tempting `dx_pad[n, c, rows, cols] += values` is **wrong**: with
# fancy indices NumPy evaluates `dx_pad[idx] = dx_pad[idx] + values`, reading all
# the old values first, so when an index repeats (overlapping windows!) only one of
# its contributions survives. `np.add.at(dx_pad, idx, values)` is the unbuffered version
# that adds every contribution (CuPy has `cupy.add.at` too, and `cupyx.scatter_add`).
# Index arrays that broadcast against each other come from `xp.ogrid`:
# `c, k, l, n, i, j = xp.ogrid[:C, :K, :K, :N, :H_out, :W_out]` gives six arrays,
# each varying along its own axis of a $(C, K, K, N, H', W')$ grid — the shape that
# `cols.reshape(C, K, K, N, H_out, W_out)` has.
#
# ### Exercise 5 (implement): `col2im_add_at`


# %% nbgrader={"grade": false, "grade_id": "ch05_col2im_add_at", "locked": false, "schema_version": 3, "solution": true, "task": false}
def col2im_add_at(cols, x_shape, kernel_size, stride=1, pad=0):
    """col2im, eq. (7), with one unbuffered scatter-add (xp.add.at): the slow, obvious version.

    cols: (C*K*K, N*H'*W') as im2col returns for an input of shape x_shape = (N, C, H, W).
    Returns dx: (N, C, H, W), the sum of every column entry at the input position it was copied from,
    padding cut off; same dtype and module as cols.
    """
    xp = array_module(cols)
    ### BEGIN SOLUTION
    N, C, H, W = x_shape
    K, S = kernel_size, stride
    H_out, W_out = conv_output_size(H, K, S, pad), conv_output_size(W, K, S, pad)
    c, k, l, n, i, j = xp.ogrid[:C, :K, :K, :N, :H_out, :W_out]  # broadcast to (C, K, K, N, H', W')
    dx_pad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    # repeats add up
    xp.add.at(dx_pad, (n, c, i * S + k, j * S + l), cols.reshape(C, K, K, N, H_out, W_out))
    return dx_pad[:, :, pad : pad + H, pad : pad + W]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_col2im_add_at_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""col2im_add_at of a column matrix of ones counts the windows covering each pixel; the adjoint identity (8)."""
import numpy as np

from backproplab.grading import check

check(
    "counts_4x4_k3",
    col2im_add_at(np.ones((9, 4)), (1, 1, 4, 4), 3),
    np.array(
        [[[[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]]]]
    ),
    "col2im_add_at(ones (9, 4), x_shape (1, 1, 4, 4), kernel_size=3): the number of 3x3 windows covering each pixel",
    hint="overlapping windows must ADD: x[idx] += v keeps one of the repeated indices; use xp.add.at",
)
rng = np.random.default_rng(52)
x_v = rng.normal(size=(2, 2, 5, 4))
windows_v = np.lib.stride_tricks.sliding_window_view(
    np.pad(x_v, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3)
)
# eq. (4), computed here without your im2col
cols_v = windows_v.transpose(1, 4, 5, 0, 2, 3).reshape(2 * 3 * 3, -1)
Y_v = rng.normal(size=cols_v.shape)
check(
    "adjoint_rhs",
    np.sum(x_v * col2im_add_at(Y_v, x_v.shape, 3, 1, 1)),
    np.sum(cols_v * Y_v),
    "<x, col2im_add_at(Y)> against <im2col(x), Y> (eq. 8; kernel 3, pad 1)",
    hint="cut the padding off on both sides: dx = dx_pad[:, :, P:P + H, P:P + W]",
)
print("col2im_add_at: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_col2im_add_at_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""col2im_add_at on hidden shapes (strides 1-3, padding 0-2, kernels 1-4): dx and the adjoint identity."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5005)
for x_shape_h, k_h, s_h, p_h in (
    ((2, 3, 7, 5), 3, 2, 1),
    ((3, 2, 8, 6), 4, 3, 2),
    ((2, 2, 5, 6), 1, 1, 0),
    ((2, 1, 6, 7), 3, 1, 2),
    ((2, 2, 9, 6), 2, 2, 0),
):
    x_h = rng_h.normal(size=x_shape_h)
    ho_h, wo_h = (
        conv_output_size(x_shape_h[2], k_h, s_h, p_h),
        conv_output_size(x_shape_h[3], k_h, s_h, p_h),
    )
    Y_h = rng_h.normal(size=(x_shape_h[1] * k_h * k_h, x_shape_h[0] * ho_h * wo_h))
    tag_h = f"{x_shape_h}_{k_h}_{s_h}_{p_h}"
    dx_h = record(
        f"dx_{tag_h}",
        col2im_add_at(Y_h, x_shape_h, k_h, s_h, p_h),
        about=f"col2im_add_at for x {x_shape_h}, kernel {k_h}, stride {s_h}, pad {p_h}",
    )
    recorded_h = record(
        f"the adjoint identity (8) ({tag_h})",
        np.sum(x_h * dx_h),
        about=f"<x, col2im_add_at(Y)> for x {x_shape_h}, kernel {k_h}, stride {s_h}, pad {p_h}",
    )
### END HIDDEN TESTS

# %% [markdown]
# ### col2im, the fast way: a loop over the $K^2$ window offsets
#
# Look at (7) for one window offset $(k, l)$ at a time. For fixed $(k, l)$, the
# positions $(iS + k, jS + l)$ of the different windows $(i, j)$ are all **different**: they
# form the strided slice `k : k + S*H' : S` of the rows and `l : l + S*W' : S` of the
# columns. So one plain slice `+=` adds the $(k, l)$ entries of *all* windows at once,
# without any collision, and a Python loop over the $K^2$ offsets (25 for a $5\times5$ kernel,
# independent of the image size) adds them all:
#
# $$ d\hat x[:, :,\ k : k + SH' : S,\ l : l + SW' : S] \mathrel{+}= d\text{cols}_{(c,k,l),(n,i,j)}
#    \quad \text{for } k, l = 0, \dots, K - 1 . \tag{9} $$
#
# The collisions happen *between* offsets, and the loop handles them in turn. One
# more trick: `cols.reshape(C, K, K, N, H_out, W_out)[:, k, l]` has shape $(C, N, H', W')$.
# Accumulate into a padded array of that layout, channels first, and transpose it to
# NCHW once at the end: then each `+=` reads its source contiguously (about 1.5 times
# faster than transposing 25 slices).
#
# ### Exercise 6 (implement): `col2im`


# %% nbgrader={"grade": false, "grade_id": "ch05_col2im", "locked": false, "schema_version": 3, "solution": true, "task": false}
def col2im(cols, x_shape, kernel_size, stride=1, pad=0):
    """col2im, eq. (7), by eq. (9): for each of the K*K window offsets (k, l), one strided-slice +=.

    cols: (C*K*K, N*H'*W') as im2col returns for an input of shape x_shape = (N, C, H, W).
    Returns dx: (N, C, H, W) (it may be a transposed view), padding cut off; same dtype and module as cols.
    """
    xp = array_module(cols)
    ### BEGIN SOLUTION
    N, C, H, W = x_shape
    K, S = kernel_size, stride
    H_out, W_out = conv_output_size(H, K, S, pad), conv_output_size(W, K, S, pad)
    cols6 = cols.reshape(C, K, K, N, H_out, W_out)
    # channels first, like the columns
    dx_pad = xp.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for k in range(K):
        for l in range(K):
            # all windows at once, no collisions
            dx_pad[:, :, k : k + S * H_out : S, l : l + S * W_out : S] += cols6[:, k, l]
    return dx_pad[:, :, pad : pad + H, pad : pad + W].transpose(1, 0, 2, 3)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_col2im_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""col2im of ones counts the windows covering each pixel; col2im against eq. (7) summed by a loop (stride 2, pad 1)."""
import numpy as np

from backproplab.grading import check

check(
    "counts_4x4_k3",
    col2im(np.ones((9, 4)), (1, 1, 4, 4), 3),
    np.array(
        [[[[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0], [1.0, 2.0, 2.0, 1.0]]]]
    ),
    "col2im(ones (9, 4), x_shape (1, 1, 4, 4), kernel_size=3): the number of 3x3 windows covering each pixel",
    hint="add (+=) each offset's slice: = would keep only the last window's value",
)
rng = np.random.default_rng(53)
Y_v = rng.normal(size=(2 * 3 * 3, 2 * 4 * 3))
eq7 = np.zeros((2, 2, 9, 7))  # eq. (7) one entry at a time, into the padded input (pad 1)
for c, k, l, n, i, j in np.ndindex(2, 3, 3, 2, 4, 3):
    eq7[n, c, 2 * i + k, 2 * j + l] += Y_v.reshape(2, 3, 3, 2, 4, 3)[c, k, l, n, i, j]
check(
    "dx_s2_p1",
    col2im(Y_v, (2, 2, 7, 5), 3, 2, 1),
    eq7[:, :, 1:8, 1:6],
    "col2im(Y, x_shape (2, 2, 7, 5), kernel 3, stride 2, pad 1) against eq. (7)",
    tol=1e-9,
    hint="the slice for offset (k, l) is k : k + S*H' : S (rows) and l : l + S*W' : S (columns)",
)
print("col2im: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_col2im_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""col2im on hidden shapes (strides 1-3, padding 0-2, kernels 1-5, windows that overlap and that leave gaps)."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5006)
for x_shape_h, k_h, s_h, p_h in (
    ((2, 3, 7, 5), 3, 2, 1),
    ((3, 2, 8, 6), 4, 3, 2),
    ((2, 2, 5, 6), 1, 1, 0),
    ((2, 1, 6, 7), 5, 1, 2),
    ((2, 2, 9, 6), 2, 3, 0),
):
    N_h, C_h, H_h, W_h = x_shape_h
    ho_h, wo_h = (conv_output_size(H_h, k_h, s_h, p_h), conv_output_size(W_h, k_h, s_h, p_h))
    Y_h = rng_h.normal(size=(C_h * k_h * k_h, N_h * ho_h * wo_h))
    tag_h = f"{x_shape_h}_{k_h}_{s_h}_{p_h}"
    dx_h = record(
        f"dx_{tag_h}",
        col2im(Y_h, x_shape_h, k_h, s_h, p_h),
        about=f"col2im for x {x_shape_h}, kernel {k_h}, stride {s_h}, pad {p_h}",
    )
### END HIDDEN TESTS

# %% [markdown]
# How much faster is the fast one? The cell below times both on the same columns
# (best of a few runs; the sizes shrink when the notebook is graded).


# %%
def best_seconds(fn, repeat=3, warmup=1):
    """The fastest of `repeat` calls of fn(), in seconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return builtins.min(times)


rng = np.random.default_rng(5)
shape_t = (4, 4, 12, 12) if smoke_test else (32, 16, 16, 16)
cols_t = rng.standard_normal(
    (shape_t[1] * 9, shape_t[0] * shape_t[2] * shape_t[3]), dtype=np.float32
)
t_add_at = best_seconds(lambda: col2im_add_at(cols_t, shape_t, 3, 1, 1))
t_fast = best_seconds(lambda: col2im(cols_t, shape_t, 3, 1, 1))
print(
    f"col2im of {cols_t.shape} columns into {shape_t} (3x3, pad 1, float32): "
    f"np.add.at {1e3 * t_add_at:.1f} ms, slice loop {1e3 * t_fast:.2f} ms -> {t_add_at / t_fast:.0f}x faster; "
    f"max difference {np.abs(col2im_add_at(cols_t, shape_t, 3, 1, 1) - col2im(cols_t, shape_t, 3, 1, 1)).max():.1e}"
)

# %% [markdown]
# `np.add.at` pays for its generality: it handles *any* list of indices, one element at
# a time, with checks for repeats. The slice loop hands NumPy nine (here) large,
# regular, collision-free additions. (The two results may differ in the last bits of
# float32: they add the same numbers in different orders.)
#
# ### Exercise 7 (implement): the backward pass


# %% nbgrader={"grade": false, "grade_id": "ch05_conv_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_backward_im2col(dout, cache):
    """Backward pass of conv_forward_im2col: the products (6), then col2im (7).

    dout: (N, F, H', W'); cache: what conv_forward_im2col returned.
    Returns (dx, dw, db) with the shapes of x (N, C, H, W), w (F, C, K, K) and b (F,).
    """
    ### BEGIN SOLUTION
    x_shape, cols, w, stride, pad = cache
    F = w.shape[0]
    # (F, N H' W'), columns (n, i, j) as in cols
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    db = dout_mat.sum(axis=1)
    dw = (dout_mat @ cols.T).reshape(w.shape)
    dcols = w.reshape(F, -1).T @ dout_mat  # (C K K, N H' W')
    dx = col2im(dcols, x_shape, w.shape[2], stride, pad)
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_conv_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""conv_backward_im2col against conv_backward_naive (to 1e-9), and dw against a numerical gradient of the loops, stride 1, pad 1."""
import numpy as np

from backproplab.gradcheck import numerical_gradient
from backproplab.grading import check

rng = np.random.default_rng(54)
x_v, w_v, b_v = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
out_v, cache_v = conv_forward_im2col(x_v, w_v, b_v, 1, 1)
dout_v = rng.normal(size=(2, 4, 6, 5))
dx_v, dw_v, db_v = conv_backward_im2col(dout_v, cache_v)
want_v = conv_backward_naive(dout_v, conv_forward_naive(x_v, w_v, b_v, 1, 1)[1])
check(
    "dx",
    dx_v,
    want_v[0],
    "dx against conv_backward_naive",
    tol=1e-9,
    hint="col2im(w.reshape(F, -1).T @ dout_mat, ...), with dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, -1)",
)
check(
    "dw",
    dw_v,
    want_v[1],
    "dw against conv_backward_naive",
    tol=1e-9,
    hint="(dout_mat @ cols.T).reshape(w.shape)",
)
check(
    "db",
    db_v,
    want_v[2],
    "db against conv_backward_naive",
    tol=1e-9,
    hint="dout_mat.sum(axis=1): one number per filter",
)
check(
    "dw_numerical",
    dw_v,
    numerical_gradient(lambda w: conv_forward_naive(x_v, w, b_v, 1, 1)[0], w_v.copy(), dout_v),
    "dw against a numerical gradient of conv_forward_naive (float64)",
)
print("conv_backward_im2col: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_conv_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""conv_backward_im2col on hidden layers (strides 2-3, padding 0-2, kernels 1-4, N != F): dx, dw, db."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5007)
for x_shape_h, w_shape_h, s_h, p_h in (
    ((2, 3, 7, 5), (4, 3, 3, 3), 2, 1),
    ((3, 2, 8, 6), (2, 2, 4, 4), 3, 2),
    ((2, 2, 5, 6), (3, 2, 1, 1), 1, 0),
    ((3, 1, 6, 7), (2, 1, 2, 2), 2, 0),
):
    x_h, w_h, b_h = (
        rng_h.normal(size=x_shape_h),
        rng_h.normal(size=w_shape_h),
        rng_h.normal(size=w_shape_h[0]),
    )
    _, cache_h = conv_forward_im2col(x_h, w_h, b_h, s_h, p_h)
    dout_h = rng_h.normal(size=conv_forward_naive(x_h, w_h, b_h, s_h, p_h)[0].shape)
    dx_h, dw_h, db_h = conv_backward_im2col(dout_h, cache_h)
    tag_h = f"{x_shape_h}_{w_shape_h}_{s_h}_{p_h}"
    case_h = f"x {x_shape_h}, w {w_shape_h}, stride {s_h}, pad {p_h}"
    record(f"dx_{tag_h}", dx_h, about=f"dx for {case_h}")
    record(f"dw_{tag_h}", dw_h, about=f"dw for {case_h}")
    recorded_h = record(f"db_{tag_h}", db_h, about=f"db for {case_h}")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Max pooling without a loop over positions
#
# A max pool is a "convolution" whose dot product is replaced by a maximum, and
# which treats every channel on its own. So im2col does the work again if every
# channel is made an image of its own: `x.reshape(N*C, 1, H, W)` (a view for a contiguous
# input), then `im2col(..., pool_size, stride)` gives one column per window, of the $F^2$
# entries of that window in row-major order, and the columns ordered $(n, c, i, j)$ —
# exactly the order of the output $(N, C, H', W')$:
#
# $$ \text{out}_{(n,c,i,j)} = \max_r \ \text{cols}_{r,\,(n,c,i,j)} . \tag{10} $$
#
# **Backward.** Locally, the maximum selects one entry of each column: its
# derivative is 1 for that entry and 0 for the others (von Hacht, eq. 2.37). With
# $r^*_q$ the row of the **first** maximum of column $q$ — `cols.argmax(axis=0)`, whose
# row-major window order is PyTorch's tie rule (chapter 04, sec. 7) —
#
# $$ d\text{cols}_{r q} = \begin{cases} \overline{\text{out}}_q & r = r^*_q \\ 0 & \text{otherwise} \end{cases},
#    \qquad dx = \operatorname{col2im}(d\text{cols}) , \tag{11} $$
#
# and col2im adds the gradients of overlapping windows ($S < F$), as it must.
# Setting the mask to `cols == cols.max(axis=0)` instead would send $\overline{\text{out}}$ to
# **every** tied maximum — common after a ReLU, which makes many exact zeros — and
# count it twice.
#
# ### Exercise 8 (implement): fast max pooling, forward and backward
#
# No Python loop over positions (col2im's loop over the $F^2$ window offsets is fine).
# In the backward pass, set the entries $(r^*_q, q)$ with one fancy-index assignment,
# `dcols[first, xp.arange(number_of_columns)] = dout.ravel()`: each pair appears once, so
# plain assignment is safe here.


# %% nbgrader={"grade": false, "grade_id": "ch05_max_pool", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool_forward_fast(x, pool_size=2, stride=2):
    """Max pooling by im2col, eq. (10): every channel is an image, every window a column.

    x: (N, C, H, W), NumPy or CuPy. Returns (out, cache): out (N, C, H', W') with
    H' = (H - pool_size) // stride + 1, W' likewise; cache = (x.shape, cols, pool_size, stride).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    H_out, W_out = pool_output_size(H, pool_size, stride), pool_output_size(W, pool_size, stride)
    # (F F, N C H' W'): one window per column
    cols = im2col(x.reshape(N * C, 1, H, W), pool_size, stride)
    out = cols.max(axis=0).reshape(N, C, H_out, W_out)
    return out, (x.shape, cols, pool_size, stride)
    ### END SOLUTION


def max_pool_backward_fast(dout, cache):
    """Backward pass of max_pool_forward_fast, eq. (11): each window's gradient to its FIRST maximum.

    dout: (N, C, H', W'); cache from max_pool_forward_fast. Returns dx: (N, C, H, W).
    """
    xp = array_module(dout)
    ### BEGIN SOLUTION
    x_shape, cols, pool_size, stride = cache
    N, C, H, W = x_shape
    first = cols.argmax(axis=0)  # row of the first maximum of every window (row-major window order)
    dcols = xp.zeros_like(cols, dtype=dout.dtype)
    dcols[first, xp.arange(cols.shape[1])] = dout.ravel()
    # overlapping windows add up
    return col2im(dcols, (N * C, 1, H, W), pool_size, stride).reshape(x_shape)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_max_pool_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Fast max pooling on chapter 04's 4x4 example (with ties) and against the loops on a random batch."""
import numpy as np

from backproplab.grading import check

x4 = np.array(
    [[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, 1.0, 7.0, 7.0], [2.0, 2.0, 6.0, 1.0]]
).reshape(1, 1, 4, 4)
out4, cache4 = max_pool_forward_fast(x4, 2, 2)
check(
    "out",
    out4,
    np.array([[[[4.0, 5.0], [2.0, 7.0]]]]),
    "max pool of the 4x4 example, 2x2 windows, stride 2",
    hint="the maximum of every column of cols, reshaped to (N, C, H', W') = (1, 1, 2, 2)",
)
expected4 = np.zeros((1, 1, 4, 4))
expected4[0, 0, 1, 0], expected4[0, 0, 1, 3], expected4[0, 0, 3, 0], expected4[0, 0, 2, 2] = (
    1.0,
    2.0,
    3.0,
    4.0,
)
check(
    "dx",
    max_pool_backward_fast(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache4),
    expected4,
    "dx of the 4x4 example for dout = [[1, 2], [3, 4]]",
    hint="the 2s of the bottom-left window and the 7s of the bottom-right one are ties: only the FIRST maximum (argmax) gets dout",
)
rng = np.random.default_rng(55)
x_v = rng.normal(size=(2, 3, 6, 7))
out_v, cache_v = max_pool_forward_fast(x_v, 3, 2)
check(
    "out_3_2",
    out_v,
    max_pool_forward_naive(x_v, 3, 2)[0],
    "out against max_pool_forward_naive (3x3, stride 2)",
    tol=1e-9,
)
dout_v = rng.normal(size=(2, 3, 2, 3))
check(
    "dx_3_2",
    max_pool_backward_fast(dout_v, cache_v),
    max_pool_backward_naive(dout_v, max_pool_forward_naive(x_v, 3, 2)[1]),
    "dx against max_pool_backward_naive (overlapping windows)",
    tol=1e-9,
    hint="overlapping windows add up: col2im does that",
)
print("max pooling: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_max_pool_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Fast max pooling on hidden batches (overlap, gaps, stride 3, non-square) and on integer images full of ties."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5008)
for x_shape_h, f_h, s_h, ints_h in (
    ((2, 3, 7, 5), 2, 2, False),
    ((2, 2, 7, 8), 3, 2, False),
    ((3, 2, 8, 7), 2, 3, False),
    ((2, 3, 6, 7), 2, 1, True),
    ((3, 2, 9, 6), 3, 3, True),
    ((2, 2, 5, 5), 3, 1, True),
):
    x_h = (
        rng_h.integers(0, 3, size=x_shape_h).astype(np.float64)
        if ints_h
        else rng_h.normal(size=x_shape_h)
    )
    tag_h = f"{x_shape_h}_{f_h}_{s_h}_{('ties' if ints_h else 'normal')}"
    out_h, cache_h = max_pool_forward_fast(x_h, f_h, s_h)
    record(
        f"out_{tag_h}",
        out_h,
        about=f"out for x {x_shape_h} ({tag_h.rsplit('_', 1)[1]}), {f_h}x{f_h} windows, stride {s_h}",
    )
    ref_out_h, ref_cache_h = max_pool_forward_naive(x_h, f_h, s_h)
    dout_h = rng_h.normal(size=ref_out_h.shape)
    dx_h = record(
        f"dx_{tag_h}",
        max_pool_backward_fast(dout_h, cache_h),
        about=f"dx for x {x_shape_h} ({tag_h.rsplit('_', 1)[1]}), {f_h}x{f_h} windows, stride {s_h}",
    )
### END HIDDEN TESTS

# %% [markdown]
# How much faster than chapter 04's loops are the fast layers? The cell below times a
# forward and backward pass of a convolution and of a max pool both ways (sizes
# shrink when graded; the loops are timed once).

# %%
shape_c = (4, 8, 12, 12) if smoke_test else (32, 16, 16, 16)
x_c = rng.standard_normal(shape_c, dtype=np.float32)
w_c, b_c = (
    0.1 * rng.standard_normal((32, shape_c[1], 3, 3), dtype=np.float32),
    np.zeros(32, dtype=np.float32),
)
dout_c = rng.standard_normal((shape_c[0], 32) + shape_c[2:], dtype=np.float32)


def conv_both_ways(forward, backward):
    return lambda: backward(dout_c, forward(x_c, w_c, b_c, 1, 1)[1])


def pool_both_ways(forward, backward):
    return lambda: backward(dout_c[:, :, ::2, ::2], forward(dout_c, 2, 2)[1])


for name, slow, fast in (
    (
        "conv 3x3, 32 filters, pad 1",
        conv_both_ways(conv_forward_naive, conv_backward_naive),
        conv_both_ways(conv_forward_im2col, conv_backward_im2col),
    ),
    (
        "max pool 2x2, stride 2",
        pool_both_ways(max_pool_forward_naive, max_pool_backward_naive),
        pool_both_ways(max_pool_forward_fast, max_pool_backward_fast),
    ),
):
    t_slow, t_fast = best_seconds(slow, repeat=1, warmup=0), best_seconds(fast)
    print(
        f"{name} on {shape_c}, forward + backward: loops {1e3 * t_slow:7.1f} ms, "
        f"fast {1e3 * t_fast:6.2f} ms -> {t_slow / t_fast:4.0f}x"
    )

# %% [markdown]
# ## 5. What the speed-up is made of
#
# Take the layer that dominates Table 3.2's network, its second convolution, with a batch
# of 100 in float32 (times measured on two CPU cores of the machine this chapter was
# written on; yours will differ). Its three GEMMs — out, $dW$ and $d$cols, 2.0 GFLOP each
# — take about 40 ms together, about 150 GFLOP/s, on both cores. The rest runs on one
# core: im2col's copy takes about 13 ms, col2im about 17 ms, and each fresh 63 MB array
# (cols, and dcols) costs a few more milliseconds before anything is written into it,
# because the operating system clears new memory page by page. Forward and backward take
# about 80 ms, so the layer runs at about half the speed of the machine's matrix
# products. (The fast path at the end of section 7 rearranges exactly these copies.)
# Chapter 04's loops need about 3 s for the same layer, 30 times longer: they make 196
# Python iterations, each with two small
# `einsum` contractions that NumPy computes in its generic loops, not in the blocked,
# vectorised, multi-threaded BLAS routine. (For the first convolution, whose input has a
# single channel, the loops do even less work per iteration and the ratio is larger.)
# The price of im2col is memory — $K^2 = 25$ times the input for the columns — and the
# time of the copies, which is why libraries such as cuDNN and oneDNN avoid building the
# column matrix (implicit GEMM, Winograd or FFT convolutions). `benchmarks/conv_speed.py`
# in the repository measures all this against PyTorch.
#
# ## 6. One code for the CPU and the GPU
#
# Every function above began with `xp = array_module(x)` and used `xp.pad`,
# `xp.zeros`, `xp.lib.stride_tricks`, `xp.add.at`... instead of `np.`: `array_module`
# (in `backproplab.backend`) answers `numpy` for a NumPy array and `cupy` for a CuPy
# array, so **the same functions compute on the GPU when they are given GPU arrays**.
# CuPy mirrors NumPy's API: `cupy.asarray(a)` copies a NumPy array to the GPU,
# `to_numpy(a)` (or `a.get()`) copies it back, and operators, reductions, `reshape`,
# `transpose`, slicing, `@` (cuBLAS) work as in NumPy. The rules that make this work:
# never call `np.` on an array that may live on the GPU, create new arrays with
# `xp.` and the input's dtype, and keep every array of one computation on one device.
#
# Which module to use when *creating* data is a separate choice: `backproplab.backend.get_xp()`
# returns CuPy only when CuPy is installed **and** sees a usable GPU, NumPy otherwise;
# the environment variable `BACKPROPLAB_BACKEND=numpy` forces NumPy (and `=cupy`
# insists on the GPU). Nothing graded in this chapter needs a GPU: all tests run
# on NumPy. Section 11 runs the same layers on CuPy where one is available.

# %%
print(
    f"backend chosen here: {'numpy (graded run: the GPU is not probed)' if smoke_test else backend_name()}"
)
print("array_module of a NumPy array:", array_module(np.zeros(3)).__name__)

# %% [markdown]
# ## 7. A small layer-graph framework
#
# Von Hacht (sec. 3.1.5) builds networks from **template nodes**: each node (a
# convolution, a pooling, an activation, dropout, a fully connected layer, the
# loss) knows its parameters and, given the shape of its input, the shape of its
# output. Chaining the nodes then only requires each output shape to fit the next
# node's input, and that can be checked *before any data flows*, when the graph is
# built — a wrong padding or a forgotten flatten is reported at once, with the
# layer and the shapes, instead of as a broadcasting error deep in a training run.
# Sec. 3.1.6 adds a "context object" carrying the data from edge to edge and back;
# here each node keeps what its backward pass needs (its cache) itself.
#
# Our nodes are Python objects with one contract (the base class `Layer` below):
#
# - `build(input_shape, rng)` gets the shape of **one** example (no batch axis),
#   creates the parameters, and returns the output shape — or raises `ValueError`
#   saying why this input does not fit;
# - `forward(x, train)` and `backward(dout)` work on batches; `backward` returns
#   $dx$ and stores the parameter gradients in `grads`, with the keys of `params`
#   (`"W"` for weights, `"b"` for biases).
#
# The weights start from He's initialisation $\mathcal N(0, 2/\text{fan-in})$ (von Hacht,
# eq. 2.49; chapter 03), the fan-in of a convolution being $CK^2$; biases start at 0.
# `ReLU`, `Dense` and `Dropout` are given: they wrap chapters 02 and 03's functions.
#
# ### Exercise 9 (implement): the `Conv2D`, `MaxPool2D` and `Flatten` nodes
#
# Use your fast functions. In `build`, check the input (3 axes; the kernel or the
# pooling window must fit the padded input) and raise a `ValueError` that says what
# is wrong; `Conv2D` creates `W` with `he_normal((F, C, K, K), C*K*K, rng)` and `b` zeros.


# %% nbgrader={"grade": false, "grade_id": "ch05_layers", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Layer:
    """A node of the graph. build(input_shape, rng) -> output shape (one example, no batch axis);
    forward(x, train) -> out; backward(dout) -> dx, filling grads (same keys as params)."""

    def __init__(self, **config):
        self.config, self.params, self.grads, self.cache = config, {}, {}, None

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.config.items())})"

    def build(self, input_shape, rng):
        return tuple(input_shape)  # shape-preserving nodes need nothing else


def he_normal(shape, fan_in, rng):
    """Weights drawn from N(0, 2 / fan_in): He's initialisation (von Hacht, eq. 2.49)."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


class ReLU(Layer):
    def forward(self, x, train):
        out, self.cache = relu_forward(x)
        return out

    def backward(self, dout):
        return relu_backward(dout, self.cache)


class Dense(Layer):
    """A fully connected layer, out = x W + b, with W: (D, M) (chapter 02's affine layer)."""

    def __init__(self, num_outputs):
        super().__init__(num_outputs=num_outputs)

    def build(self, input_shape, rng):
        if len(input_shape) != 1:
            raise ValueError("a Dense layer needs a flat input (D,): put a Flatten() before it")
        D, M = input_shape[0], self.config["num_outputs"]
        self.params = {"W": he_normal((D, M), D, rng), "b": np.zeros(M)}
        return (M,)

    def forward(self, x, train):
        out, self.cache = affine_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout):
        dx, self.grads["W"], self.grads["b"] = affine_backward(dout, self.cache)
        return dx


class Dropout(Layer):
    """Inverted dropout (chapter 03) with keep probability keep_prob; the identity when train is False."""

    def __init__(self, keep_prob, seed=0):
        super().__init__(keep_prob=keep_prob)
        self.rng = np.random.default_rng(seed)

    def forward(self, x, train):
        out, self.cache = dropout_forward(
            x, self.config["keep_prob"], "train" if train else "eval", self.rng
        )
        return out

    def backward(self, dout):
        return dropout_backward(dout, self.cache)


class Conv2D(Layer):
    """num_filters filters of kernel_size x kernel_size over all input channels, with stride and zero padding."""

    def __init__(self, num_filters, kernel_size, stride=1, pad=0):
        super().__init__(num_filters=num_filters, kernel_size=kernel_size, stride=stride, pad=pad)

    def build(self, input_shape, rng):
        """(C, H, W) -> (F, H', W'); creates W (F, C, K, K) with He's initialisation and b (F,) zeros."""
        ### BEGIN SOLUTION
        if len(input_shape) != 3:
            raise ValueError(f"a convolution needs an input (C, H, W), not {tuple(input_shape)}")
        C, H, W = input_shape
        F, K, S, P = (self.config[key] for key in ("num_filters", "kernel_size", "stride", "pad"))
        H_out, W_out = conv_output_size(H, K, S, P), conv_output_size(W, K, S, P)
        if H_out < 1 or W_out < 1:
            raise ValueError(f"a {K}x{K} kernel does not fit a {H}x{W} input padded by {P}")
        self.params = {"W": he_normal((F, C, K, K), C * K * K, rng), "b": np.zeros(F)}
        return (F, H_out, W_out)
        ### END SOLUTION

    def forward(self, x, train):
        ### BEGIN SOLUTION
        out, self.cache = conv_forward_im2col(
            x, self.params["W"], self.params["b"], self.config["stride"], self.config["pad"]
        )
        return out
        ### END SOLUTION

    def backward(self, dout):
        ### BEGIN SOLUTION
        dx, self.grads["W"], self.grads["b"] = conv_backward_im2col(dout, self.cache)
        return dx
        ### END SOLUTION


class MaxPool2D(Layer):
    """Max pooling with pool_size x pool_size windows and the given stride, no padding."""

    def __init__(self, pool_size=2, stride=2):
        super().__init__(pool_size=pool_size, stride=stride)

    def build(self, input_shape, rng):
        """(C, H, W) -> (C, H', W')."""
        ### BEGIN SOLUTION
        if len(input_shape) != 3:
            raise ValueError(f"max pooling needs an input (C, H, W), not {tuple(input_shape)}")
        C, H, W = input_shape
        F, S = self.config["pool_size"], self.config["stride"]
        if F > H or F > W:
            raise ValueError(f"a {F}x{F} pooling window does not fit a {H}x{W} input")
        return (C, pool_output_size(H, F, S), pool_output_size(W, F, S))
        ### END SOLUTION

    def forward(self, x, train):
        ### BEGIN SOLUTION
        out, self.cache = max_pool_forward_fast(x, self.config["pool_size"], self.config["stride"])
        return out
        ### END SOLUTION

    def backward(self, dout):
        ### BEGIN SOLUTION
        return max_pool_backward_fast(dout, self.cache)
        ### END SOLUTION


class Flatten(Layer):
    """(C, H, W) -> (C*H*W,): a reshape, free for a contiguous array (von Hacht, sec. 3.1.4)."""

    def build(self, input_shape, rng):
        ### BEGIN SOLUTION
        return (int(np.prod(input_shape)),)
        ### END SOLUTION

    def forward(self, x, train):
        ### BEGIN SOLUTION
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)
        ### END SOLUTION

    def backward(self, dout):
        ### BEGIN SOLUTION
        return dout.reshape(self.cache)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_layers_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Conv2D, MaxPool2D and Flatten: output shapes from build, forward and backward against the loops."""
import numpy as np

from backproplab.grading import check

rng = np.random.default_rng(56)
conv = Conv2D(4, 3, stride=1, pad=1)
check(
    "conv_shape",
    conv.build((2, 7, 6), rng),
    (4, 7, 6),
    "Conv2D(4, 3, pad=1).build((2, 7, 6))",
    hint="(F, H', W') with H' = (H + 2P - K) // S + 1",
)
check(
    "conv_W_shape",
    np.shape(conv.params["W"]),
    (4, 2, 3, 3),
    'Conv2D(4, 3).params["W"] for 2 input channels',
    hint="(F, C, K, K)",
)
check(
    "conv_b_shape",
    np.shape(conv.params["b"]),
    (4,),
    'Conv2D(4, 3).params["b"]',
    hint="one bias per filter",
)
# the weights the checks below use
conv.params = {"W": rng.normal(size=(4, 2, 3, 3)), "b": rng.normal(size=4)}
x_v = rng.normal(size=(2, 2, 7, 6))
out_v = conv.forward(x_v, train=True)
check(
    "conv_out",
    out_v,
    conv_forward_naive(x_v, conv.params["W"], conv.params["b"], 1, 1)[0],
    "Conv2D.forward against the loops",
    tol=1e-9,
)
dout_v = rng.normal(size=(2, 4, 7, 6))
want_v = conv_backward_naive(
    dout_v, conv_forward_naive(x_v, conv.params["W"], conv.params["b"], 1, 1)[1]
)
check(
    "conv_dx", conv.backward(dout_v), want_v[0], "Conv2D.backward's dx against the loops", tol=1e-9
)
check(
    "conv_dW",
    conv.grads["W"],
    want_v[1],
    'Conv2D.grads["W"] after backward',
    tol=1e-9,
    hint='store the gradients in self.grads["W"] and self.grads["b"]',
)
pool, flat = MaxPool2D(2, 2), Flatten()
check(
    "pool_shape",
    pool.build((4, 7, 6), rng),
    (4, 3, 3),
    "MaxPool2D(2, 2).build((4, 7, 6))",
    hint="(7 - 2) // 2 + 1 = 3",
)
check("flat_shape", flat.build((4, 3, 3), rng), (36,), "Flatten().build((4, 3, 3))")
flat_out = flat.forward(pool.forward(out_v, train=True), train=True)
check(
    "flat_out",
    flat_out,
    max_pool_forward_naive(out_v, 2, 2)[0].reshape(2, 36),
    "Flatten().forward(MaxPool2D(2, 2).forward(...)) of a (2, 4, 7, 6) batch",
    tol=1e-9,
    hint="keep the batch axis: (N, C*H*W)",
)
check(
    "pool_flat_dx_shape",
    np.shape(pool.backward(flat.backward(np.ones((2, 36))))),
    (2, 4, 7, 6),
    "the shape of MaxPool2D.backward(Flatten.backward(...))",
)
print("Conv2D, MaxPool2D, Flatten: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_layers_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""The nodes on hidden cases: stride 2 and padding 2, He's standard deviation, inputs that do not fit, gradients of a pooling node."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5009)
conv_h = Conv2D(3, 4, stride=2, pad=2)
shape_h = record(
    "conv_shape_s2p2",
    conv_h.build((2, 9, 7), rng_h),
    about="Conv2D(3, 4, stride=2, pad=2).build((2, 9, 7))",
)
record(
    "conv_param_shapes",
    [np.shape(conv_h.params["W"]), np.shape(conv_h.params["b"])],
    about='the shapes of params["W"] and params["b"] of Conv2D(3, 4) on 2 channels',
)
conv_h.params = {"W": rng_h.normal(size=(3, 2, 4, 4)), "b": rng_h.normal(size=3)}
x_h = rng_h.normal(size=(3, 2, 9, 7))
out_h = record(
    "conv_out_s2p2", conv_h.forward(x_h, train=False), about="Conv2D(3, 4, stride=2, pad=2).forward"
)
dout_h = rng_h.normal(size=out_h.shape)
dx_h = record(
    "conv_dx_s2p2", conv_h.backward(dout_h), about="Conv2D(3, 4, stride=2, pad=2).backward's dx"
)
record("conv_dW_s2p2", conv_h.grads["W"], about='Conv2D.grads["W"] after backward')
record("conv_db_s2p2", conv_h.grads["b"], about='Conv2D.grads["b"] after backward')
big_h = Conv2D(64, 5, pad=2)
big_h.build((32, 14, 14), np.random.default_rng(1))
std_ratio_h = record(
    "he_std_ratio",
    builtins.float(np.std(big_h.params["W"]) / np.sqrt(2.0 / (32 * 25))),
    tol=0.02,
    about="the standard deviation of He's initialisation (fan-in C*K*K)",
)
record(
    "biases_start_at_0",
    builtins.bool(np.all(big_h.params["b"] == 0)),
    about="the biases start at 0",
)
for k_h, (layer_h, bad_shape_h) in enumerate(
    (
        (Conv2D(2, 3), (10,)),
        (Conv2D(2, 5), (1, 3, 9)),
        (MaxPool2D(3, 2), (4, 2, 6)),
        (MaxPool2D(2, 2), (8,)),
    )
):
    try:
        layer_h.build(bad_shape_h, rng_h)
        raised_h = "no error"
    except ValueError as err_h:
        raised_h = "a ValueError with a message" if str(err_h) else "a ValueError without a message"
    record(
        f"raises_{k_h}",
        raised_h,
        about=f"{type(layer_h).__name__}.build({bad_shape_h}) raises a ValueError saying what does not fit",
    )
pool_h = MaxPool2D(3, 2)
pool_h.build((2, 7, 8), rng_h)
x_pool_h = rng_h.integers(0, 4, size=(2, 2, 7, 8)).astype(np.float64)
pout_h = record(
    "pool_out", pool_h.forward(x_pool_h, train=True), about="MaxPool2D(3, 2).forward with ties"
)
pd_h = rng_h.normal(size=pout_h.shape)
recorded_h = record("pool_dx", pool_h.backward(pd_h), about="MaxPool2D(3, 2).backward with ties")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 10 (implement): the network, checked when it is built
#
# `Network(input_shape, layers)` calls every layer's `build` in turn, each with the
# output shape of the one before, and records the shapes. When a layer raises a
# `ValueError`, re-raise one that names the layer (its index and `repr`) and the
# shape it was given, followed by the layer's own reason:
# `ValueError(f"layer {k}, {layer!r}, cannot take an input of shape {shape}: {err}")`.
# `forward` runs the layers in order; `backward` runs their backward passes in
# **reverse** order and returns $dX$. Then write `table_3_2_network`: von Hacht's
# MNIST architecture, Table 3.2, with dropout's keep probability `keep_prob` (the
# softmax is part of the loss, not of the network).
#
# | input | layer | parameters | output |
# |---|---|---|---|
# | $1\times28\times28$ | convolution | $5\times5$, 32 filters, stride 1, padding 2 | $32\times28\times28$ |
# | | ReLU, max pool | $2\times2$, stride 2 | $32\times14\times14$ |
# | $32\times14\times14$ | convolution | $5\times5$, 64 filters, stride 1, padding 2 | $64\times14\times14$ |
# | | ReLU, max pool | $2\times2$, stride 2 | $64\times7\times7$ |
# | $3136$ | fully connected | 1024 outputs | 1024 |
# | | ReLU, dropout | keep probability $p$ | 1024 |
# | $1024$ | fully connected | 10 outputs | 10 (then softmax) |
#
# It has $32(25 + 1) + 64(800 + 1) + 1024(3136 + 1) + 10(1024 + 1) = 3{,}274{,}634$ parameters
# (chapter 04, Exercise 9), 98 % of them in the first fully connected layer.


# %% nbgrader={"grade": false, "grade_id": "ch05_network", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Network:
    """A chain of layers whose shapes are checked when it is built (von Hacht, sec. 3.1.5).

    input_shape: the shape of one example, e.g. (1, 28, 28). layers: Layer objects, applied in order.
    seed: seeds the initialisation. dtype, xp: the parameters' dtype, and the array module they live in
    (numpy, or cupy for the GPU). Attributes: layers; shapes = [input_shape, output shape of every layer].
    """

    def __init__(self, input_shape, layers, seed=0, dtype=np.float64, xp=np):
        rng = np.random.default_rng(seed)
        self.layers, self.shapes = list(layers), [tuple(input_shape)]
        ### BEGIN SOLUTION
        for k, layer in enumerate(self.layers):
            try:
                shape = layer.build(self.shapes[-1], rng)
            except ValueError as err:
                raise ValueError(
                    f"layer {k}, {layer!r}, cannot take an input of shape {self.shapes[-1]}: {err}"
                ) from None
            self.shapes.append(tuple(int(n) for n in shape))
        ### END SOLUTION
        for layer in self.layers:  # the parameters' dtype, and the device they live on
            layer.params = {
                name: xp.asarray(value, dtype=dtype) for name, value in layer.params.items()
            }

    def forward(self, X, train=False):
        """Class scores (N, classes) for a batch X (N, *input_shape); train switches dropout on."""
        ### BEGIN SOLUTION
        out = X
        for layer in self.layers:
            out = layer.forward(out, train)
        return out
        ### END SOLUTION

    def backward(self, dscores):
        """Backpropagate dL/dscores (N, classes) through all layers, last to first; returns dL/dX."""
        ### BEGIN SOLUTION
        dout = dscores
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout
        ### END SOLUTION

    def num_params(self):
        return builtins.sum(
            int(value.size) for layer in self.layers for value in layer.params.values()
        )

    def summary(self):
        """One line per layer: the layer, its output shape, its number of parameters."""
        rows = [f"{'input':40s} {str(self.shapes[0]):16s}"]
        for layer, shape in zip(self.layers, self.shapes[1:]):
            rows.append(
                f"{layer!r:40s} {str(shape):16s} {builtins.sum(int(v.size) for v in layer.params.values()):>10,d}"
            )
        return "\n".join(rows + [f"{'total':57s} {self.num_params():>10,d}"])


def table_3_2_network(seed=0, keep_prob=0.5, dtype=np.float32, xp=np):
    """Von Hacht's MNIST architecture (Table 3.2) for (1, 28, 28) images and 10 classes; float32 by default."""
    ### BEGIN SOLUTION
    layers = [
        Conv2D(32, 5, stride=1, pad=2),
        ReLU(),
        MaxPool2D(2, 2),
        Conv2D(64, 5, stride=1, pad=2),
        ReLU(),
        MaxPool2D(2, 2),
        Flatten(),
        Dense(1024),
        ReLU(),
        Dropout(keep_prob, seed=seed + 1),
        Dense(10),
    ]
    return Network((1, 28, 28), layers, seed=seed, dtype=dtype, xp=xp)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch05_network_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Table 3.2: the shapes after every layer and 3,274,634 parameters; a Dense layer right after a convolution is refused by name."""
import numpy as np

from backproplab.grading import check

net = table_3_2_network(seed=0)
print(net.summary())
check(
    "shapes",
    net.shapes,
    [
        (1, 28, 28),
        (32, 28, 28),
        (32, 28, 28),
        (32, 14, 14),
        (64, 14, 14),
        (64, 14, 14),
        (64, 7, 7),
        (3136,),
        (1024,),
        (1024,),
        (1024,),
        (10,),
    ],
    "net.shapes of Table 3.2's network (the input shape, then one output shape per layer)",
    hint="padding 2 keeps 28x28 and 14x14 for the 5x5 kernels; each pool halves; Flatten gives (3136,)",
)
check("num_params", net.num_params(), 3274634, "the number of parameters of Table 3.2's network")
check(
    "scores_shape",
    net.forward(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape,
    (2, 10),
    "the scores' shape for 2 images",
)
try:
    Network((1, 28, 28), [Conv2D(8, 5), Dense(10)])
    message = "no ValueError at all"
except ValueError as error:
    message = str(error)
check(
    "error_names_the_layer",
    "Dense" in message and "(8, 24, 24)" in message,
    True,
    "Network((1, 28, 28), [Conv2D(8, 5), Dense(10)]) raises a ValueError naming the layer (Dense) and the shape (8, 24, 24)",
    hint=f"it says: {message!r}",
)
print("Network, table_3_2_network: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_network_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""A small network's forward and backward (every parameter's gradient and the input's) from given weights; a refused Conv2D after Flatten."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5010)
net_h = Network(
    (2, 7, 6),
    [
        Conv2D(3, 3, pad=1),
        ReLU(),
        MaxPool2D(2, 2),
        Conv2D(2, 2, stride=1),
        ReLU(),
        Flatten(),
        Dense(5),
        ReLU(),
        Dropout(0.5),
        Dense(4),
    ],
    seed=3,
)
record("shapes_small", net_h.shapes, about="the shapes of the small network")
for layer_h in net_h.layers:
    for key_h in layer_h.params:
        layer_h.params[key_h] = rng_h.normal(scale=0.5, size=layer_h.params[key_h].shape)
X_h, dscores_h = (rng_h.normal(size=(3, 2, 7, 6)), rng_h.normal(size=(3, 4)))
scores_h = record(
    "scores_small", net_h.forward(X_h, train=False), about="the small network's scores"
)
dX_h = record("dX_small", net_h.backward(dscores_h), about="the small network's dX")
for k_h, layer_h in enumerate(net_h.layers):
    for key_h in layer_h.params:
        record(f"grad_{k_h}_{key_h}", layer_h.grads[key_h], about=f"layer {k_h}'s grads[{key_h!r}]")
try:
    Network((2, 6, 6), [Flatten(), Conv2D(2, 3)])
    message_h = "no ValueError at all"
except ValueError as err_h:
    message_h = str(err_h)
recorded_h = record(
    "conv_after_flatten_named",
    "Conv2D" in message_h and "(72,)" in message_h and "layer 1" in message_h,
    about="the error for a Conv2D after a Flatten says 'layer 1', names Conv2D and the shape (72,)",
)
### END HIDDEN TESTS

# %% [markdown]
# ### The fast path (provided, optional reading)
#
# Your layers are right, and most of their time is the three GEMMs. Section 5 shows
# where the rest goes for Table 3.2's second convolution: the im2col copy, col2im, and
# fresh 63 MB arrays that the operating system must clear before NumPy may write into
# them — all of it on one core, while BLAS uses every core. The cell below is a
# **fast path**: the same mathematics, eqs. (4)–(9), arranged for the machine. Read it
# as a worked example of section 1; nothing graded uses it.
#
# 1. **Columns in the order (n, i, j) × (k, l, c).** `cols` is (4) transposed, with the
#    window entries ordered (k, l, c), read from a padded copy of $x$ in **NHWC** order
#    (channels last). A window's row, $\hat x_{n,\, iS + k,\, jS : jS + K,\, :}$, is then $KC$
#    consecutive numbers (160 for the second layer), so the copy moves runs of 160
#    numbers instead of runs of $W' = 14$. The filters are flattened in the same order,
#    `w.transpose(0, 2, 3, 1).reshape(F, -1)`, and (5) becomes `cols @ w_mat.T`.
# 2. **Blocks of images, one per core, from copy to GEMM.** Each image's rows of `cols`
#    depend on that image alone, and so do its outputs and its $dx$. `in_parallel`
#    splits the batch into one block per core and runs each block's copy, GEMM and
#    output on a plain Python thread (NumPy lets go of Python's global lock while it
#    copies, adds or multiplies large arrays). The copies now use every core, as the
#    GEMMs already did. $dW$ and $db$, (6)–(7), are sums over the images: each block
#    returns its share, and the shares are added.
# 3. **BLAS on one thread per block.** BLAS would otherwise start its own threads inside
#    each block, two busy threads per core. Worse, OpenBLAS's threads keep spinning for
#    a while after each product, waiting for the next one, and take a core from the
#    blocks. `threadpoolctl` sets BLAS to one thread while the blocks run.
# 4. **$dx$ one window offset at a time.** For each offset $(k, l)$, the columns
#    $(k, l, :)$ of dcols, $(8)$, are `dout_rows @ w_kl[k, l]`: a block's
#    $(n H' W') \times C$ numbers, small enough to stay in cache, added at once into
#    the padded $dx$ (NHWC, so runs of $W' C$ numbers) where they were copied from, (9).
#    The first layer computes no $dx$ at all: nothing needs the gradient of the images
#    (PyTorch skips it too).
# 5. **The rest of the step.** `FastDense` splits its products by rows, `FastReLU` its
#    elementwise work. `adamw_in_place` is chapter 03's AdamW, eq. (12), written into
#    $w$, $m$ and $v$ in place, in runs of $2^{18}$ numbers whose temporaries stay in
#    cache, on every core: the first Dense layer's 3.2 million weights otherwise cost
#    a dozen passes over 13 MB arrays per step. `fast_train_step` is your `train_step`
#    with it.
#
# Max pooling whose windows do not overlap (stride $\ge$ pool size, as in Table 3.2)
# needs no columns: the $F^2$ strided slices `x[:, :, k::S, l::S]` are the window entries.
# One pass keeps the running maximum and, with a strict `>`, the index of the *first*
# maximum (PyTorch's tie rule); the backward pass writes `dout` into the slice of that
# entry, the other entries get 0.
#
# The fast layers subclass yours: the same `build` and parameters, another `forward`
# and `backward`; on CuPy arrays, or with overlapping pooling windows, they use yours.
# `fast_path(net)` switches the layers of a network that is already built.
# `benchmarks/conv_speed.py` and `benchmarks/fashion_epoch.py` time them next to your
# layers and PyTorch.

# %% nbgrader={"grade": false, "grade_id": "ch05_fast_path", "locked": true, "schema_version": 3, "solution": false, "task": false}
import concurrent.futures

import threadpoolctl

_workers = None  # the thread pool, made on first use
_blas = None  # threadpoolctl's handle on BLAS's own threads, made on first use


def cores():
    """The number of CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def in_parallel(work, n):
    """[work(part) for the parts of range(n)]: one slice per core, all at once, with BLAS on one thread in each."""
    global _workers, _blas
    if _workers is None:
        _workers = concurrent.futures.ThreadPoolExecutor(cores())
        _blas = threadpoolctl.ThreadpoolController()
    step = builtins.max(1, -(-n // cores()))  # n / cores, rounded up
    with _blas.limit(limits=1, user_api="blas"):
        return list(_workers.map(work, [slice(start, start + step) for start in range(0, n, step)]))


class FastConv2D(Conv2D):
    """Conv2D in blocks of images, each block on one core from copy to GEMM; columns (n, i, j) x (k, l, c)."""

    input_gradient = True  # False: backward computes no dx and returns None (a first layer)

    def forward(self, x, train):
        self.fast = array_module(x) is np
        if not self.fast:
            return super().forward(x, train)
        w, b, P = self.params["W"], self.params["b"], self.config["pad"]
        N, C, H, W = x.shape
        F = w.shape[0]
        # windows[n, i, j, k, l, c] = x_pad[n, iS + k, jS + l, c]
        windows = self.windows_of_padded_copy(x)
        w_mat = w.transpose(0, 2, 3, 1).reshape(F, -1)  # (F, K K C), columns (k, l, c) like cols
        out = np.empty((N, F, *windows.shape[1:3]), x.dtype)

        def forward_part(n):
            # images n: into NHWC, their windows into their rows of cols, their GEMM
            self.x_pad[n, P : P + H, P : P + W] = x[n].transpose(0, 2, 3, 1)
            self.cols[n] = windows[n]
            # (n H' W', F): eq. (5), transposed
            out_rows = self.cols[n].reshape(-1, w_mat.shape[1]) @ w_mat.T
            out_nhwc = out_rows.reshape(-1, *windows.shape[1:3], F)
            np.add(out_nhwc.transpose(0, 3, 1, 2), b.reshape(F, 1, 1), out=out[n])

        in_parallel(forward_part, N)
        self.cache = x.shape
        return out

    def windows_of_padded_copy(self, x):
        """The (N, H', W', K, K, C) view of the padded NHWC copy x_pad; makes x_pad and cols for a new shape."""
        K, S, P = (self.config[key] for key in ("kernel_size", "stride", "pad"))
        N, C, H, W = x.shape
        H_out, W_out = conv_output_size(H, K, S, P), conv_output_size(W, K, S, P)
        if getattr(self, "buffers_for", None) != (x.shape, x.dtype):
            self.buffers_for = (x.shape, x.dtype)
            self.x_pad = np.zeros((N, H + 2 * P, W + 2 * P, C), x.dtype)  # the border stays 0
            # cols: rows (n, i, j), columns (k, l, c)
            self.cols = np.empty((N, H_out, W_out, K, K, C), x.dtype)
        s_N, s_H, s_W, s_C = self.x_pad.strides
        return np.lib.stride_tricks.as_strided(
            self.x_pad, (N, H_out, W_out, K, K, C), (s_N, S * s_H, S * s_W, s_H, s_W, s_C)
        )

    def backward(self, dout):
        if not self.fast:
            return super().backward(dout)
        w_kl = np.ascontiguousarray(self.params["W"].transpose(2, 3, 0, 1))  # w_kl[k, l]: (F, C)
        dx = np.empty(self.cache, dout.dtype) if self.input_gradient else None

        def backward_part(n):  # images n: their share of dW and db, and their dx
            dout_rows = dout[n].transpose(0, 2, 3, 1).reshape(-1, dout.shape[1])  # (n H' W', F)
            cols = self.cols[n].reshape(len(dout_rows), -1)
            if dx is not None:
                dx[n] = self.input_gradient_part(dout_rows, w_kl, dout.shape[2:])
            return dout_rows.T @ cols, dout_rows.sum(axis=0)  # eqs. (6)-(7), these images' terms

        parts = in_parallel(backward_part, len(dout))
        K, _, F, C = w_kl.shape
        dw = builtins.sum(part[0] for part in parts).reshape(F, K, K, C)
        self.grads["W"] = np.ascontiguousarray(dw.transpose(0, 3, 1, 2))
        self.grads["b"] = builtins.sum(part[1] for part in parts)
        return dx

    def input_gradient_part(self, dout_rows, w_kl, out_hw):
        """dx (n, C, H, W) of some images from their dout_rows (n H' W', F): eqs. (8)-(9), one offset at a time."""
        K, S, P = (self.config[key] for key in ("kernel_size", "stride", "pad"))
        (H_out, W_out), (_, C, H, W) = out_hw, self.cache
        n = len(dout_rows) // (H_out * W_out)
        dx_pad = np.zeros((n, H + 2 * P, W + 2 * P, C), dout_rows.dtype)
        for k in range(K):
            for l in range(K):
                # the columns (k, l, :) of dcols, added back where they were copied from
                dcols_kl = (dout_rows @ w_kl[k, l]).reshape(n, H_out, W_out, C)
                dx_pad[:, k : k + S * H_out : S, l : l + S * W_out : S] += dcols_kl
        return dx_pad[:, P : P + H, P : P + W].transpose(0, 3, 1, 2)


class FastDense(Dense):
    """Dense with its GEMMs split over the cores by rows of the batch."""

    def forward(self, x, train):
        self.fast = array_module(x) is np
        if not self.fast:
            return super().forward(x, train)
        out = np.empty((len(x), self.params["W"].shape[1]), x.dtype)

        def forward_part(n):
            np.add(x[n] @ self.params["W"], self.params["b"], out=out[n])

        in_parallel(forward_part, len(x))
        self.cache = x
        return out

    def backward(self, dout):
        if not self.fast:
            return super().backward(dout)
        x, W = self.cache, self.params["W"]
        dx, dW = np.empty_like(x), np.empty_like(W)
        in_parallel(lambda n: np.matmul(dout[n], W.T, out=dx[n]), len(x))  # rows n of dX
        in_parallel(lambda d: np.matmul(x[:, d].T, dout, out=dW[d]), len(W))  # rows d of dW
        self.grads["W"], self.grads["b"] = dW, dout.sum(axis=0)
        return dx


class FastReLU(ReLU):
    """ReLU on every core: for the large feature maps of the convolutions."""

    def forward(self, x, train):
        self.fast = array_module(x) is np
        if not self.fast:
            return super().forward(x, train)
        out = np.empty_like(x)
        in_parallel(lambda n: np.maximum(x[n], 0, out=out[n]), len(x))
        self.cache = x
        return out

    def backward(self, dout):
        if not self.fast:
            return super().backward(dout)
        dx = np.empty_like(dout)
        in_parallel(lambda n: np.multiply(dout[n], self.cache[n] > 0, out=dx[n]), len(dout))
        return dx


class FastMaxPool2D(MaxPool2D):
    """MaxPool2D for windows that do not overlap (stride >= pool_size): F*F strided slices, no columns."""

    def forward(self, x, train):
        F, S = self.config["pool_size"], self.config["stride"]
        self.fast = array_module(x) is np and S >= F
        if not self.fast:
            return super().forward(x, train)
        N, C, H, W = x.shape
        H_out, W_out = pool_output_size(H, F, S), pool_output_size(W, F, S)
        out = np.empty((N, C, H_out, W_out), x.dtype)
        first = np.zeros(
            (N, C, H_out, W_out), np.int32
        )  # which entry (k F + l) is the first maximum

        def pool_part(n):
            out[n] = x[n, :, 0 : S * H_out : S, 0 : S * W_out : S]
            for r in range(1, F * F):
                k, l = divmod(r, F)
                entry = np.ascontiguousarray(x[n, :, k : k + S * H_out : S, l : l + S * W_out : S])
                later_is_larger = entry > out[n]  # strictly: a tie keeps the earlier entry
                np.maximum(out[n], entry, out=out[n])
                first[n] += later_is_larger * (r - first[n])  # r where larger, unchanged elsewhere
            # (arithmetic, not first[n][mask] = r: with a mask of random bits, branch-free code is faster)

        in_parallel(pool_part, N)
        self.cache = (x.shape, first)
        return out

    def backward(self, dout):
        if not self.fast:
            return super().backward(dout)
        F, S = self.config["pool_size"], self.config["stride"]
        x_shape, first = self.cache
        H_out, W_out = dout.shape[2:]
        dx = np.zeros(x_shape, dout.dtype)  # pixels in no window (S > F, or a cut-off edge) get 0

        def unpool_part(n):
            for r in range(F * F):
                k, l = divmod(r, F)
                window_entry = dx[n, :, k : k + S * H_out : S, l : l + S * W_out : S]
                np.multiply(dout[n], first[n] == r, out=window_entry)

        in_parallel(unpool_part, x_shape[0])
        return dx


def adamw_in_place(w, dw, config):
    """AdamW, eq. (12), writing w and the moments m, v in place, on every core; returns (w, config).

    The same config as adamw's, with the same keys, so the two can take turns.
    """
    for key, default in (("lr", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8)):
        config.setdefault(key, default)
    config.setdefault("weight_decay", 1e-2)
    if "m" not in config:
        config["m"], config["v"] = np.zeros_like(w), np.zeros_like(w)
    config["t"] = config.get("t", 0) + 1
    arrays = [a.reshape(-1) for a in (w, dw, config["m"], config["v"])]
    run = 2**18  # numbers at a time: each temporary (1 MB in float32) stays in the core's cache

    def update_part(part):
        stop = builtins.min(part.stop, w.size)
        for start in range(part.start, stop, run):
            _adamw_run(*(a[start : builtins.min(start + run, stop)] for a in arrays), config)

    in_parallel(update_part, w.size)
    return w, config


def _adamw_run(w, dw, m, v, config):
    """Eqs. (10)-(12) on one run of numbers, in place; config["t"] is this step's number."""
    beta1, beta2, t, lr = config["beta1"], config["beta2"], config["t"], config["lr"]
    m *= beta1
    m += (1 - beta1) * dw
    v *= beta2
    v += (1 - beta2) * dw * dw
    denominator = np.sqrt(v / (1 - beta2**t))
    denominator += config["eps"]
    w *= 1 - lr * config["weight_decay"]  # the decoupled decay, from w before this step
    w -= lr / (1 - beta1**t) * m / denominator


def fast_train_step(net, X, y, configs, lr, weight_decay):
    """Your train_step with adamw_in_place: the same step, each parameter updated where it lies."""
    scores = net.forward(X, train=True)
    loss, dscores = softmax_loss(scores, y)
    net.backward(dscores)
    for k, layer in enumerate(net.layers):
        for name, w in layer.params.items():
            if not w.flags.c_contiguous:  # in place needs one block of memory
                layer.params[name] = w = np.ascontiguousarray(w)
            decay = weight_decay if name == "W" else 0.0
            config = configs.setdefault((k, name), {"lr": lr, "weight_decay": decay})
            adamw_in_place(w, layer.grads[name], config)
    return loss, scores


FAST_LAYERS = {Conv2D: FastConv2D, MaxPool2D: FastMaxPool2D, Dense: FastDense, ReLU: FastReLU}


def fast_path(net):
    """Switch the layers of a built network to the fast path (same parameters); returns net.

    The first layer, if a convolution, then computes no dx: nothing needs the gradient
    of the images (PyTorch skips it too), and net.backward returns None.
    """
    for layer in net.layers:
        if (
            type(layer) in FAST_LAYERS
        ):  # the layer keeps its config and parameters, only its methods change
            layer.__class__ = FAST_LAYERS[type(layer)]
    if isinstance(net.layers[0], FastConv2D):
        net.layers[0].input_gradient = False
    return net


# %% [markdown]
# The cell below checks the fast path against your layers on Table 3.2's second
# convolution, first max pool, first ReLU and first Dense layer (batch 100, float32; a
# batch of 4 when graded) and times one forward and backward pass of each. On its own
# `FastDense` is no faster than yours, often slower: one BLAS thread per half of the
# batch does what two threads do on the whole. It is there for point 3, so that no
# spinning BLAS thread slows the layers after it; `benchmarks/fashion_epoch.py` times
# the whole step.


# %%
def both_passes(layer, x, dout):
    """One forward (training mode) and backward pass of layer: (out, dx, grads)."""
    out = layer.forward(x, True)
    return out, layer.backward(dout), dict(layer.grads)


rng = np.random.default_rng(7)
batch_f = 4 if smoke_test else 100
for name, yours, fast, input_shape in (
    (
        "conv 5x5, 32 -> 64 channels, pad 2",
        Conv2D(64, 5, pad=2),
        FastConv2D(64, 5, pad=2),
        (32, 14, 14),
    ),
    ("max pool 2x2, stride 2", MaxPool2D(2, 2), FastMaxPool2D(2, 2), (32, 28, 28)),
    ("ReLU", ReLU(), FastReLU(), (32, 28, 28)),
    ("dense 3136 -> 1024", Dense(1024), FastDense(1024), (3136,)),
):
    output_shape = yours.build(input_shape, rng)
    fast.build(input_shape, rng)
    fast.params = yours.params = {
        key: value.astype(np.float32) for key, value in yours.params.items()
    }
    x_f = rng.standard_normal((batch_f, *input_shape), dtype=np.float32)
    dout_f = rng.standard_normal((batch_f, *output_shape), dtype=np.float32)
    want, got = both_passes(yours, x_f, dout_f), both_passes(fast, x_f, dout_f)
    difference = builtins.max(
        [rel_error(got[0], want[0]), rel_error(got[1], want[1])]
        + [rel_error(got[2][key], want[2][key]) for key in want[2]]
    )
    t_yours, t_fast = (
        best_seconds(lambda layer=layer: both_passes(layer, x_f, dout_f)) for layer in (yours, fast)
    )
    print(
        f"{name} on {(batch_f, *input_shape)}, forward + backward: yours {1e3 * t_yours:6.1f} ms, "
        f"fast path {1e3 * t_fast:6.1f} ms ({t_yours / t_fast:.1f}x); largest relative difference {difference:.1e}"
    )


# %% [markdown]
# ## 8. The gradient check of the whole network
#
# Von Hacht (sec. 3.3) verifies backpropagation by comparing every gradient with the
# centred difference $\big(L(\theta + \Delta) - L(\theta - \Delta)\big)/2\Delta$ (its eq. 3.6), and
# reports (sec. 4.1.1) a numerical error "of the order $10^{-9}$ … when using $\Delta = 10^{-4}$".
# The hidden test above does this for a small network; the cell below repeats it for
# the first convolution's weights of a smaller copy of Table 3.2's network (8 and 16
# filters, 12×12 images) with $\Delta = 10^{-4}$ and $10^{-5}$, in float64 and float32. It
# measures the difference with the course's relative error (chapter 02, eq. 20), the
# maximum difference normalised by the largest gradients,
# $\max|a - b| / \max(10^{-8}, \max|a| + \max|b|)$, not with the thesis' eq. (3.7).


# %%
def small_table_network(dtype):
    layers = [
        Conv2D(8, 5, pad=2),
        ReLU(),
        MaxPool2D(2, 2),
        Conv2D(16, 5, pad=2),
        ReLU(),
        MaxPool2D(2, 2),
        Flatten(),
        Dense(32),
        ReLU(),
        Dense(10),
    ]
    return Network((1, 12, 12), layers, seed=1, dtype=dtype)


def first_layer_check(dtype, delta):
    """Relative error of the first conv's dW from backward against centred differences with step delta, in dtype."""
    net_g = small_table_network(dtype)
    X_g, y_g = np.random.default_rng(8).standard_normal((4, 1, 12, 12)).astype(dtype), np.arange(4)
    net_g.backward(softmax_loss(net_g.forward(X_g), y_g)[1])
    W_g = net_g.layers[0].params["W"]  # changed in place below, and restored
    entries = list(np.ndindex(W_g.shape))[:: 25 if smoke_test else 1]
    numeric = []
    for idx in entries:
        old = W_g[idx]
        W_g[idx] = old + delta
        plus = softmax_loss(net_g.forward(X_g), y_g)[0]
        W_g[idx] = old - delta
        minus = softmax_loss(net_g.forward(X_g), y_g)[0]
        W_g[idx] = old
        numeric.append((plus - minus) / (2 * delta))
    analytic = [net_g.layers[0].grads["W"][idx] for idx in entries]
    return rel_error(analytic, numeric)


for dtype, delta in (
    (np.float64, 1e-4),
    (np.float64, 1e-5),
    (np.float32, 1e-4),
    (np.float32, 1e-2),
):
    print(
        f"{np.dtype(dtype).name}, Delta = {delta:.0e}: relative error of the first layer's dW "
        f"{first_layer_check(dtype, delta):.1e}"
    )

# %% [markdown]
# In float64 the check reaches the $10^{-9}$–$10^{-10}$ the thesis reports, with either
# step. In float32 — what the thesis trains in on the GPU — the loss itself is rounded
# to about $10^{-7}$ relative, and dividing that rounding error by $2\Delta$ swamps the
# derivative: $10^{-3}$ or worse, whatever $\Delta$ (chapter 02, Exercise 13). A gradient
# check must run in float64; the training then may run in float32. One more trap: ReLU
# and max pooling have kinks. If moving one weight by $\pm\Delta$ switches a ReLU or changes
# the winner of a pooling window, the centred difference straddles the kink and is wrong
# for that weight (by $10^{-3}$ or so with $\Delta = 10^{-4}$), although backpropagation is right.
# With other random inputs than ours, that happens to one weight in a few hundred; a
# smaller $\Delta$ or another input point makes it go away, a real bug does not.
#
# <details><summary>Errata: the relative error of the gradient check (von Hacht, sec. 3.3, eq. 3.7)</summary>
#
# The relative error is printed as $|f'_a - f'_n| / |f'_a + f'_n|$, with $f'_a$ "the
# approximated" and $f'_n$ "the numerically computed" gradient — the same thing twice; one
# of them is the gradient from backpropagation. The denominator must be $|f'_a| + |f'_n|$:
# with the sum inside, a gradient of the wrong **sign** (the error one most wants to catch)
# makes the denominator small or zero and the ratio huge or undefined, and two tiny
# gradients of opposite sign look like a failure. "Summing over the relative error of each
# parameter" grows with the number of parameters (3.3 million here).
#
# </details>
#
# ## 9. Training von Hacht's MNIST network on Fashion-MNIST
#
# **Data.** Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017) has the format of MNIST —
# $28\times28$ grey images, 60,000 for training and 10,000 for testing, 10 balanced
# classes — but shows clothes (T-shirt, trouser, pullover, dress, coat, sandal, shirt,
# sneaker, bag, ankle boot) and is harder: the thesis' network reaches 97.31 % on
# MNIST (sec. 4.1), while on Fashion-MNIST networks of this size stay around 90 %.
# `backproplab.datasets.load_fashion_mnist` reads it from the Debian package
# `dataset-fashion-mnist` or downloads it once; if neither works, the cell below says
# what to install and falls back to scikit-learn's 8×8 digits, enlarged to 28×28.
#
# **Preprocessing** (von Hacht, sec. 3.4.1): subtract the mean and divide by the
# standard deviation of the training pixels. (The thesis first maps the pixels to
# $[-1, 1]$; an affine map before standardising changes nothing.) In the MNIST files, and
# in Fashion-MNIST's, the **background is 0** and the strokes (or the clothes) go up to 255;
# the data cell below prints the mean of the four corner pixels of the training images, 0
# or nearly so. Where the dark and light parts are drawn is a choice of colour map.
#
# **Training.** Mini-batches of 100 (Table 4.1), the softmax loss of chapter 02,
# AdamW — von Hacht's eq. (2.41), chapter 03's eq. (12) — with $\lambda = 10^{-3}$ on the
# weights only, and dropout with keep probability 0.5 (Table 3.2). The thesis trains with $\eta = 10^{-4}$ (Table 4.1) for many
# epochs; in the budget of this notebook (120 steps on a CPU) that learns too slowly.
# Adam's default $\eta = 10^{-3}$ has the opposite problem here: Adam's first step moves
# *every* weight by $\eta$ against the sign of its gradient (chapter 03's bias correction),
# the next steps by typically about $\eta$, and the 3.2 million weights of the first fully
# connected layer, 3,136 per unit, then move its outputs so far
# that the loss jumps from about 4 to almost 10 at the second step before it recovers. We
# use $\eta = 3\cdot10^{-4}$, with which it falls from the first step on.
#
# ### Exercise 11 (implement): one training step
#
# `train_step(net, X, y, configs, lr, weight_decay)` runs the network forward in
# **training** mode, takes the softmax loss, backpropagates, and updates every
# parameter with `adamw`. `configs` maps `(layer index, parameter name)` to that
# parameter's AdamW config (its moments live there between steps); create a missing
# one as `{"lr": lr, "weight_decay": ...}` with the weight decay for weights `"W"` and
# **0 for biases** (chapter 03). The provided `train` and `evaluate` below use it.


# %% nbgrader={"grade": false, "grade_id": "ch05_train", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_step(net, X, y, configs, lr, weight_decay):
    """One AdamW step on the mini-batch (X, y): forward (train=True), softmax loss, backward, update.

    X: (N, *input_shape) and y: (N,) labels, both where the parameters live; configs: {(k, name): AdamW config}.
    Returns (loss, scores): the batch's loss (a float) and the scores (N, classes) before the update.
    """
    ### BEGIN SOLUTION
    scores = net.forward(X, train=True)
    loss, dscores = softmax_loss(scores, y)
    net.backward(dscores)
    for k, layer in enumerate(net.layers):
        for name in layer.params:
            config = configs.setdefault(
                (k, name), {"lr": lr, "weight_decay": weight_decay if name == "W" else 0.0}
            )
            layer.params[name], configs[(k, name)] = adamw(
                layer.params[name], layer.grads[name], config
            )
    return loss, scores
    ### END SOLUTION


def evaluate(net, X, y, batch_size=500):
    """Mean softmax loss, accuracy and predicted labels (a NumPy array) of net on (X, y), in eval mode."""
    xp, dtype = _where(net)
    losses, predictions = [], []
    for start in range(0, len(X), batch_size):
        scores = net.forward(xp.asarray(X[start : start + batch_size], dtype=dtype), train=False)
        labels = xp.asarray(y[start : start + batch_size])
        losses.append(softmax_loss(scores, labels)[0] * len(labels))
        predictions.append(to_numpy(scores.argmax(axis=1)))
    y_pred = np.concatenate(predictions)
    return builtins.sum(losses) / len(X), float(np.mean(y_pred == y)), y_pred


def train(
    net,
    X_train,
    y_train,
    X_val,
    y_val,
    num_epochs=1,
    batch_size=100,
    lr=3e-4,
    weight_decay=1e-3,
    eval_every=20,
    val_size=500,
    checkpoint_every=20,
    seed=0,
    verbose=True,
):
    """Mini-batch AdamW training with the measurements of von Hacht, sec. 3.6.

    X_*: (N, C, H, W) and y_*: (N,) NumPy arrays; each batch is moved to where the parameters live.
    Records every step's batch loss and accuracy; every eval_every steps the loss and accuracy on the same
    val_size validation images; every checkpoint_every steps (and at the start and the end) a NumPy copy
    of the first convolution's filters W. Returns the history, a dict of lists: "loss", "train_acc"
    (per step), "val_step", "val_loss", "val_acc", "filter_steps", "filters"; and "seconds".
    """
    xp, dtype = _where(net)
    first_conv = next(layer for layer in net.layers if isinstance(layer, Conv2D))
    rng, configs, step, start = np.random.default_rng(seed), {}, 0, time.perf_counter()
    history = {
        key: []
        for key in (
            "loss",
            "train_acc",
            "val_step",
            "val_loss",
            "val_acc",
            "filter_steps",
            "filters",
        )
    }
    val_pick = rng.permutation(len(X_val))[:val_size]
    for epoch in range(num_epochs):
        for batch in np.array_split(
            rng.permutation(len(X_train)), builtins.max(1, len(X_train) // batch_size)
        ):
            if step % checkpoint_every == 0:
                history["filter_steps"].append(step)
                history["filters"].append(to_numpy(first_conv.params["W"]).copy())
            yb = xp.asarray(y_train[batch])
            loss, scores = train_step(
                net, xp.asarray(X_train[batch], dtype=dtype), yb, configs, lr, weight_decay
            )
            step += 1
            history["loss"].append(loss)
            history["train_acc"].append(float((scores.argmax(axis=1) == yb).mean()))
            if step % eval_every == 0:
                val_loss, val_acc, _ = evaluate(net, X_val[val_pick], y_val[val_pick])
                history["val_step"].append(step)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                if verbose:
                    print(
                        f"epoch {epoch + 1}, step {step:4d}: batch loss {loss:.3f}, validation loss {val_loss:.3f}, "
                        f"accuracy {val_acc:.3f} ({time.perf_counter() - start:.0f} s)"
                    )
    history["filter_steps"].append(step)
    history["filters"].append(to_numpy(first_conv.params["W"]).copy())
    history["seconds"] = time.perf_counter() - start
    return history


def _where(net):
    """The array module and dtype of the network's parameters."""
    W = next(layer.params["W"] for layer in net.layers if "W" in layer.params)
    return array_module(W), W.dtype


# %% nbgrader={"grade": true, "grade_id": "ch05_train_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Three train_step calls on 8 images: the losses, one AdamW config per parameter, no weight decay on biases."""
import numpy as np

from backproplab.grading import check

rng = np.random.default_rng(57)
tiny = Network(
    (1, 6, 6), [Conv2D(2, 3, pad=1), ReLU(), MaxPool2D(2, 2), Flatten(), Dense(3)], seed=0
)
for layer in tiny.layers:  # the weights the checks below use
    for key in layer.params:
        layer.params[key] = rng.normal(scale=0.5, size=layer.params[key].shape)
X_v, y_v = rng.normal(size=(8, 1, 6, 6)), rng.integers(0, 3, size=8)
configs_v, losses = {}, []
for _ in builtins.range(3):
    loss, scores = train_step(tiny, X_v, y_v, configs_v, lr=0.01, weight_decay=0.1)
    losses.append(loss)
check(
    "losses",
    losses,
    [1.8458220150020743, 1.592937369736128, 1.4167121144571615],
    "the losses of three AdamW steps on 8 images",
    tol=1e-6,
    hint="forward in training mode, softmax_loss, backward, then adamw on every parameter",
)
check(
    "config_keys",
    sorted(map(str, configs_v)),
    sorted(map(str, [(0, "W"), (0, "b"), (4, "W"), (4, "b")])),
    "the keys of configs: one AdamW config per parameter, keyed (layer index, parameter name)",
)
check(
    "decay_b",
    configs_v[(0, "b")]["weight_decay"],
    0.0,
    "the weight decay of the biases",
    hint="decay weights only, never biases",
)
check("decay_W", configs_v[(4, "W")]["weight_decay"], 0.1, "the weight decay of the weights")
check(
    "adamw_t",
    configs_v[(4, "W")]["t"],
    3,
    "the step count of a parameter's AdamW config after 3 steps",
)
print("train_step: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch05_train_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Four train_step calls on a network with dropout, from given weights: the losses and every parameter."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(5011)
student_h = Network(
    (1, 6, 5),
    [Conv2D(2, 3, pad=1), ReLU(), Flatten(), Dense(6), ReLU(), Dropout(0.7, seed=4), Dense(3)],
    seed=2,
)
for layer_h in student_h.layers:
    for key_h in layer_h.params:
        layer_h.params[key_h] = rng_h.normal(scale=0.5, size=layer_h.params[key_h].shape)
X_h, y_h = (rng_h.normal(size=(6, 1, 6, 5)), rng_h.integers(0, 3, size=6))
configs_h = {}
for step_h in builtins.range(4):
    loss_h, _ = train_step(student_h, X_h, y_h, configs_h, lr=0.02, weight_decay=0.3)
    record(f"loss_{step_h}", loss_h, tol=1e-06, about=f"the loss of step {step_h + 1}")
for k_h, layer_h in enumerate(student_h.layers):
    for key_h, value_h in layer_h.params.items():
        recorded_h = record(
            f"param_{k_h}_{key_h}",
            value_h,
            tol=1e-06,
            about=f"layer {k_h}'s params[{key_h!r}] after 4 steps",
        )
### END HIDDEN TESTS

# %% [markdown]
# The fast path of section 7 has its own step, `fast_train_step`: yours, with AdamW
# updating the parameters in place. Three steps of it on a fast copy of Table 3.2's
# network, against three of your `train_step` on yours, from the same start, in float64.
# (In float32 the two differ by about $10^{-3}$ after three steps: Adam divides each
# gradient by its own size, so for a weight whose gradient is nearly 0 the rounding
# of the sums decides the direction of its step.)


# %%
def three_steps(step, net, X_s, y_s):
    """The losses of three steps of step on (X_s, y_s), and the network's parameters after them."""
    configs = {}
    losses = [step(net, X_s, y_s, configs, 3e-4, 1e-3)[0] for _ in range(3)]
    return losses, [value for layer in net.layers for value in layer.params.values()]


rng = np.random.default_rng(9)
X_s, y_s = rng.standard_normal((batch_f, 1, 28, 28)), rng.integers(0, 10, batch_f)
nets = [table_3_2_network(seed=3, dtype=np.float64) for _ in range(2)]
yours_steps = three_steps(train_step, nets[0], X_s, y_s)
fast_steps = three_steps(fast_train_step, fast_path(nets[1]), X_s, y_s)
print("losses, yours:    ", np.round(yours_steps[0], 5))
print("losses, fast path:", np.round(fast_steps[0], 5))
print(
    "largest relative difference of the parameters after three steps: "
    f"{builtins.max(rel_error(a, b) for a, b in zip(yours_steps[1], fast_steps[1])):.1e}"
)


# %% [markdown]
# The data: Fashion-MNIST (or the fallback), a training subset that fits the
# notebook's time budget, a validation set taken from the training images, and a
# test subset.

# %%
data = load_fashion_mnist_or_digits("test" if smoke_test else "train")
X_all, y_all, X_test_all, y_test_all, class_names = data
# Seeded subsets; in a smoke test the training images come from the test file, minus the test images.
(X_train, y_train), (X_val, y_val), (X_test, y_test) = train_val_test(
    data, *((100, 50, 100) if smoke_test else (6_000, 1_000, 2_000)), keep_out_last=smoke_test
)
pixel_mean, pixel_std = float(X_train.mean()), float(X_train.std())
X_train, X_val, X_test = ((X - pixel_mean) / pixel_std for X in (X_train, X_val, X_test))
print(
    f"train {X_train.shape}, validation {X_val.shape}, test {X_test.shape}; pixel mean {pixel_mean:.3f}, std {pixel_std:.3f}; "
    f"mean of the corner pixels {X_all[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]].mean():.4f} (the background is 0)"
)
fig, axes = plt.subplots(1, 10, figsize=(11, 1.6), layout="constrained")
for label, ax in enumerate(axes):
    ax.imshow(X_all[np.flatnonzero(y_all == label)[0], 0], cmap="gray_r")
    ax.set_title(class_names[label], fontsize=8)
    ax.set_axis_off()
show_figure(
    fig,
    "Ten small grey images, one training image of each class, labelled: "
    + ", ".join(class_names)
    + ".",
)

# %% [markdown]
# Train. (The run takes under a minute on two CPU cores: two epochs over
# 6,000 images, 120 steps. When graded it is a 2-step smoke test. For the full
# data set — 54,000 training images, 6,000 for validation, all 10,000 test images,
# more epochs, on the GPU when there is one — run `python benchmarks/train_fashion_mnist.py`
# from the repository, which uses this notebook's functions.)

# %%
settings = {
    "num_epochs": 1 if smoke_test else 2,
    "batch_size": 50 if smoke_test else 100,
    "lr": 3e-4,
    "weight_decay": 1e-3,
    "eval_every": 2 if smoke_test else 20,
    "checkpoint_every": 1 if smoke_test else 10,
}
net = table_3_2_network(seed=0, keep_prob=0.5)
history = train(net, X_train, y_train, X_val, y_val, **settings)
test_loss, test_acc, y_pred = evaluate(net, X_test, y_test)
print(
    f"{len(history['loss'])} steps in {history['seconds']:.1f} s ({1e3 * history['seconds'] / len(history['loss']):.0f} ms per step); "
    f"test loss {test_loss:.3f}, test accuracy {test_acc:.4f} on {len(y_test)} images"
)

# %% [markdown]
# <details><summary>Errata: the dropout probability of the MNIST runs (von Hacht, Tables 3.2 and 4.1)</summary>
#
# The architecture has "Dropout p = 0.5" (Table 3.2) but its hyperparameters say "Dropout
# rate (p) 0.75" (Table 4.1) for the same MNIST runs. By eq. (2.42) $p$ is the probability to
# **keep** a unit (chapter 03). We follow Table 3.2, keep probability 0.5.
#
# </details>
#
# <details><summary>Errata: which pixels are the background (von Hacht, sec. 3.4)</summary>
#
# "Each example is a 28×28 image … where white is foreground of value 0 and black is
# background of value 255": in the MNIST files the **background is 0** and the strokes go up
# to 255.
#
# </details>
#
# ## 10. Evaluating as the thesis does
#
# Von Hacht (sec. 3.6) evaluates a model four ways.
#
# **Loss** (sec. 3.6.1): the mini-batch loss after every update, **divided by the
# first loss value**, so that the curves of models with different numbers of
# parameters compare. If the scores started at 0, the first loss would be
# $\ln 10 = 2.303$ for 10 classes — the loss of knowing nothing. They do not: He's
# initialisation keeps the variance of the signal from layer to layer, so the initial
# scores have a standard deviation of about 1.4 (printed below) and the first loss is
# about 4. The thesis' CIFAR-10 losses, too, "drop from about 4.5" (model A) and "from about
# 10.5" (model B) (its sec. 4.2.4), far above $\ln 10$: the first loss measures the initial
# scores' size as much as anything learned, so dividing by it compares the initialisations
# as much as the models. $\ln(\text{classes})$ is a steadier reference: the plot below shows
# the batch loss divided by the first loss, as in the thesis, and the validation loss
# divided by $\ln 10$.
#
# **Accuracy** (sec. 3.6.2) on the training batches and on validation images;
# the thesis shows every fiftieth value, we smooth the batch values with a running mean.
#
# **Confusion matrix** (sec. 3.6.3): $M_{ab}$ counts the test images of true class $a$
# predicted as class $b$; dividing every row by its sum gives the fraction of class $a$
# that goes to each class, with the per-class accuracy (recall) on the diagonal, as in
# chapter 02 and scikit-learn. The thesis puts the predicted classes in the rows; both are
# useful, so say which one a figure shows.

# %%
losses = np.array(history["loss"])
print(
    f"first loss {losses[0]:.3f} (ln 10 = {np.log(10):.3f}); standard deviation of the untrained network's scores on the "
    f"first {builtins.min(500, len(X_train))} training images: {table_3_2_network(seed=0).forward(X_train[:500]).std():.2f}"
)
window = builtins.min(20, len(losses))
smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
fig, (ax_loss, ax_acc, ax_cm) = plt.subplots(1, 3, figsize=(15, 4.2), layout="constrained")
ax_loss.plot(
    losses / losses[0], color="0.75", lw=0.8, label="batch loss / first loss (eq. of sec. 3.6.1)"
)
ax_loss.plot(
    np.arange(window, len(losses) + 1), smooth / losses[0], label=f"running mean of {window}"
)
ax_loss.plot(
    history["val_step"],
    np.array(history["val_loss"]) / np.log(10),
    "o-",
    label="validation loss / ln 10",
)
ax_loss.set(
    xlabel="step",
    ylabel="normalised loss",
    title=f"first loss {losses[0]:.3f} (ln 10 = {np.log(10):.3f})",
    ylim=(0, None),
)
ax_loss.legend(fontsize=8)
train_acc = np.convolve(history["train_acc"], np.ones(window) / window, mode="valid")
ax_acc.plot(
    np.arange(window, len(losses) + 1),
    train_acc,
    label=f"training batches (running mean of {window})",
)
ax_acc.plot(history["val_step"], history["val_acc"], "o-", label="validation images")
ax_acc.axhline(test_acc, color="k", ls=":", label=f"test accuracy {test_acc:.3f}")
ax_acc.set(xlabel="step", ylabel="accuracy", title="accuracy (sec. 3.6.2)", ylim=(0, 1))
ax_acc.legend(fontsize=8)
# rows: true class, columns: predicted
counts = np.bincount(10 * y_test + y_pred, minlength=100).reshape(10, 10)
confusion = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
ax_cm.imshow(confusion, cmap="Blues", vmin=0, vmax=1)
for (a, b), value in np.ndenumerate(confusion):
    if value >= 0.01:
        ax_cm.text(
            b,
            a,
            f"{value:.2f}",
            ha="center",
            va="center",
            fontsize=6.5,
            color="white" if value > 0.6 else "black",
        )
ax_cm.set(
    xticks=range(10),
    yticks=range(10),
    xlabel="predicted class",
    ylabel="true class",
    title="confusion matrix, rows normalised (sec. 3.6.3)",
)
ax_cm.set_xticklabels(class_names, rotation=60, fontsize=7)
ax_cm.set_yticklabels(class_names, fontsize=7)
show_figure(
    fig,
    f"Three panels. Left: the batch loss divided by the first loss ({losses[0]:.2f}) over {len(losses)} steps, "
    f"falling to {smooth[-1] / losses[0]:.2f} (running mean), and the validation loss divided by ln 10. Middle: the "
    f"accuracy on the training batches and on validation images, rising to {history['val_acc'][-1]:.2f}, and the test "
    f"accuracy {test_acc:.3f}. Right: the 10 by 10 confusion matrix with rows normalised; its diagonal, the "
    "per-class accuracy, is printed below.",
)
print(
    "per-class accuracy (the diagonal):",
    ", ".join(f"{name} {confusion[c, c]:.2f}" for c, name in enumerate(class_names)),
)
mistakes = confusion - np.diag(np.diag(confusion))
print(
    "hardest classes:",
    ", ".join(
        f"{class_names[c]} ({confusion[c, c]:.2f} right, most often taken for "
        f"{class_names[mistakes[c].argmax()]})"
        for c in np.argsort(np.diag(confusion))[:3]
    ),
)

# %% [markdown]
# What the run gave when this chapter was written (seeds fixed; other machines may
# differ in the last digits of the float32 sums, and so in a few predictions): a first
# loss of 3.90, a validation accuracy rising from 0.78 after 20 steps to 0.88 after 120,
# and a test accuracy of 0.838 on the 2,000 test images. The shirt is by far the hardest
# class (0.45 right, most often taken for a T-shirt/top), followed by the pullover (0.69,
# taken for a coat), the T-shirt/top (0.83, taken for a shirt) and the coat (0.83, taken
# for a pullover), while sneakers, bags, sandals and trousers are recognised at 0.93 or better. `benchmarks/train_fashion_mnist.py`
# shows how far more data and more epochs take the same code.
#
# **Weight visualisation** (sec. 3.6.4): the filters of the first convolution act
# directly on the image, so they can be looked at. Each $5\times5$ filter is mapped to
# $[0, 1]$ by the thesis' eq. (3.8),
#
# $$ w \leftarrow \frac{w - \min(w)}{\max(w) - \min(w)} , \tag{12} $$
#
# with the minimum and maximum of that filter, and drawn in grey levels (0 black,
# 1 white). The viewer below shows the filters that **your** training saved, checkpoint
# by checkpoint (the slider; it opens on the last checkpoint, the trained filters): the
# weights themselves, or their change since the first
# checkpoint — what training has added to the random start — with (12) per filter or
# with one scale for all filters. (The panel needs a live kernel: it does not redraw
# in a saved notebook.)

# %%
viewer = filter_viewer(history["filters"], steps=history["filter_steps"])
viewer

# %% [markdown]
# ### Exercise 12 (explore + explain): what the first layer learned
#
# Use the viewer and the confusion matrix. (a) Step from the first to the last
# checkpoint, showing the weights. How much do the filters change (the status line
# gives the largest change of a weight), compared with their size? Explain the size of
# the change from how Adam steps (chapter 03) and from the number of steps we took.
# (b) Now show the change since the first checkpoint. Which kinds of pattern do you see
# (name two, each with the index of a filter showing it), and why would such patterns
# help to tell clothes apart? (c) Which two classes does the network confuse most, and
# what in the images, and in what $5\times5$ filters can see, makes that plausible?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch05_explain_filters", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) The weights hardly change: after 120 steps the largest change of
# any first-layer weight is about 0.013, while the weights themselves are of order 0.3
# (He's initialisation for a fan-in of 25 has standard deviation $\sqrt{2/25} = 0.28$;
# the status line shows them between about $-1.1$ and $0.9$). So the filters at the
# end still look like the random noise they started as. Adam moves each weight by
# typically about $\eta$ per step, whatever the size of its gradient (chapter 03; more only
# after a sparse gradient, a spike after many quiet steps): 120 steps of
# $\eta = 3\cdot10^{-4}$ typically move a weight by at most about 0.036, and less when the
# sign of its gradient changes from step to step. The thesis trained for many epochs (and
# its filters became clean edges); ours need far more steps to leave the noise behind.
# (b) The change has structure that the weights hide: many filters changed by a bar or an
# edge — dark on one side, bright on the other, vertical (e.g. filters 4 and 18 in our run),
# horizontal (e.g. 2 and 25) or diagonal — and some by a blob. Such filters respond to
# the outlines of garments (the vertical sides of trousers and dresses, the horizontal
# edges of shoes and bags, the slanted shoulders and sleeves of tops) and pass that on
# to the next layer. (c) Shirt with T-shirt/top (in our run 0.45 of the shirts are right,
# most errors go to T-shirt/top; pullover and coat are confused with each other and with
# shirt): all are upper-body garments with the same outline at 28×28; what separates
# them — a collar, buttons, the length of the sleeves, a texture — is small, low-contrast
# detail, while the first layer's 5×5 filters see local edges, which these classes share.
# Trousers, bags, sandals and shoes have distinctive shapes and are rarely confused.
#
# **Rubric (2 points).**
# - ½ point (a): the weights change little compared with their size (numbers from the status
#   line) **and** why: Adam's step is typically about $\eta$, times the number of steps.
# - ½ point (b): at least two kinds of pattern in the change (oriented edges or bars, blobs...)
#   with filter indices from the student's own run, and a sentence on why outlines help.
# - 1 point (c): the most confused pair read from the student's confusion matrix (usually shirt
#   with T-shirt/top, pullover or coat) **and** a reason based on the images (similar outline,
#   differences in small details) and the local view of the filters. The pair without a reason: ½.

# %% [markdown]
# <details><summary>Note on the source: the confusion matrix's axes (von Hacht, sec. 3.6.3)</summary>
#
# The thesis adds a one at $M(\hat y, y_i)$ — rows are the **predicted** classes — and
# divides each row by its total. That gives, for each prediction, how often it is right
# (precision), not how well each true class is recognised; with rows for the true classes
# the diagonal is the recall.
#
# </details>
#
# ## 11. On a GPU: the same layers on CuPy
#
# Everything so far ran on NumPy. Given CuPy arrays, the same functions run on the
# GPU (section 6). Two things are new there.
#
# **Asynchronous execution.** A CuPy call *queues* work for the GPU and returns at
# once, usually before the GPU has finished, or even started. Timing it with
# `time.perf_counter()` around the call measures the launch (tens of microseconds),
# not the computation. Correct timing records CUDA **events** into the GPU's stream
# before and after the work and waits for the second one:
#
# ```python
# start, stop = cupy.cuda.Event(), cupy.cuda.Event()
# start.record(); work(); stop.record()
# stop.synchronize()                              # wait until the GPU has reached `stop`
# ms = cupy.cuda.get_elapsed_time(start, stop)    # GPU time between the two events
# ```
#
# (`cupyx.profiler.benchmark` does this with repetitions.) Copying a result to the host
# (`to_numpy`, `float(...)`) also synchronises, which is why a training loop that prints
# its loss every step waits for the GPU every step.
#
# **Warm-up.** The first call of every CuPy operation compiles (or loads) its kernel
# and grows CuPy's memory pool; time the second and later calls. And every kernel
# launch costs microseconds whatever its size: a small layer on a fast GPU is limited by
# the number of launches, not by arithmetic — im2col, GEMM, bias, reshape, col2im's
# $K^2$ slice additions are dozens of launches per layer.
#
# The cells below run only where CuPy sees a GPU (and never when the notebook is
# graded); elsewhere they print why they skip.

# %%
use_gpu = (not smoke_test) and backend_name() == "cupy"
GPU_SKIP = "skipped: " + (
    "the notebook is being graded"
    if smoke_test
    else "no GPU here (CuPy is not installed or sees no CUDA device). To run this cell: "
    "pip install 'backproplab[gpu]' on a machine with an NVIDIA GPU; BACKPROPLAB_BACKEND=numpy forces the CPU."
)
if use_gpu:
    import cupy

    print(
        "GPU:",
        cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(),
        "| CuPy",
        cupy.__version__,
    )
else:
    print(GPU_SKIP)


def gpu_milliseconds(work, repeat=10):
    """Best GPU time of work() in ms, measured with CUDA events after two warm-up calls."""
    for _ in range(2):
        work()
    best = float("inf")
    for _ in range(repeat):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        work()
        stop.record()
        stop.synchronize()
        best = builtins.min(best, cupy.cuda.get_elapsed_time(start, stop))
    return best


# %%
if use_gpu:
    arrays_host = [
        rng.standard_normal(shape, dtype=np.float32)
        for shape in ((100, 32, 14, 14), (64, 32, 5, 5), (64,), (100, 64, 14, 14))
    ]
    x_d, w_d, b_d, dout_d = (cupy.asarray(a) for a in arrays_host)

    def layer_gpu():
        return conv_backward_im2col(dout_d, conv_forward_im2col(x_d, w_d, b_d, 1, 2)[1])

    def layer_cpu():
        return conv_backward_im2col(arrays_host[3], conv_forward_im2col(*arrays_host[:3], 1, 2)[1])

    errors = [rel_error(to_numpy(a), b) for a, b in zip(layer_gpu(), layer_cpu())]
    print(
        "CuPy against NumPy, relative errors of dx, dw, db (float32):",
        ", ".join(f"{e:.1e}" for e in errors),
    )
    launch = time.perf_counter()
    layer_gpu()
    launch = time.perf_counter() - launch  # WRONG: measures the launch, not the work
    cupy.cuda.Device().synchronize()
    print(
        f"Table 3.2's second convolution, forward + backward, batch 100: perf_counter without synchronising "
        f"{1e3 * launch:.2f} ms (wrong), CUDA events {gpu_milliseconds(layer_gpu):.2f} ms, "
        f"NumPy {1e3 * best_seconds(layer_cpu):.0f} ms"
    )
else:
    print(GPU_SKIP)

# %% [markdown]
# The whole network trains on the GPU by building it with `xp=cupy`: the parameters
# (and Adam's moments, created with `zeros_like`) live on the GPU, and `train` moves each
# batch there. The cell trains the same network as section 9 on the same data.

# %%
if use_gpu:
    net_gpu = table_3_2_network(seed=0, keep_prob=0.5, xp=cupy)
    history_gpu = train(net_gpu, X_train, y_train, X_val, y_val, verbose=False, **settings)
    gpu_acc = evaluate(net_gpu, X_test, y_test)[1]
    print(
        f"GPU: {len(history_gpu['loss'])} steps in {history_gpu['seconds']:.1f} s "
        f"({1e3 * history_gpu['seconds'] / len(history_gpu['loss']):.1f} ms per step, with a host copy of the loss "
        f"every step); test accuracy {gpu_acc:.4f} (CPU: {test_acc:.4f}, "
        f"{1e3 * history['seconds'] / len(history['loss']):.0f} ms per step)"
    )
else:
    print(GPU_SKIP)

# %% [markdown]
# ### Exercise 13 (optional, advanced, GPU): im2col as one CUDA kernel
#
# Our im2col on CuPy is a pad, a strided view and a copy: several kernel launches and
# a padded temporary. A hand-written kernel can do it in one pass with **one thread per
# entry of cols** (as Chainer's `im2col_gpu` does): thread $t$ finds the row
# $r = t \,\mathrm{div}\, (NH'W')$ and column $q = t \bmod NH'W'$ of its entry, unpacks them into
# $(c, k, l)$ and $(n, i, j)$ (the inverse of (1)), computes the input position
# $(iS + k - P,\ jS + l - P)$, and writes $x$ there — or 0 where that falls into the padding.
# No padded copy of $x$ is ever made.
#
# Write `im2col_gpu_kernel` with a `cupy.ElementwiseKernel` whose input is the raw
# (contiguous, flattened) $x$ plus the sizes as `int32` scalars, and whose output is
# cols; inside the kernel `i` is the index of the output entry (and `i` and `n` are
# reserved names there). A `cupy.RawKernel` with an explicit grid works as well. This
# exercise is not graded (the grader has no GPU); the cell after it checks your kernel
# against `im2col` and times both, where a GPU is available.


# %% nbgrader={"grade": false, "grade_id": "ch05_im2col_kernel", "locked": false, "schema_version": 3, "solution": true, "task": false}
def im2col_gpu_kernel(x, kernel_size, stride=1, pad=0):
    """im2col (eq. 4) as one CUDA kernel, one thread per entry of cols; x: a CuPy array (N, C, H, W).

    Returns cols: (C*K*K, N*H'*W'), equal to im2col(x, kernel_size, stride, pad).
    """
    import cupy

    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    K, S, P = kernel_size, stride, pad
    H_out, W_out = conv_output_size(H, K, S, P), conv_output_size(W, K, S, P)
    kernel = cupy.ElementwiseKernel(
        "raw T x, int32 N, int32 C, int32 H, int32 W, int32 K, int32 S, int32 P, int32 H_out, int32 W_out",
        "T cols",
        """
        const long long columns = (long long)N * H_out * W_out;
        const long long q = i % columns, r = i / columns;   // column (img, oy, ox) and row (ch, ky, kx)
        const int ox = q % W_out, oy = (q / W_out) % H_out, img = q / ((long long)W_out * H_out);
        const int kx = r % K, ky = (r / K) % K, ch = r / (K * K);
        const int y = oy * S + ky - P, xx = ox * S + kx - P;  // the input position, before padding
        cols = (y >= 0 && y < H && xx >= 0 && xx < W) ? x[(((long long)img * C + ch) * H + y) * W + xx] : (T)0;
        """,
        "im2col_entry",
    )
    cols = cupy.empty((C * K * K, N * H_out * W_out), dtype=x.dtype)
    kernel(cupy.ascontiguousarray(x).ravel(), N, C, H, W, K, S, P, H_out, W_out, cols)
    return cols
    ### END SOLUTION


# %%
if use_gpu:
    x_k = cupy.asarray(rng.standard_normal((100, 32, 14, 14), dtype=np.float32))
    try:
        for K_k, S_k, P_k in ((5, 1, 2), (3, 2, 1), (2, 3, 0)):
            same = bool(
                cupy.array_equal(im2col_gpu_kernel(x_k, K_k, S_k, P_k), im2col(x_k, K_k, S_k, P_k))
            )
            print(
                f"K = {K_k}, S = {S_k}, P = {P_k}: your kernel {'equals' if same else 'DIFFERS FROM'} im2col"
            )
        print(
            f"5x5, pad 2, batch 100: im2col (pad + view + copy) {gpu_milliseconds(lambda: im2col(x_k, 5, 1, 2)):.3f} ms, "
            f"one kernel {gpu_milliseconds(lambda: im2col_gpu_kernel(x_k, 5, 1, 2)):.3f} ms"
        )
    except NotImplementedError:
        print("im2col_gpu_kernel is not written yet (it is optional).")
else:
    print(GPU_SKIP)

# %% [markdown]
# ### Exercise 14 (explain): views, copies and timing
#
# (a) `window_view` returns a view and im2col then copies. Where exactly is the copy, how
# large is it for the second convolution of Table 3.2 with a batch of 100 in float32, and
# why is "one big copy plus one GEMM" nevertheless much faster than chapter 04's loops,
# which copy nothing? (b) Give two ways in which a view made with `as_strided` can give
# wrong results or crash, and one way to guard against each. (c) A student times a CuPy
# layer with `time.perf_counter()` before and after one call and reports 0.05 ms. What was
# measured, and how should it be timed instead?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch05_explain_views", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) The copy is the `reshape` of the transposed window view to
# $(CK^2, NH'W')$: no strides can describe that matrix, so NumPy copies (the padding is a
# second, small copy). It holds $800 \times 19{,}600 = 15.7$ million numbers, 62.7 MB in float32,
# 25 times the input. It is still fast because copying is a single pass over memory at
# gigabytes per second (about 15 ms), and the arithmetic — 2 GFLOP per GEMM — then runs in
# one call of an optimised, multi-threaded BLAS routine that works on blocks of the matrices
# held in the caches, with vector instructions, at over 100 GFLOP/s; the loops go through the
# Python interpreter once per output position (196 times) and do each contraction in
# `einsum`'s generic loops, which are not blocked and use no BLAS, so they are about 30 times
# slower overall, although they copy nothing and do the same arithmetic. (b) (1) A wrong
# shape or stride (e.g. strides computed from the shape by (2) for an input that is not
# contiguous, or an output size without the floor) reads memory outside the array:
# garbage values or a segmentation fault. Guard: take the strides from `x.strides`,
# compute the shape from chapter 04's eq. (6), prefer `sliding_window_view`, and test
# against a reference. (2) Writing through a view whose elements overlap changes the
# input, and the writes to a shared element overwrite each other instead of adding up
# (section 1's demo; on a GPU they even race). Guard: make the view read-only (`writeable=False` / `sliding_window_view`), copy before
# writing, never use `+=` on it. (Also: a view keeps its whole base array alive.) (c) It
# measured the *launch*: CuPy queues the kernels and returns before the GPU has finished.
# Record a `cupy.cuda.Event` before and after the call, `synchronize()` on the second, and
# read `cupy.cuda.get_elapsed_time`; call the layer a few times first (compilation, memory
# pool) and take the best or the median of several runs.
#
# **Rubric (2 points).**
# - ¾ point (a): the reshape of the transposed view is the copy; its size (about 63 MB, or
#   15.7 million entries, $K^2 = 25$ times the input); and why it pays (one efficient GEMM vs many tiny
#   interpreted operations). Size without the reason, or the reason without the place: ¼–½.
# - ¾ point (b): out-of-bounds reads from wrong shape/strides **and** overlapping writes, each
#   with a guard. One of them: ½.
# - ½ point (c): asynchronous launch measured; events + synchronize (warm-up for full credit not required).

# %% [markdown]
# ## Summary
#
# - A row-major NCHW tensor keeps $x_{nchw}$ at $((nC + c)H + h)W + w$ (1) (von Hacht's
#   eq. (3.2) with the axes numbered from the right). Strides (2) describe any array; transposes,
#   slices and many reshapes are views; `as_strided` builds any view — including the
#   overlapping windows of a convolution (3) — and checks nothing.
# - im2col (4) copies every window into a column; the convolution layer is then one GEMM (5),
#   at the price of $K^2$ times the input in memory.
# - Backward: $db$ = row sums, $dW = \overline{\text{out}}\,\text{cols}^\top$, $d\text{cols} = W^\top\overline{\text{out}}$ (6), and
#   col2im (7), the adjoint (8) of im2col, adds every copy's gradient back. With `np.add.at` it
#   is correct and slow; `x[idx] += v` is wrong; a loop over the $K^2$ window offsets of
#   collision-free slice additions (9) is correct and fast.
# - Max pooling is im2col on the channels as images, a max down the columns (10), and a
#   backward pass that sends each gradient to the **first** maximum only (11).
# - With `xp = array_module(x)` the same code runs on NumPy or CuPy; GPU work is asynchronous,
#   so it is timed with CUDA events after a warm-up.
# - A graph of layer objects checks shapes when it is built; Table 3.2's network trains with
#   AdamW on Fashion-MNIST in a minute on a CPU; the thesis' evaluation — normalised loss,
#   accuracy, confusion matrix, first-layer filters by (12) — shows what it learned and where it fails.
#
# ## Next: chapter 06, automatic differentiation
#
# We now own every piece of a CNN: layers that are fast, their gradients, an optimiser,
# a graph that checks its shapes. Every backward pass, though, we wrote by hand. A framework
# writes them for us: its **autograd** records the operations while the forward pass runs and
# builds the backward pass of any graph from them. Chapter 06 builds a small one — a variable
# that remembers its parents and a backward rule, a topological sort, `backward()` — and trains
# chapter 02's network with it. Chapter 07 then rebuilds Table 3.2's network in PyTorch, whose
# `nn.Conv2d` calls oneDNN or cuDNN, and asks whether we can trust it: its outputs and gradients
# against the functions of this chapter, layer by layer, in float64.
#
# ## References
#
# The text this chapter is built from, cited by author and section:
#
# - **von Hacht** — A. von Hacht, *Implementation of Deep Feedforward Neural Network with
#   CUDA backend for Efficient and Accurate Natural Image Classification*, MSc thesis,
#   Chalmers University of Technology, 2017 ("the thesis").
#
# Other works the chapter cites:
#
# - K. He, X. Zhang, S. Ren and J. Sun, "Delving Deep into Rectifiers: Surpassing
#   Human-Level Performance on ImageNet Classification", ICCV 2015 (He initialisation).
# - H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
#   Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
