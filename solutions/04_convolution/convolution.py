# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 04 — Convolution and pooling, from the definition, forward and backward
#
# The fully connected layers of chapter 02 give every pixel its own weight to
# every unit. An image has structure that they ignore: nearby pixels belong
# together, and a pattern (an edge, a corner, a stroke) means the same thing
# wherever it appears. A **convolution layer** slides one small set of weights —
# a *kernel* or *filter* — over the whole image, and a **pooling layer**
# summarises small neighbourhoods. This chapter builds both from their
# definitions: first the mathematical convolution in one and two dimensions
# and its look-alike, the cross-correlation, then padding and stride and the
# sizes they produce, then the layers with their forward **and** backward
# passes as plain loops, each checked against a numerical gradient. We derive
# the famous "backward pass is a convolution with the kernel rotated by 180°",
# and verify it by computing it both ways. Last, we count what these layers cost
# (shapes and parameters of real networks) and look at what kernels do to a photo.
#
# **Sources.** Kara's report *Mathematical Foundations of Deep Learning*, sec. 2 and
# 2.1, eqs. (28)–(36) with ROT180; von Hacht's MSc thesis (Chalmers, 2017), sec.
# 2.3.2–2.3.3 (eqs. 2.23–2.37), appendix A.3 and Tables 3.2–3.5; Xia's lecture notes
# *Neural Net and Deep Learning* (2020), sec. 2.2–2.5 (properties, canonical kernels,
# units / weights / connections); Bilici's *An Overview of Convolutional Neural
# Networks*, the sections *The Convolution Operator*, *Pooling*, *Padding*, *Stride*,
# *Useful Practical Formulas* and *A Practical Example: MNIST*; Lohiya's CS231n-based
# report (2019), sec. 8. Full references are at the end of the chapter. We recompute
# every number we take from them. The text states the correct results; what a source
# gets wrong is in a folded **Errata** note at the end of the section (click it to
# open), and so are notes on its omissions and ambiguities.
#
# ## Learning goals
#
# After this chapter you can
#
# - compute a 1-D and a 2-D convolution and a cross-correlation by hand, say
#   where the flip is, and what deep-learning libraries call "convolution";
# - give the output size of a convolution or pooling layer for any padding
#   (valid, half, full) and stride, with the floor and the $+1$;
# - implement a convolution layer, max pooling and average pooling, forward and
#   backward, for batches of multi-channel images, and check them against a
#   numerical gradient;
# - derive the backward pass of a convolution as a convolution with the kernel
#   rotated by 180°, and verify it;
# - explain equivariance to translation and the approximate invariance that
#   pooling adds, and show both numerically;
# - count the output shapes and parameters of a CNN, layer by layer;
# - normalise a convolution layer's outputs per channel (batch norm) and per image
#   (group norm, with layer and instance norm as its two ends), forward and backward,
#   and say why one depends on the batch and the other does not.
#
# **Time:** about 3–4 hours of reading, deriving and coding. The whole notebook
# runs in well under a minute on a laptop CPU; no GPU is needed.
#
# **How to work:** fill in every cell that says `# YOUR CODE HERE`, then run the
# test cell below it. The visible tests check shapes and small cases you can
# verify by hand; hidden tests use other shapes (non-square images, odd and
# even kernels, strides 2 and 3, padding 0–2, several images and channels) and
# compare your gradients with numerical gradients when your notebook is graded.
# Loops are fine here: chapter 05 makes these layers fast.

# %% nbgrader={"grade": false, "grade_id": "ch04_setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import builtins
import numbers

import matplotlib.pyplot as plt
import numpy as np
from scipy import signal

from backproplab.gradcheck import numerical_gradient, rel_error
from backproplab.grading import check, record
from backproplab.kernel_explorer import CANONICAL_KERNELS, kernel_explorer, load_photo
from backproplab.plotting import show_figure

np.set_printoptions(precision=4, suppress=True)
# The test cells below use the names imported and defined here: do not rebind them.


def reference_conv(x, w, b, stride=1, pad=0):
    """Eq. (8) computed by SciPy in float64: the visible tests take their expected values from it, not from your code.

    (Your own layers may not use SciPy: the exercises are about writing the loops.)
    """
    x_pad = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.array(
        [
            [
                signal.correlate(x_pad[n], w[f], mode="valid", method="direct")[
                    0, ::stride, ::stride
                ]
                + b[f]
                for f in builtins.range(w.shape[0])
            ]
            for n in builtins.range(x_pad.shape[0])
        ]
    )


# %% [markdown]
# ## 1. Convolution in one dimension, and its twin, the cross-correlation
#
# Kara (sec. 2, eq. 28) starts from the integral
# $(f * g)(x) = \int f(\tau)\,g(x - \tau)\,d\tau$: reflect $g$, shift it by $x$,
# multiply with $f$ and integrate. For sequences (Xia, eq. 2.1; Bilici,
# *The Convolution Operator*) the integral becomes a sum. With indices starting
# at 0 and everything outside an array taken as 0,
#
# $$ (a * b)_t = \sum_{\tau} a_\tau\, b_{t - \tau}, \qquad t = 0, 1, \dots, n_a + n_b - 2 . \tag{1} $$
#
# The sum runs over every $\tau$ for which both factors exist, so the result
# has $n_a + n_b - 1$ entries (the "full" convolution). Two properties follow
# directly from (1) (Xia, sec. 2.2.3): substituting $\tau' = t - \tau$ gives
# **commutativity** $a * b = b * a$, and the sum is **linear** in each argument,
# $a * (\lambda_1 b + \lambda_2 c) = \lambda_1\, a * b + \lambda_2\, a * c$.
#
# The **cross-correlation** slides the kernel $k$ (length $K$) over the signal
# $x$ (length $N$) *without reflecting it*; in the "valid" form it only uses
# positions where $k$ lies entirely inside $x$:
#
# $$ (x \star k)_t = \sum_{m=0}^{K-1} x_{t + m}\, k_m, \qquad t = 0, \dots, N - K . \tag{2} $$
#
# Where is the flip? In (1) the kernel index runs *backwards* while the signal
# index runs forwards ($b_{t-\tau}$); in (2) both run forwards. So a
# cross-correlation with $k$ is a convolution with the reversed kernel
# $\tilde k_m = k_{K-1-m}$:
#
# $$ (x \star k)_t = (x * \tilde k)_{t + K - 1} , \tag{3} $$
#
# i.e. the valid part of the full convolution with the flipped kernel. A quick
# way to *see* the flip: feed a single spike $x = (0, \dots, 0, 1, 0, \dots, 0)$. The
# convolution copies the kernel into the output as it is; the cross-correlation
# copies it **reversed** (the cell after the exercise shows it).
#
# Bilici says it plainly: "many neural network libraries implement a related
# function called the cross-correlation, which is the same as convolution but
# without flipping the kernel" — and then calls it convolution, as PyTorch
# (`torch.nn.Conv2d`), TensorFlow and every CNN paper do. So will we, from
# section 4 on: *a convolution layer computes a cross-correlation*. Bilici's 1-D
# example is one too: the signal $(128, 255, 123, 45, 4)$ with the kernel
# $(1/9, 4/7, -3/2, 4/5, 1/7)$ gives "$\approx 12$", which is the cross-correlation (12.008); a true
# convolution, which flips the kernel, gives 63.94 (the cell after the exercise computes both).
#
# ### Exercise 1 (implement): 1-D convolution and cross-correlation
#
# Write both with loops, from (1) and (2). In `conv1d` flip the kernel
# explicitly and slide it over the zero-padded signal, so that the flip is
# visible in your code. (NumPy has `np.convolve` and `np.correlate`; the tests
# use them, you may not.)


# %% nbgrader={"grade": false, "grade_id": "ch04_conv1d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv1d(a, b):
    """The full 1-D convolution of eq. (1): out[t] = sum_tau a[tau] * b[t - tau].

    a: (n_a,), b: (n_b,) float arrays. Returns out: (n_a + n_b - 1,).
    """
    ### BEGIN SOLUTION
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n_a, n_b = len(a), len(b)
    flipped = b[::-1]  # b[t - tau] runs backwards in tau: flip the kernel ...
    padded = np.pad(a, (n_b - 1, n_b - 1))  # ... and let it stick out on both sides
    out = np.zeros(n_a + n_b - 1)
    for t in range(n_a + n_b - 1):
        out[t] = np.sum(padded[t : t + n_b] * flipped)
    return out
    ### END SOLUTION


def xcorr1d(x, k):
    """The valid 1-D cross-correlation of eq. (2): out[t] = sum_m x[t + m] * k[m].

    x: (N,), k: (K,) float arrays with K <= N. Returns out: (N - K + 1,).
    """
    ### BEGIN SOLUTION
    x, k = np.asarray(x, dtype=float), np.asarray(k, dtype=float)
    K = len(k)
    out = np.zeros(len(x) - K + 1)
    for t in range(len(out)):
        out[t] = np.sum(x[t : t + K] * k)  # no flip
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_conv1d_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""conv1d and xcorr1d on small cases you can check by hand, and seed 003's 1-D example (about 12)."""
import numpy as np

from backproplab.grading import check

check(
    "conv_123_010",
    conv1d([1.0, 2.0, 3.0], [0.0, 1.0, 0.5]),
    [0.0, 1.0, 2.5, 4.0, 1.5],
    "conv1d([1, 2, 3], [0, 1, 0.5])",
    hint="the full convolution has n_a + n_b - 1 = 5 entries; out[1] = a[0] b[1] + a[1] b[0] = 1",
)
check(
    "xcorr_1234",
    xcorr1d([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, -1.0]),
    [-2.0, -2.0],
    "xcorr1d([1, 2, 3, 4], [1, 0, -1])",
    hint="out[0] = x[0] k[0] + x[1] k[1] + x[2] k[2] = 1 - 3: no flip in a cross-correlation",
)
check(
    "seed003_example",
    xcorr1d([128, 255, 123, 45, 4], [1 / 9, 4 / 7, -3 / 2, 4 / 5, 1 / 7]),
    [12.007936507936508],
    "the cross-correlation of seed 003's 1-D example",
)
print("conv1d, xcorr1d: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_conv1d_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""conv1d and xcorr1d on hidden random signals: the full convolution both ways round, linearity, the valid cross-correlation."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4001)
for n_h, k_h in ((9, 4), (6, 3), (5, 5)):
    x_h, ker_h, ker2_h = (rng_h.normal(size=n_h), rng_h.normal(size=k_h), rng_h.normal(size=k_h))
    full_h = record(
        f"conv_{n_h}_{k_h}",
        conv1d(x_h, ker_h),
        about=f"conv1d of a signal of {n_h} and a kernel of {k_h}",
    )
    swapped_h = record(
        f"conv_swapped_{n_h}_{k_h}",
        conv1d(ker_h, x_h),
        about=f"conv1d with the arguments swapped (kernel of {k_h} first)",
    )
    lin_h = record(
        f"conv_linear_{n_h}_{k_h}",
        conv1d(x_h, 2.0 * ker_h - 3.0 * ker2_h),
        about=f"conv1d with a combination of two kernels of {k_h}",
    )
    valid_h = record(
        f"xcorr_{n_h}_{k_h}",
        xcorr1d(x_h, ker_h),
        about=f"xcorr1d of a signal of {n_h} and a kernel of {k_h}",
    )
### END HIDDEN TESTS

# %%
# The flip made visible: a spike in, the kernel out -- as it is (convolution) or reversed (cross-correlation).
spike = np.zeros(7)
spike[3] = 1.0
kernel_1d = np.array([1.0, 2.0, 3.0])
print("convolution       of a spike with (1, 2, 3):", conv1d(spike, kernel_1d))
print("cross-correlation of a spike with (1, 2, 3):", xcorr1d(np.pad(spike, 2), kernel_1d))
# Commutativity and linearity, numerically (Xia, eqs. 2.3-2.4), and Bilici's example both ways.
rng = np.random.default_rng(0)
a1, b1, c1 = rng.normal(size=8), rng.normal(size=3), rng.normal(size=3)
print("max |a*b - b*a|                      :", np.abs(conv1d(a1, b1) - conv1d(b1, a1)).max())
print(
    "max |a*(2b - 3c) - (2 a*b - 3 a*c)|   :",
    np.abs(conv1d(a1, 2 * b1 - 3 * c1) - (2 * conv1d(a1, b1) - 3 * conv1d(a1, c1))).max(),
)
x_bilici, k_bilici = (
    np.array([128, 255, 123, 45, 4.0]),
    np.array([1 / 9, 4 / 7, -3 / 2, 4 / 5, 1 / 7]),
)
print(
    f"Bilici's example: cross-correlation {xcorr1d(x_bilici, k_bilici)[0]:.3f}, "
    f"convolution {conv1d(x_bilici, k_bilici)[4]:.3f}"
)

# %% [markdown]
# <details><summary>Errata: convolution, cross-correlation and "cross-entropy" (Bilici, sec. 2, <i>The Convolution Operator</i>)</summary>
#
# The text writes the cross-correlation with the same symbol as the convolution,
# $F(i, j) = (I * K)(i, j) = \sum_m\sum_n I(i + m, j + n)K(m, n)$, and then says the result is
# "the sum of all elements of output of the Hadamard product" of "the cross-entropy": it
# means the **cross-correlation** (cross entropy is a loss). Its 1-D example, "$\approx 12$", is
# right for the cross-correlation. Also, "the kernel is three-dimensional" for a 2-D image
# $I$ is the convolution of a multi-channel input; for one grey image the kernel is 2-D.
#
# </details>
#
# ## 2. Two dimensions
#
# For an image $A$ and a kernel $B$ (Xia, eq. 2.2; Bilici) the convolution is
#
# $$ (A * B)_{ij} = \sum_{s}\sum_{t} A_{st}\, B_{i - s,\, j - t}, \tag{4} $$
#
# with a full output of size $(H + K_H - 1) \times (W + K_W - 1)$, and the
# cross-correlation, now with zero padding $P$ around the image
# ($\hat A$ is $A$ with $P$ rows/columns of zeros on **every** side), is
#
# $$ (A \star B)_{ij} = \sum_{m=0}^{K_H-1}\sum_{n=0}^{K_W-1} \hat A_{i + m,\, j + n}\, B_{mn},
#    \qquad 0 \le i \le H + 2P - K_H,\ 0 \le j \le W + 2P - K_W . \tag{5} $$
#
# Flipping a 2-D kernel in both directions — reversing its rows *and* its
# columns — is the **rotation by 180°**, $\mathrm{ROT180}(B)_{mn} = B_{K_H-1-m,\,K_W-1-n}$
# (Kara, sec. 2.1; von Hacht, eq. 2.29). As in (3), a cross-correlation is a
# convolution with the rotated kernel. Note: ROT180 is *not* a transpose — the
# transpose swaps rows with columns and leaves the diagonal where it is.
#
# **Worked example** (Bilici, *Stride*, Figure 6): the 3×3 image with entries
# 0…8, padded with one ring of zeros (5×5), cross-correlated with the 2×2
# kernel $\begin{pmatrix}0&1\\2&3\end{pmatrix}$, stride 1. The output is
# $(3 + 2 - 2) + 1 = 4$ on each side; its top-left entries are
# $0\cdot0 + 0\cdot1 + 0\cdot2 + 0\cdot3 = 0$,
# $0\cdot0 + 0\cdot1 + 0\cdot2 + 1\cdot 3 = 3$ (the window $\begin{pmatrix}0&0\\0&1\end{pmatrix}$), and in
# the middle the window $\begin{pmatrix}0&1\\3&4\end{pmatrix}$ gives $0 + 1 + 6 + 12 = 19$:
#
# $$ \begin{pmatrix} 0&3&8&4\\ 9&19&25&10\\ 21&37&43&16\\ 6&7&8&0 \end{pmatrix}. $$
#
# We recomputed all sixteen entries (your `xcorr2d` must reproduce them): the
# figure is right, and it is a **cross-correlation**, although the source
# writes "$*$". The true convolution (4) of the same image and kernel would
# give a different matrix (printed after the exercise).
#
# ### Exercise 2 (implement): 2-D convolution and cross-correlation
#
# `conv2d` is the full convolution (4): pad the image with $K-1$ zeros on every
# side, flip the kernel (reverse rows and columns) and slide it. `xcorr2d` is (5)
# with zero padding `pad`.


# %% nbgrader={"grade": false, "grade_id": "ch04_conv2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d(image, kernel):
    """The full 2-D convolution of eq. (4): out[i, j] = sum_{s,t} image[s, t] * kernel[i - s, j - t].

    image: (H, W), kernel: (KH, KW). Returns out: (H + KH - 1, W + KW - 1).
    """
    ### BEGIN SOLUTION
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    H, W = image.shape
    KH, KW = kernel.shape
    flipped = kernel[::-1, ::-1]  # ROT180: rows and columns reversed
    padded = np.pad(image, ((KH - 1, KH - 1), (KW - 1, KW - 1)))
    out = np.zeros((H + KH - 1, W + KW - 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(padded[i : i + KH, j : j + KW] * flipped)
    return out
    ### END SOLUTION


def xcorr2d(image, kernel, pad=0):
    """The 2-D cross-correlation of eq. (5), with `pad` rows/columns of zeros on every side.

    image: (H, W), kernel: (KH, KW). Returns out: (H + 2 pad - KH + 1, W + 2 pad - KW + 1).
    """
    ### BEGIN SOLUTION
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    KH, KW = kernel.shape
    padded = np.pad(image, pad)
    out = np.zeros((padded.shape[0] - KH + 1, padded.shape[1] - KW + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(padded[i : i + KH, j : j + KW] * kernel)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_conv2d_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""xcorr2d reproduces seed 003's worked example exactly; conv2d of a spike is the kernel itself."""
import numpy as np

from backproplab.grading import check

I3 = np.arange(9.0).reshape(3, 3)
K2 = np.array([[0.0, 1.0], [2.0, 3.0]])
check(
    "worked_example",
    xcorr2d(I3, K2, pad=1),
    np.array(
        [
            [0.0, 3.0, 8.0, 4.0],
            [9.0, 19.0, 25.0, 10.0],
            [21.0, 37.0, 43.0, 16.0],
            [6.0, 7.0, 8.0, 0.0],
        ]
    ),
    "seed 003's worked example, xcorr2d(image 3x3, kernel 2x2, pad=1)",
    hint="(3 + 2*1 - 2) + 1 = 4 rows and columns; pad one ring of zeros on every side; do not flip the kernel",
)
spike2 = np.zeros((3, 4))
spike2[1, 1] = 1.0
K23 = np.arange(6.0).reshape(2, 3)
expected_stamp = np.zeros((4, 6))
expected_stamp[1:3, 1:4] = K23
check(
    "spike_conv",
    conv2d(spike2, K23),
    expected_stamp,
    "conv2d of a spike at (1, 1) of a 3x4 image with a 2x3 kernel",
    hint="the full convolution is (H + KH - 1, W + KW - 1) and copies the kernel unflipped at the spike: "
    "did you forget to flip the kernel you slide?",
)
print("conv2d, xcorr2d: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_conv2d_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""conv2d and xcorr2d on hidden non-square images with odd and even kernels and padding 0-2."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4002)
for (hh_h, ww_h), (kh_h, kw_h), pad_h in (
    ((5, 7), (3, 2), 0),
    ((6, 4), (2, 2), 1),
    ((4, 5), (3, 3), 2),
):
    img_h, ker_h = (rng_h.normal(size=(hh_h, ww_h)), rng_h.normal(size=(kh_h, kw_h)))
    full_h = record(
        f"conv2d_{hh_h}x{ww_h}_{kh_h}x{kw_h}",
        conv2d(img_h, ker_h),
        about=f"conv2d of a {hh_h}x{ww_h} image and a {kh_h}x{kw_h} kernel",
    )
    xc_h = record(
        f"xcorr2d_{hh_h}x{ww_h}_{kh_h}x{kw_h}_p{pad_h}",
        xcorr2d(img_h, ker_h, pad=pad_h),
        about=f"xcorr2d of a {hh_h}x{ww_h} image and a {kh_h}x{kw_h} kernel, pad {pad_h}",
    )
    recorded_h = record(
        "xcorr2d against the valid part of conv2d with the rotated kernel",
        xcorr2d(img_h, ker_h),
        about=f"xcorr2d of a {hh_h}x{ww_h} image and a {kh_h}x{kw_h} kernel with the default pad",
    )
### END HIDDEN TESTS

# %%
print(
    "true convolution (4) of the worked example's image and kernel, the same padded 4x4 window positions:"
)
print(conv2d(np.arange(9.0).reshape(3, 3), [[0.0, 1.0], [2.0, 3.0]]))
print("= the cross-correlation with ROT180(kernel):")
print(xcorr2d(np.arange(9.0).reshape(3, 3), [[3.0, 2.0], [1.0, 0.0]], pad=1))

# %% [markdown]
# ## 3. Padding, stride, and the size of the output
#
# Slide a $K$-wide window over $n$ positions padded with $P$ zeros on each side,
# taking a step of $S$: the window's first position starts at 0, the last
# position that still fits starts at most at $n + 2P - K$, and the starts are
# $0, S, 2S, \dots$ So the number of outputs is (von Hacht, eq. 2.23)
#
# $$ n_{\text{out}} = \left\lfloor \frac{n + 2P - K}{S} \right\rfloor + 1 . \tag{6} $$
#
# The **floor** says that a window which would stick out beyond the padded
# input is dropped (PyTorch does this); the **$+1$** counts the first position.
# Bilici (*Padding*) names three paddings for odd $K$ and $S = 1$:
#
# | padding | $P$ | $n_{\text{out}}$ (stride 1) |
# |---|---|---|
# | valid | $0$ | $n - K + 1$ |
# | half ("same") | $(K - 1)/2$ | $n$ |
# | full | $K - 1$ | $n + K - 1$ |
#
# Full padding is what the full convolution (1), (4) uses; it comes back in the
# backward pass (section 6). A **pooling** window of size $F$ with stride $S$ and no
# padding gives, by the same count,
#
# $$ n_{\text{out}} = \left\lfloor \frac{n - F}{S} \right\rfloor + 1 , \tag{7} $$
#
# e.g. $28 \to 14$ for $F = S = 2$, and $7 \to 3$ (the last row is dropped).
# Where $(n + 2P - K)/S$ is not an integer, take the floor: $n = 8$, $K = 3$, $P = 0$,
# $S = 2$ gives $\lfloor 2.5\rfloor + 1 = 3$ outputs, not 3.5. And half padding for a
# $5\times5$ kernel is $P = (5 - 1)/2 = 2$: Bilici's MNIST network (a $3\times3$ convolution with
# $P = 1$, a $2\times2$ pool, a $5\times5$ convolution with $P = 2$, a pool) goes
# $28 \to 28 \to 14 \to 14 \to 7$.
#
# ### Exercise 3 (implement): output sizes
#
# Return Python or NumPy **integers**, using (6) and (7).


# %% nbgrader={"grade": false, "grade_id": "ch04_output_size", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="conv_naive"
def conv_output_size(n, kernel_size, stride=1, pad=0):
    """Number of outputs along one axis, eq. (6): floor((n + 2 pad - kernel_size) / stride) + 1 (an int)."""
    ### BEGIN SOLUTION
    return (n + 2 * pad - kernel_size) // stride + 1
    ### END SOLUTION


def pool_output_size(n, pool_size, stride):
    """Number of pooling outputs along one axis, no padding, eq. (7): floor((n - pool_size) / stride) + 1."""
    ### BEGIN SOLUTION
    return (n - pool_size) // stride + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_output_size_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Output sizes of a floor case and of seed 003's MNIST network (28 -> 28 -> 14 -> 14 -> 7)."""
import numbers

from backproplab.grading import check

for name, got, expected, hint in (
    (
        "conv_output_size(8, 3, 2, 0)",
        conv_output_size(8, 3, 2, 0),
        3,
        "floor((8 - 3) / 2) + 1 = 2 + 1 = 3: take the floor with // and keep the +1",
    ),
    (
        "conv_output_size(28, 3, 1, 1)",
        conv_output_size(28, 3, 1, 1),
        28,
        "half padding keeps the size",
    ),
    (
        "pool_output_size(28, 2, 2)",
        pool_output_size(28, 2, 2),
        14,
        "(28 - 2) // 2 + 1: did you forget the +1?",
    ),
    ("conv_output_size(14, 5, 1, 2)", conv_output_size(14, 5, 1, 2), 14, "(14 + 2*2 - 5) // 1 + 1"),
    ("pool_output_size(14, 2, 2)", pool_output_size(14, 2, 2), 7, "(14 - 2) // 2 + 1"),
):
    check(name, got, expected, name, hint=hint)
    check(
        f"type: {name}",
        isinstance(got, numbers.Integral),
        True,
        f"{name} returns an int",
        hint="a number of positions is a whole number; take the floor with // (eq. 6) so that it is an int",
    )
print("output sizes: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_output_size_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Output sizes on hidden cases: strides 2 and 3, padding 0-2, valid / half / full padding, windows that do not fit."""
import numbers

from backproplab.grading import record

### BEGIN HIDDEN TESTS
for n_h, k_h, s_h, p_h in (
    (7, 3, 2, 0),
    (10, 4, 3, 2),
    (11, 2, 3, 1),
    (9, 5, 1, 4),
    (6, 3, 1, 0),
    (13, 3, 2, 1),
    (5, 5, 1, 0),
):
    got_h = conv_output_size(n_h, k_h, s_h, p_h)
    record(
        f"conv_{n_h}_{k_h}_{s_h}_{p_h}",
        got_h,
        about=f"conv_output_size({n_h}, {k_h}, {s_h}, {p_h})",
    )
    record(
        f"type: conv_output_size({n_h}, {k_h}, {s_h}, {p_h})",
        isinstance(got_h, numbers.Integral),
        about=f"conv_output_size({n_h}, {k_h}, {s_h}, {p_h}) returns an int",
    )
for n_h, f_h, s_h in ((7, 2, 2), (9, 3, 2), (10, 2, 3), (5, 3, 3), (6, 6, 1)):
    got_h = pool_output_size(n_h, f_h, s_h)
    record(f"pool_{n_h}_{f_h}_{s_h}", got_h, about=f"pool_output_size({n_h}, {f_h}, {s_h})")
    recorded_h = record(
        f"type: pool_output_size({n_h}, {f_h}, {s_h})",
        isinstance(got_h, numbers.Integral),
        about=f"pool_output_size({n_h}, {f_h}, {s_h}) returns an int",
    )
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Errata: the pooling size without its +1 (Bilici, sec. 6.2, <i>Useful Practical Formulas</i>, Pooling Layer)</summary>
#
# The source prints $W_2 = (W_1 - F)/S$ and $H_2 = (H_1 - F)/S$, **without the $+1$**. For its
# own MNIST example ($28$, $F = S = 2$) that gives 13, but the text (rightly) says 14. The
# correct size is (7). Kara (sec. 2) prints the pooling formula with the $+1$.
#
# </details>
#
# <details><summary>Omission: the floor in the output size (Kara, Bilici, Lohiya)</summary>
#
# Kara (sec. 2), Bilici (*Stride*, *Useful Practical Formulas*) and Lohiya (sec. 8.2.1)
# write $(W - F + 2P)/S + 1$ without a floor, and none of them says what happens when it is
# not an integer. Von Hacht's eq. (2.23) has the floor and adds that the value before the
# floor is "preferably integer valued"; the original CS231n notes, which Lohiya follows,
# call hyperparameters that give a fraction invalid. Libraries take the floor, as (6) does.
#
# </details>
#
# <details><summary>Errata: the padding of the second convolution (Bilici, sec. 10, <i>A Practical Example: MNIST</i>)</summary>
#
# For the second convolution's $5\times5$ kernels the text says "our amount of zero padding
# is 1"; half padding for $K = 5$ is $(5 - 1)/2 = 2$, which is what its own computation
# $(14 - 5 + 2\times2)/1 + 1 = 14$ and its code (`padding=2`) use. With $P = 1$ the output
# would be $12 \times 12$ and the flattened size $32\cdot6\cdot6 = 1152$, not 1568.
#
# </details>
#
# ## 4. The convolution layer, forward
#
# A layer works on a batch of $N$ images with $C$ channels each, $x$ of shape
# $(N, C, H, W)$, and has $F$ filters $w$ of shape $(F, C, K_H, K_W)$ — each
# filter spans **all** input channels (Xia, sec. 2.4.4; Lohiya, sec. 8.2.1)
# — and one bias per filter, $b$ of shape $(F,)$ (a *tied* bias, Kara, sec. 2).
# With $\hat x$ the input zero-padded by $P$ on every side of both spatial axes,
# output channel $f$ is the cross-correlation (5) of every channel with its
# slice of the filter, summed over the channels, taken every $S$ positions:
#
# $$ \text{out}_{n f i j} = b_f + \sum_{c=0}^{C-1}\sum_{k=0}^{K_H-1}\sum_{l=0}^{K_W-1}
#    \hat x_{n,\,c,\,iS + k,\,jS + l}\; w_{f c k l}, \tag{8} $$
#
# for $0 \le i < H'$, $0 \le j < W'$ with $H' = \lfloor (H + 2P - K_H)/S\rfloor + 1$ and
# $W' = \lfloor (W + 2P - K_W)/S\rfloor + 1$ (eq. 6). The output has shape $(N, F, H', W')$.
# In words: for every output position $(i, j)$, take the window of $\hat x$ that
# starts at $(iS, jS)$ — shape $(N, C, K_H, K_W)$ — and take its dot product with
# each filter. This is what von Hacht's eq. (2.28) and Kara's eq. (30) describe
# (they write it as a convolution, with a flipped index; the layer learns $w$
# either way, so the flip only relabels the weights — see Exercise 12).
#
# ### Exercise 4 (implement): `conv_forward_naive`
#
# Loop over the output positions $(i, j)$ and compute all $N \times F$ dot
# products of a window at once (`np.einsum` or `np.tensordot`), or loop over
# everything — both are fine. Cache what the backward pass will need. You may
# compute in float64 or in float32: the tests allow for float32's rounding
# (a relative error of $10^{-5}$) in this layer and in its gradients.


# %% nbgrader={"grade": false, "grade_id": "ch04_conv_forward", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="conv_naive"
def conv_forward_naive(x, w, b, stride=1, pad=0):
    """Forward pass of a convolution layer (a cross-correlation, as in every DL library), eq. (8).

    x: (N, C, H, W) input; w: (F, C, KH, KW) filters; b: (F,) biases;
    stride: step S of the window along both axes; pad: P zeros added on every side of H and W.
    Returns (out, cache): out (N, F, H', W') with H' = (H + 2P - KH) // S + 1,
    W' = (W + 2P - KW) // S + 1; cache = (x, w, b, stride, pad).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = 1 + (H + 2 * pad - KH) // stride
    W_out = 1 + (W + 2 * pad - KW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for i in range(H_out):
        for j in range(W_out):
            # (N, C, KH, KW)
            window = x_pad[:, :, i * stride : i * stride + KH, j * stride : j * stride + KW]
            out[:, :, i, j] = np.einsum("nckl,fckl->nf", window, w) + b
    cache = (x, w, b, stride, pad)
    return out, cache
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_conv_forward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""conv_forward_naive: seed 003's worked example as a layer with a bias, and stride 2 on a non-square input (against SciPy)."""
import numpy as np

from backproplab.grading import check

out, _ = conv_forward_naive(
    np.arange(9.0).reshape(1, 1, 3, 3),
    np.array([[[[0.0, 1.0], [2.0, 3.0]]]]),
    np.array([0.5]),
    stride=1,
    pad=1,
)
worked_plus_bias = (
    np.array(
        [
            [0.0, 3.0, 8.0, 4.0],
            [9.0, 19.0, 25.0, 10.0],
            [21.0, 37.0, 43.0, 16.0],
            [6.0, 7.0, 8.0, 0.0],
        ]
    )
    + 0.5
)
check(
    "worked_example_plus_bias",
    out,
    worked_plus_bias[None, None],
    "the worked example as a layer: x (1, 1, 3, 3), w (1, 1, 2, 2), bias 0.5, pad 1",
    hint="H' = (H + 2P - KH) // S + 1 = 4; slide without flipping, and add b[f] to every output of filter f",
)
rng = np.random.default_rng(40)
x_v, w_v, b_v = rng.normal(size=(2, 3, 7, 5)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
out_v, _ = conv_forward_naive(x_v, w_v, b_v, stride=2, pad=1)
check(
    "out_stride2",
    out_v,
    reference_conv(x_v, w_v, b_v, stride=2, pad=1),
    "out for x (2, 3, 7, 5), w (4, 3, 3, 3), stride 2, pad 1",
    tol=1e-5,
    hint="the shape is (2, 4, 4, 3): H' = (7 + 2 - 3) // 2 + 1 = 4 and W' = (5 + 2 - 3) // 2 + 1 = 3; "
    "out[n, f, i, j] uses the window of the padded input starting at row i*S, column j*S",
)
print("conv_forward_naive: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_conv_forward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""conv_forward_naive on hidden inputs (non-square, odd and even kernels, strides 1-3, padding 0-2, N, C, F > 1); x unchanged."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4004)
cases_h = (
    ((2, 3, 7, 5), (4, 3, 3, 2), 2, 1),
    ((3, 2, 8, 6), (3, 2, 4, 3), 3, 2),
    ((2, 2, 5, 6), (3, 2, 5, 3), 1, 0),
    ((2, 3, 6, 9), (2, 3, 2, 2), 2, 0),
)
for x_shape_h, w_shape_h, s_h, p_h in cases_h:
    x_h, w_h, b_h = (
        rng_h.normal(size=x_shape_h),
        rng_h.normal(size=w_shape_h),
        rng_h.normal(size=w_shape_h[0]),
    )
    out_h, _ = conv_forward_naive(x_h, w_h, b_h, s_h, p_h)
    record(
        f"out_{x_shape_h}_{w_shape_h}_{s_h}_{p_h}",
        out_h,
        tol=1e-5,
        about=f"out for x {x_shape_h}, w {w_shape_h}, stride {s_h}, pad {p_h}",
    )
    recorded_h = record(
        "unchanged: x",
        x_h,
        about="x after conv_forward_naive (pad a copy, do not change x in place)",
    )
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The convolution layer, backward
#
# Let $\overline{\text{out}} = \partial L/\partial\,\text{out}$ (`dout`, shape
# $(N, F, H', W')$). Every output in (8) is an affine function of the weights
# and of the padded input, so the chain rule of chapter 02 (a sum over every
# output that a variable feeds, eq. 4 there) gives three sums over the outputs:
#
# $$ \frac{\partial L}{\partial b_f} = \sum_{n, i, j} \overline{\text{out}}_{nfij}, \tag{9} $$
#
# $$ \frac{\partial L}{\partial w_{fckl}} = \sum_{n, i, j} \overline{\text{out}}_{nfij}\;\hat x_{n,\,c,\,iS+k,\,jS+l}, \tag{10} $$
#
# $$ \frac{\partial L}{\partial \hat x_{n c p q}} = \sum_{f}\ \sum_{\substack{i, j,\,k, l:\\ iS + k = p,\ jS + l = q}} \overline{\text{out}}_{nfij}\; w_{fckl} , \tag{11} $$
#
# and $\partial L/\partial x$ is $\partial L/\partial\hat x$ with the padding cut off (the
# padded zeros are constants). In loop form: for each output position $(i, j)$,
#
# - $d w$ **accumulates** the window of $\hat x$ times $\overline{\text{out}}_{n f i j}$,
#   summed over the batch $n$ (every filter $f$ gets its own sum);
# - $d\hat x$ **accumulates**, in the window at $(iS, jS)$, every filter times its
#   $\overline{\text{out}}_{nfij}$, summed over $f$ — windows overlap, so use `+=`;
# - $d b_f$ sums $\overline{\text{out}}$ over $n$, $i$, $j$: one number per **filter**, because
#   $b_f$ is added at every position of feature map $f$.
#
# Eq. (10) is itself a cross-correlation: of the input with `dout` (Kara, eq. 35;
# von Hacht, eq. 2.30 and A.40). Eq. (11) is the subject of section 6. With one bias per
# filter (a *tied* bias, as in every library), (9) is a **sum** of the output gradient over
# the batch and the positions, not one number per position.
#
# ### Exercise 5 (implement): `conv_backward_naive`


# %% nbgrader={"grade": false, "grade_id": "ch04_conv_backward", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="conv_naive"
def conv_backward_naive(dout, cache):
    """Backward pass of conv_forward_naive, eqs. (9)-(11).

    dout: (N, F, H', W') upstream gradient; cache: what conv_forward_naive returned.
    Returns (dx, dw, db) with the shapes of x (N, C, H, W), w (F, C, KH, KW) and b (F,).
    """
    ### BEGIN SOLUTION
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    db = dout.sum(axis=(0, 2, 3))  # b[f] is added at every n, i, j of feature map f
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            d = dout[:, :, i, j]  # (N, F)
            dw += np.einsum("nf,nckl->fckl", d, x_pad[:, :, rows, cols])  # summed over the batch
            dx_pad[:, :, rows, cols] += np.einsum("nf,fckl->nckl", d, w)  # summed over the filters
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]  # the padding is not part of x
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_conv_backward_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""conv_backward_naive: db by eq. (9), dw and dx against float64 numerical gradients of eq. (8) (stride 1, pad 1)."""
import numpy as np

from backproplab.gradcheck import numerical_gradient
from backproplab.grading import check

rng = np.random.default_rng(41)
x_v, w_v, b_v = rng.normal(size=(2, 2, 4, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
out_v, cache_v = conv_forward_naive(x_v, w_v, b_v, 1, 1)
dout_v = rng.normal(size=(2, 3, 4, 5))
dx_v, dw_v, db_v = conv_backward_naive(dout_v, cache_v)
check(
    "db",
    db_v,
    dout_v.sum(axis=(0, 2, 3)),
    "db",
    hint="eq. (9): one bias per filter, sum dout over n, i and j",
)
check(
    "dw",
    dw_v,
    numerical_gradient(lambda w: reference_conv(x_v, w, b_v, 1, 1), w_v.copy(), dout_v),
    "dw against a numerical gradient of eq. (8)",
    tol=1e-5,
    hint="eq. (10): dw has the shape of w, summed over the batch",
)
check(
    "dx",
    dx_v,
    numerical_gradient(lambda x: reference_conv(x, w_v, b_v, 1, 1), x_v.copy(), dout_v),
    "dx against a numerical gradient of eq. (8)",
    tol=1e-5,
    hint="eq. (11): windows overlap, so accumulate with +=; cut the padding off, dx has the shape of x",
)
print("conv_backward_naive: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_conv_backward_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""conv_backward_naive on hidden cases (strides 2 and 3, padding 0-2, odd and even non-square kernels): dx, dw, db."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4005)
for x_shape_h, w_shape_h, s_h, p_h in (
    ((2, 3, 7, 5), (2, 3, 3, 2), 2, 1),
    ((2, 2, 8, 7), (3, 2, 2, 3), 3, 2),
    ((3, 2, 5, 4), (2, 2, 4, 4), 1, 0),
):
    x_h, w_h, b_h = (
        rng_h.normal(size=x_shape_h),
        rng_h.normal(size=w_shape_h),
        rng_h.normal(size=w_shape_h[0]),
    )
    _, cache_h = conv_forward_naive(x_h, w_h, b_h, s_h, p_h)
    out_shape_h = (
        x_shape_h[0],
        w_shape_h[0],
        (x_shape_h[2] + 2 * p_h - w_shape_h[2]) // s_h + 1,
        (x_shape_h[3] + 2 * p_h - w_shape_h[3]) // s_h + 1,
    )
    dout_h = rng_h.normal(size=out_shape_h)
    dx_h, dw_h, db_h = conv_backward_naive(dout_h, cache_h)
    tag_h = f"{x_shape_h}_{w_shape_h}_{s_h}_{p_h}"
    case_h = f"x {x_shape_h}, w {w_shape_h}, stride {s_h}, pad {p_h}"
    record(f"dx_{tag_h}", dx_h, tol=1e-5, about=f"dx for {case_h}")
    record(f"dw_{tag_h}", dw_h, tol=1e-5, about=f"dw for {case_h}")
    recorded_h = record(f"db_{tag_h}", db_h, about=f"db for {case_h}")
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Errata: the gradient of a tied bias (Kara, eq. 36; von Hacht, eq. 2.31 against A.43–A.45)</summary>
#
# Kara's eq. (36) writes $\partial C/\partial b_{a,b} = \delta_{a,b}$, one bias per output *position*
# (an "untied" bias; it says "we used untied bias here"), yet it counts
# "$7\times(3\times3 + 1) = 70$ parameters with tied bias", one bias per filter. Von Hacht
# contradicts himself: his eq. (2.31) writes $\partial L/\partial b^l_{jk} = \delta^l_{jk}$, one bias per
# position, while his appendix (eqs. A.43–A.45) takes one bias $b^l$ per filter and sums
# $\delta^l_{j'k'}$ over all positions — the tied bias of every library and of the thesis' own
# parameter counts (section 9). With a tied bias, (9) holds, as the appendix has it.
#
# </details>
#
# <details><summary>Errata: where the derivative is taken (von Hacht, eq. 2.29; Kara, eq. 33)</summary>
#
# The propagated error is printed as $\delta^{l-1} = \delta^l * \mathrm{rot}_{180°}(w^l)\, f'(z^l)$;
# the derivative must be taken at the layer it belongs to, $f'(z^{l-1})$, as the appendix's
# eq. (A.34) has it. (Eq. A.37 also writes $a^{l}$ for $a^{l-1}$.) Kara's eq. (33) writes a
# single $\partial z^{l+1}_{x,y}/\partial z^l_{x,y}$ where a sum over all $(x', y')$ is meant; its next
# line is right.
#
# </details>
#
# ## 6. The backward pass is a convolution with the rotated kernel
#
# Take one input channel and one filter, stride 1 (we add the stride below).
# In (11) put $k = p - i$, $l = q - j$:
#
# $$ \frac{\partial L}{\partial \hat x_{pq}} = \sum_{i, j} \overline{\text{out}}_{ij}\; w_{p - i,\, q - j}
#    = (\overline{\text{out}} * w)_{pq} , \tag{12} $$
#
# a **full convolution** (1)/(4) of the output gradient with the kernel — the sum
# runs over every $(i, j)$ for which $w_{p-i,q-j}$ exists, so the kernel sticks out
# of $\overline{\text{out}}$ by up to $K - 1$ on each side. By section 2, a convolution
# is a cross-correlation with the rotated kernel, so
#
# $$ d\hat x = \big(\overline{\text{out}}\ \text{zero-padded by } K - 1\big) \star \mathrm{ROT180}(w) , \tag{13} $$
#
# which is Kara's eq. (34) and von Hacht's eq. (2.29): the forward pass
# *cross-correlates* with $w$, the backward pass *convolves* with it. Von Hacht's
# 1-D colour picture says the same thing: going back, the weights are met in the
# reverse order. With channels, output channel $f$ of the forward pass becomes an
# *input* channel of the backward one: $d\hat x_{n c} = \sum_f (\ldots)$, so the
# filter bank for (13) is $\mathrm{ROT180}(w)$ with the axes $F$ and $C$ swapped, shape $(C, F, K_H, K_W)$.
#
# **Stride.** With stride $S$, output $(i, j)$ sits at input position $(iS, jS)$.
# Spread $\overline{\text{out}}$ back to that grid — insert $S - 1$ zeros between its
# entries ("dilate" it to $(H' - 1)S + 1$ rows) — and (12)–(13) hold as for stride 1.
# The full correlation then has $(H' - 1)S + K_H$ rows; when the floor in (6) dropped
# the last rows of $\hat x$ (no window reached them), their gradient is 0. Cut
# off the padding $P$ and you have $dx$.
#
# ### Exercise 6 (implement): ROT180, and $dx$ as a convolution
#
# Write `rot180`, and `conv_backward_dx_rot180`, which computes $dx$ by (13):
# dilate `dout` by the stride, pad it with $K_H - 1$ and $K_W - 1$ zeros on every
# side (full padding), cross-correlate it with the rotated, axis-swapped filters
# **using your own `conv_forward_naive`** (stride 1, no padding, zero bias), put the
# result into an array of the padded input's shape, and cut the padding off.
# The test compares it with your loop version from Exercise 5.


# %% nbgrader={"grade": false, "grade_id": "ch04_rot180", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rot180(w):
    """Rotate kernels by 180 degrees in their last two axes: out[..., k, l] = w[..., KH-1-k, KW-1-l]."""
    ### BEGIN SOLUTION
    return w[..., ::-1, ::-1]
    ### END SOLUTION


def conv_backward_dx_rot180(dout, w, x_shape, stride=1, pad=0):
    """dx of a convolution layer as a full convolution of dout with the rotated kernel, eq. (13).

    dout: (N, F, H', W'); w: (F, C, KH, KW); x_shape: (N, C, H, W) of the layer's input;
    stride, pad: those of the forward pass. Returns dx: (N, C, H, W).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    dilated = np.zeros((N, F, (H_out - 1) * stride + 1, (W_out - 1) * stride + 1))
    dilated[:, :, ::stride, ::stride] = dout  # each output back at its input position
    full = np.pad(dilated, ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))  # full padding
    filters = rot180(w).transpose(1, 0, 2, 3)  # (C, F, KH, KW): output channels become inputs
    # ((H'-1)S + KH, (W'-1)S + KW)
    dx_part, _ = conv_forward_naive(full, filters, np.zeros(C), 1, 0)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    dx_pad[:, :, : dx_part.shape[2], : dx_part.shape[3]] = dx_part  # rows no window reached stay 0
    return dx_pad[:, :, pad : pad + H, pad : pad + W]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_rot180_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""rot180 of a 2x3 kernel; dx from eq. (13) for stride 1, pad 1, against a float64 numerical gradient of eq. (8)."""
import numpy as np

from backproplab.gradcheck import numerical_gradient
from backproplab.grading import check

check(
    "rot180_2x3",
    rot180(np.arange(6.0).reshape(2, 3)),
    np.array([[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]),
    "rot180([[0, 1, 2], [3, 4, 5]])",
    hint="reverse the rows and the columns, w[..., ::-1, ::-1]; a transpose is not a rotation",
)
rng = np.random.default_rng(42)
x_v, w_v = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 3, 3))
dout_v = rng.normal(size=(2, 2, 5, 4))
check(
    "dx_rot180",
    conv_backward_dx_rot180(dout_v, w_v, x_v.shape, 1, 1),
    numerical_gradient(lambda x: reference_conv(x, w_v, np.zeros(2), 1, 1), x_v.copy(), dout_v),
    "dx from eq. (13) for x (2, 3, 5, 4), w (2, 3, 3, 3), stride 1, pad 1",
    tol=1e-5,
    hint="pad dout with K - 1 zeros (full padding), correlate with ROT180(w) transposed to (C, F, KH, KW), "
    "and cut the padding off at the end",
)
print("rot180, conv_backward_dx_rot180: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_rot180_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""rot180 on a hidden non-square filter bank; dx from eq. (13) with strides 2 and 3, padding 0-2, even kernels."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4006)
bank_h = rng_h.normal(size=(2, 3, 2, 4))
rot_h = record("rot180_bank", rot180(bank_h), about="rot180 of a (2, 3, 2, 4) filter bank")
for x_shape_h, w_shape_h, s_h, p_h in (
    ((2, 2, 7, 6), (3, 2, 3, 3), 2, 1),
    ((2, 3, 8, 7), (2, 3, 2, 4), 3, 2),
    ((3, 2, 5, 6), (2, 2, 4, 2), 1, 0),
    ((2, 2, 6, 5), (2, 2, 3, 3), 2, 0),
):
    x_h, w_h = (rng_h.normal(size=x_shape_h), rng_h.normal(size=w_shape_h))
    out_shape_h = (
        x_shape_h[0],
        w_shape_h[0],
        (x_shape_h[2] + 2 * p_h - w_shape_h[2]) // s_h + 1,
        (x_shape_h[3] + 2 * p_h - w_shape_h[3]) // s_h + 1,
    )
    dout_h = rng_h.normal(size=out_shape_h)
    tag_h = f"{x_shape_h}_{w_shape_h}_{s_h}_{p_h}"
    dx_h = record(
        f"dx_{tag_h}",
        conv_backward_dx_rot180(dout_h, w_h, x_shape_h, s_h, p_h),
        tol=1e-5,
        about=f"dx by eq. (13) for x {x_shape_h}, w {w_shape_h}, stride {s_h}, pad {p_h}",
    )
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Pooling, forward and backward
#
# A pooling layer has no parameters. It replaces every $F \times F$ window
# (stride $S$, here without padding) of every channel by one number:
#
# $$ \text{max pool:}\ \ \text{out}_{ncij} = \max_{0 \le k, l < F} x_{n,\,c,\,iS+k,\,jS+l}, \qquad
#    \text{average pool:}\ \ \text{out}_{ncij} = \frac{1}{F^2}\sum_{0 \le k, l < F} x_{n,\,c,\,iS+k,\,jS+l}, \tag{14} $$
#
# with the output size (7). Channels and images are pooled independently.
#
# **Backward.** The average is linear with weight $1/F^2$ on each element, so
# every element of the window receives $\overline{\text{out}}_{ncij}/F^2$. The maximum
# is, locally, the selection of one element: its derivative is 1 for the element
# that wins and 0 for the others (von Hacht, eq. 2.37). If windows **overlap**
# ($S < F$), an element can be in several windows and its gradients add (`+=`).
# If $S > F$, some elements are in no window and get 0.
#
# **Ties.** When two elements of a window share the maximum, the max is not
# differentiable there, and one must choose. We follow PyTorch: the gradient goes
# to the **first** maximum in row-major order (scan the window row by row,
# left to right; `np.argmax` of the flattened window does exactly this). Ties are
# rare with real-valued activations, but common after a ReLU (many exact zeros)
# or with images of integers. Sending $\overline{\text{out}}$ to *every* tied element
# would count it twice: the gradient would no longer be that of any function.
#
# Windows overlap exactly when $S < F$; with $S = F$ (the usual $2\times2$ window with
# stride 2) they tile the input. Whatever the sizes, loop over the *output* positions of
# (14), as the size (7) gives them, never over the input rows.
#
# ### Exercise 7 (implement): max pooling, forward and backward


# %% nbgrader={"grade": false, "grade_id": "ch04_max_pool", "locked": false, "schema_version": 3, "solution": true, "task": false} provided="conv_naive"
def max_pool_forward_naive(x, pool_size=2, stride=2):
    """Max pooling, eq. (14), no padding.

    x: (N, C, H, W); pool_size: F (F x F windows); stride: S.
    Returns (out, cache): out (N, C, H', W') with H' = (H - F) // S + 1, W' = (W - F) // S + 1;
    cache = (x, pool_size, stride).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    H_out = (H - pool_size) // stride + 1
    W_out = (W - pool_size) // stride + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[
                :, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size
            ]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out, (x, pool_size, stride)
    ### END SOLUTION


def max_pool_backward_naive(dout, cache):
    """Backward pass of max pooling: each window's gradient goes to its maximum.

    dout: (N, C, H', W'); cache from max_pool_forward_naive. Returns dx: (N, C, H, W).
    Ties: the gradient goes to the first maximum of the window in row-major order (as in PyTorch).
    """
    ### BEGIN SOLUTION
    x, pool_size, stride = cache
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + pool_size)
            cols = slice(j * stride, j * stride + pool_size)
            window = x[:, :, rows, cols].reshape(N, C, -1)
            first = window.argmax(axis=2)  # the first maximum in row-major order
            mask = np.zeros_like(window)
            np.put_along_axis(mask, first[:, :, None], 1.0, axis=2)
            dx[:, :, rows, cols] += (mask * dout[:, :, i, j][:, :, None]).reshape(
                N, C, pool_size, pool_size
            )
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_max_pool_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Max pooling 2x2 stride 2 on a 4x4 example by hand: forward, backward, and a tie."""
import numpy as np

from backproplab.grading import check

x4 = np.array(
    [[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, 1.0, 7.0, 7.0], [2.0, 2.0, 6.0, 1.0]]
).reshape(1, 1, 4, 4)
out4, cache4 = max_pool_forward_naive(x4, 2, 2)
check(
    "out",
    out4,
    np.array([[[[4.0, 5.0], [2.0, 7.0]]]]),
    "max pool of the 4x4 example, 2x2 windows, stride 2",
    hint="the output is (1, 1, 2, 2): (4 - 2) // 2 + 1 = 2",
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
    max_pool_backward_naive(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache4),
    expected4,
    "dx of the 4x4 example for dout = [[1, 2], [3, 4]]",
    hint="only the winner of each window gets its dout; the 2s of the bottom-left window and the 7s "
    "of the bottom-right one are ties: the first maximum in row-major order wins",
)
print("max pooling: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_max_pool_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""Max pooling on hidden non-square batches (overlapping windows, gaps, stride 3), and ties."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4007)
for x_shape_h, f_h, s_h in (
    ((2, 3, 7, 5), 2, 2),
    ((2, 2, 7, 8), 3, 2),
    ((3, 2, 8, 7), 2, 3),
    ((2, 2, 9, 6), 3, 3),
):
    x_h = rng_h.normal(size=x_shape_h)
    tag_h = f"{x_shape_h}_{f_h}_{s_h}"
    out_h, cache_h = max_pool_forward_naive(x_h, f_h, s_h)
    record(f"out_{tag_h}", out_h, about=f"out for x {x_shape_h}, {f_h}x{f_h} windows, stride {s_h}")
    dout_h = rng_h.normal(size=out_h.shape)
    dx_h = record(
        f"dx_{tag_h}",
        max_pool_backward_naive(dout_h, cache_h),
        about=f"dx for x {x_shape_h}, {f_h}x{f_h} windows, stride {s_h}",
    )
ties_h = np.array([[5.0, 5.0, 1.0, 2.0, 2.0], [5.0, 0.0, 2.0, 2.0, 1.0], [3.0, 3.0, 3.0, 3.0, 0.0]])
x_t_h = np.stack([ties_h, -ties_h])[None]
_, cache_t_h = max_pool_forward_naive(x_t_h, 2, 1)
dx_t_h = record(
    "dx_ties",
    max_pool_backward_naive(np.ones((1, 2, 2, 4)), cache_t_h),
    about="dx with tied maxima in overlapping 2x2 windows, stride 1",
)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8 (implement): average pooling, forward and backward


# %% nbgrader={"grade": false, "grade_id": "ch04_avg_pool", "locked": false, "schema_version": 3, "solution": true, "task": false}
def avg_pool_forward_naive(x, pool_size=2, stride=2):
    """Average pooling, eq. (14), no padding.

    x: (N, C, H, W); pool_size: F; stride: S.
    Returns (out, cache): out (N, C, (H - F) // S + 1, (W - F) // S + 1); cache = (x.shape, pool_size, stride).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    H_out = (H - pool_size) // stride + 1
    W_out = (W - pool_size) // stride + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[
                :, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size
            ].mean(axis=(2, 3))
    return out, (x.shape, pool_size, stride)
    ### END SOLUTION


def avg_pool_backward_naive(dout, cache):
    """Backward pass of average pooling: each element of a window gets dout / F**2.

    dout: (N, C, H', W'); cache from avg_pool_forward_naive. Returns dx: (N, C, H, W).
    """
    ### BEGIN SOLUTION
    x_shape, pool_size, stride = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for i in range(H_out):
        for j in range(W_out):
            share = dout[:, :, i, j][:, :, None, None] / pool_size**2  # each element weighs 1 / F^2
            dx[:, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size] += (
                share
            )
    return dx
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_avg_pool_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""Average pooling 2x2 stride 2 on the 4x4 example: forward and backward by hand."""
import numpy as np

from backproplab.grading import check

x4 = np.array(
    [[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, 1.0, 7.0, 7.0], [2.0, 2.0, 6.0, 1.0]]
).reshape(1, 1, 4, 4)
out4, cache4 = avg_pool_forward_naive(x4, 2, 2)
check(
    "out",
    out4,
    np.array([[[[2.5, 2.0], [1.25, 5.25]]]]),
    "average pool of the 4x4 example, 2x2 windows, stride 2",
    hint="the output is (1, 1, 2, 2): (4 - 2) // 2 + 1 = 2",
)
check(
    "dx",
    avg_pool_backward_naive(np.array([[[[4.0, 8.0], [-4.0, 2.0]]]]), cache4),
    (np.kron([[4.0, 8.0], [-4.0, 2.0]], np.ones((2, 2))) / 4)[None, None],
    "dx of the 4x4 example",
    hint="every element of a 2x2 window gets dout / 4",
)
print("average pooling: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_avg_pool_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""Average pooling on hidden non-square batches (overlapping windows, gaps, stride 3)."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4008)
for x_shape_h, f_h, s_h in (
    ((2, 3, 7, 5), 2, 2),
    ((2, 2, 7, 8), 3, 2),
    ((3, 2, 8, 7), 2, 3),
    ((2, 2, 9, 6), 3, 3),
):
    x_h = rng_h.normal(size=x_shape_h)
    tag_h = f"{x_shape_h}_{f_h}_{s_h}"
    out_h, cache_h = avg_pool_forward_naive(x_h, f_h, s_h)
    record(f"out_{tag_h}", out_h, about=f"out for x {x_shape_h}, {f_h}x{f_h} windows, stride {s_h}")
    dout_h = rng_h.normal(size=out_h.shape)
    dx_h = record(
        f"dx_{tag_h}",
        avg_pool_backward_naive(dout_h, cache_h),
        about=f"dx for x {x_shape_h}, {f_h}x{f_h} windows, stride {s_h}",
    )
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Errata: when pooling windows overlap (von Hacht, sec. 2.3.3 and eq. 2.36)</summary>
#
# "If the stride size … is larger than the rectangular side length then the regions won't
# overlap otherwise they will": with stride **equal** to the side (the usual $2\times2$,
# stride 2) they do not overlap either; the regions overlap exactly when $S < r$.
# Eq. (2.36) lists the window from $js_y - p_y$ to $js_y + r_y - p_y$, which is $r_y + 1$
# elements; it ends at $js_y + r_y - 1 - p_y$.
#
# </details>
#
# <details><summary>Errata: the <code>pool2d</code> code (Bilici, sec. 4, <i>Pooling</i>)</summary>
#
# The function never returns `feature_map`, and when a side is not a multiple of the
# kernel (e.g. 5 rows, kernel 2) the loop visits row 4 and writes to row `int(4/2) = 2` of
# an array with `int(5/2) = 2` rows: an `IndexError`. Range over the *output* positions, as
# in (14).
#
# </details>
#
# ## 8. Equivariance to translation, and what pooling adds
#
# Shift an image by $t$ pixels, $(L_t x)_{p} = x_{p - t}$. Von Hacht (eqs. 2.32–2.35)
# shows that convolution **commutes** with the shift: substitute $y' = y - t$ in the
# sum and $[L_t x] * w = L_t[x * w]$ — shift then convolve equals convolve then
# shift (**equivariance**, $f(L_t x) = L_t f(x)$: the output changes in the same way as the
# input), as long as nothing falls off the border. The same holds for our
# cross-correlation (8) with stride 1. Pooling then makes the representation
# **approximately invariant** to small shifts ($f(L_t x) \approx f(x)$: the output does not
# change): a maximum over a
# $2\times2$ window often does not change when its winner moves by one pixel
# within the window (von Hacht, sec. 2.3.3; Xia, sec. 2.4.3; Bilici, *Pooling*).
#
# The cell below tests both with *your* layers. First an object in the middle of
# a blank image, shifted by $(2, 3)$ pixels: the convolution output shifts
# exactly. Then the photo of section 10, shifted by one pixel: how much do the
# feature maps change after the convolution (with a ReLU), and how much after a
# $2\times2$ max pool? For a fair comparison of the pooled maps we shift by
# 2 pixels too: 2 is a multiple of the pooling stride, so the pooled map is then
# *exactly* shifted by one position — pooling is equivariant only to shifts by
# multiples of its stride. Expect the pooled maps to change clearly less than
# the convolution maps under a one-pixel shift, but not zero: a thin edge that
# moves across the border of a pooling window changes its window's maximum, so
# the invariance is only approximate, and it grows with the window size and
# with more layers of pooling.

# %%
rng = np.random.default_rng(8)
blank = np.zeros((1, 1, 20, 24))
blank[0, 0, 6:11, 7:12] = rng.uniform(0.5, 1.0, size=(5, 5))  # an object well inside the image
moved = np.roll(blank, (2, 3), axis=(2, 3))  # shifted by (2, 3); nothing wraps around
w_eq = rng.normal(size=(1, 1, 3, 3))
y_blank, _ = conv_forward_naive(blank, w_eq, np.zeros(1), 1, 1)
y_moved, _ = conv_forward_naive(moved, w_eq, np.zeros(1), 1, 1)
print(
    "equivariance: max |conv(shift x) - shift(conv x)| =",
    np.abs(y_moved - np.roll(y_blank, (2, 3), axis=(2, 3))).max(),
)

photo = load_photo()[None, None]  # (1, 1, 75, 64), grey levels in [0, 1]
edge = np.array(CANONICAL_KERNELS["Sobel vertical"], dtype=float)[None, None]


def features(img):
    """ReLU(conv), then a 2x2 max pool (stride 2), with your layers."""
    conv = np.maximum(conv_forward_naive(img, edge, np.zeros(1), 1, 1)[0], 0.0)
    return conv, max_pool_forward_naive(conv, 2, 2)[0]


def change(a, b):
    """Relative change between two feature maps, interior only (away from the wrap-around of np.roll)."""
    a, b = a[..., 2:-2, 2:-2], b[..., 2:-2, 2:-2]
    return np.abs(a - b).sum() / np.abs(a).sum()


conv0, pool0 = features(photo)
conv1, pool1 = features(np.roll(photo, 1, axis=3))  # shifted right by one pixel
conv2, pool2 = features(np.roll(photo, 2, axis=3))  # by two pixels
print(
    f"shift by 1 pixel: conv maps change by {change(conv0, conv1):.0%}, max-pooled maps by {change(pool0, pool1):.0%}"
)
print(
    f"shift by 2 pixels, pooled maps compared after shifting back by one position: "
    f"{change(np.roll(pool0, 1, axis=3), pool2):.1%}"
)

fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
for ax, image, title in zip(
    axes,
    (photo[0, 0], conv0[0, 0], pool0[0, 0]),
    ("input 75x64", "ReLU(conv, Sobel vertical) 75x64", "after 2x2 max pool 37x32"),
):
    ax.imshow(image, cmap="gray")
    ax.set(title=title, xlabel="column", ylabel="row")
fig.suptitle("feature maps of the photo with your conv_forward_naive and max_pool_forward_naive")
show_figure(
    fig,
    "Three grey images: the photo (75x64), the ReLU of its convolution with the vertical Sobel "
    "kernel, bright on vertical edges (75x64), and that map after 2x2 max pooling (37x32).",
)

# %% [markdown]
# <details><summary>Errata: what "equivariant" means (Xia, sec. 2.4.3)</summary>
#
# The footnote says equivariant "means roughly unchanged in terms of distortion".
# Equivariant means the output changes *in the same way* as the input
# ($f(L_t x) = L_t f(x)$); invariant means it does not change ($f(L_t x) = f(x)$). The
# section's bullet points have it right.
#
# </details>
#
# ## 9. How big is a CNN? Shapes and parameters, layer by layer
#
# A convolution layer with $F$ filters of $K \times K$ on $C$ input channels has
# $F\,(C K^2 + 1)$ parameters — $C K^2$ weights and one bias per filter — *whatever
# the image size*. A fully connected layer from $n$ inputs to $M$ outputs has
# $(n + 1) M$: it first flattens a $(C, H, W)$ input to $n = CHW$ numbers (Bilici,
# *Fully Connected Layers and Flattening*). A batch-norm layer (chapter 03) has a
# scale $\gamma$ and a shift $\beta$ per channel, $2C$ (its running mean and
# variance are statistics, not learned). Pooling, ReLU, dropout and softmax have none.
#
# Kara (sec. 2) checks the idea on a $50\times50$ grey image with 7 filters
# of $3\times3$: $7\,(3\cdot3 + 1) = 70$ parameters, $7\,(3\cdot3\cdot3 + 1) = 196$ for
# a colour image, and a $48\times48$ output ($(50 - 3)/1 + 1$). All three are right.
#
# ### Exercise 9 (implement): a layer table
#
# Write `layer_table`, which walks through a list of layer specifications and
# returns, for every layer, its output shape (for one example, without the batch
# axis) and its number of learnable parameters. Use your functions of Exercise 3.
# The cell after the tests uses it to reproduce the architectures of von Hacht
# (Tables 3.2–3.5) and Bilici's MNIST network.


# %% nbgrader={"grade": false, "grade_id": "ch04_layer_table", "locked": false, "schema_version": 3, "solution": true, "task": false}
def layer_table(input_shape, layers):
    """Output shape and number of learnable parameters of every layer of a network.

    input_shape: (C, H, W) of one example.
    layers: a list of tuples, one per layer:
        ("conv", F, K, S, P)  F filters of K x K over all input channels, stride S, zero padding P
        ("pool", K, S)        max or average pooling, K x K windows, stride S, no padding
        ("bn",)               batch normalisation: a gamma and a beta per channel (or per unit)
        ("fc", M)             fully connected to M units (a (C, H, W) input is flattened first)
        ("relu",), ("dropout", p), ("softmax",)   elementwise: same shape, no parameters
    Returns a list of (output_shape, num_params) pairs, one per layer; output_shape is a tuple,
    (C', H', W') after conv, pool, bn, relu..., (M,) after fc.
    """
    ### BEGIN SOLUTION
    shape, rows = tuple(input_shape), []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, F, K, S, P = layer
            C, H, W = shape
            shape = (F, conv_output_size(H, K, S, P), conv_output_size(W, K, S, P))
            params = F * (C * K * K + 1)  # C*K*K weights and one bias per filter
        elif kind == "pool":
            _, K, S = layer
            C, H, W = shape
            shape, params = (C, pool_output_size(H, K, S), pool_output_size(W, K, S)), 0
        elif kind == "bn":
            params = 2 * shape[0]  # gamma and beta per channel
        elif kind == "fc":
            n_in = int(np.prod(shape))  # flatten
            shape, params = (layer[1],), (n_in + 1) * layer[1]
        elif kind in ("relu", "dropout", "softmax"):
            params = 0
        else:
            raise ValueError(f"unknown layer {layer!r}")
        rows.append((shape, params))
    return rows
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_layer_table_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""layer_table on seed 000's example (50x50, 7 filters of 3x3: 70 and 196 parameters) and a conv-pool-fc stack."""
from backproplab.grading import check

check(
    "grey",
    layer_table((1, 50, 50), [("conv", 7, 3, 1, 0)]),
    [((7, 48, 48), 70)],
    "layer_table((1, 50, 50), [7 filters 3x3]): output shape and parameters",
    hint="(50 - 3) // 1 + 1 = 48; 7 * (1*3*3 + 1): one bias per filter",
)
check(
    "colour",
    layer_table((3, 50, 50), [("conv", 7, 3, 1, 0)]),
    [((7, 48, 48), 196)],
    "layer_table((3, 50, 50), [7 filters 3x3]): output shape and parameters",
    hint="each filter spans all 3 channels: 7 * (3*3*3 + 1)",
)
rows = layer_table((2, 9, 8), [("conv", 4, 3, 1, 1), ("relu",), ("pool", 2, 2), ("fc", 5)])
check("stack_length", len(rows), 4, "the number of rows for 4 layers")
for k, row in enumerate([((4, 9, 8), 76), ((4, 9, 8), 0), ((4, 4, 4), 0), ((5,), 325)]):
    check(
        f"stack_layer{k}",
        rows[k],
        row,
        f"(output shape, parameters) of layer {k} of conv-relu-pool-fc on (2, 9, 8)",
        hint="pool: (9 - 2) // 2 + 1 = 4; fc: (4*4*4 + 1) * 5, the flattened input plus a bias",
    )
print("layer_table: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_layer_table_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""layer_table on seed 001's Tables 3.2-3.5 and seed 003's MNIST network (shapes of every layer and total parameters)."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
block_h = [("relu",), ("pool", 2, 2)]
nets_h = {
    "table_3_2": (
        (1, 28, 28),
        [("conv", 32, 5, 1, 2)]
        + block_h
        + [("conv", 64, 5, 1, 2)]
        + block_h
        + [("fc", 1024), ("relu",), ("dropout", 0.5), ("fc", 10), ("softmax",)],
        3274634,
        (3136,),
    ),
    "table_3_3": (
        (3, 32, 32),
        [("conv", 32, 5, 1, 2)]
        + block_h
        + [("conv", 64, 5, 1, 2)]
        + block_h
        + [("fc", 1024), ("relu",), ("dropout", 0.5), ("fc", 10), ("softmax",)],
        4259274,
        (4096,),
    ),
    "table_3_4": (
        (3, 32, 32),
        [("conv", 96, 5, 1, 2)]
        + block_h
        + [("conv", 192, 5, 1, 2)]
        + block_h
        + [
            ("fc", 2048),
            ("relu",),
            ("dropout", 0.5),
            ("fc", 2048),
            ("relu",),
            ("dropout", 0.5),
            ("fc", 10),
            ("softmax",),
        ],
        29853002,
        (12288,),
    ),
    "table_3_5": (
        (3, 32, 32),
        [("conv", 96, 5, 1, 2), ("relu",), ("conv", 96, 5, 1, 2)]
        + block_h
        + [("conv", 192, 5, 1, 2), ("relu",), ("conv", 192, 5, 1, 2)]
        + block_h
        + [
            ("fc", 2048),
            ("relu",),
            ("dropout", 0.5),
            ("fc", 2048),
            ("relu",),
            ("dropout", 0.5),
            ("fc", 10),
            ("softmax",),
        ],
        31005290,
        (12288,),
    ),
    "seed_003": (
        (1, 28, 28),
        [
            ("conv", 8, 3, 1, 1),
            ("bn",),
            ("relu",),
            ("pool", 2, 2),
            ("conv", 32, 5, 1, 2),
            ("bn",),
            ("relu",),
            ("pool", 2, 2),
            ("fc", 600),
            ("relu",),
            ("fc", 10),
        ],
        954002,
        (1568,),
    ),
}
for name_h, (in_h, spec_h, total_h, flat_h) in nets_h.items():
    rows_h = record(f"rows_{name_h}", layer_table(in_h, spec_h))
    shapes_h = [tuple((builtins.int(v_h) for v_h in r_h[0])) for r_h in rows_h]
    last_pool_h = builtins.max((k_h for k_h, s_h in enumerate(spec_h) if s_h[0] == "pool"))
    flat_got_h = (builtins.int(np.prod(shapes_h[last_pool_h])),)
    record(f"flattened size before the first fc layer of {name_h}", flat_got_h)
    record(
        f"total number of parameters of {name_h}",
        builtins.sum((builtins.int(r_h[1]) for r_h in rows_h)),
    )
    record(f"output shape of {name_h}", shapes_h[-1])
### END HIDDEN TESTS

# %%
block = [("relu",), ("pool", 2, 2)]
head_a = [("fc", 1024), ("relu",), ("dropout", 0.5), ("fc", 10), ("softmax",)]
head_b = [
    ("fc", 2048),
    ("relu",),
    ("dropout", 0.5),
    ("fc", 2048),
    ("relu",),
    ("dropout", 0.5),
    ("fc", 10),
    ("softmax",),
]
networks = {
    "von Hacht, Table 3.2 (MNIST)": (
        (1, 28, 28),
        [("conv", 32, 5, 1, 2)] + block + [("conv", 64, 5, 1, 2)] + block + head_a,
    ),
    "von Hacht, Table 3.3 (CIFAR-10 A)": (
        (3, 32, 32),
        [("conv", 32, 5, 1, 2)] + block + [("conv", 64, 5, 1, 2)] + block + head_a,
    ),
    "von Hacht, Table 3.4 (CIFAR-10 B)": (
        (3, 32, 32),
        [("conv", 96, 5, 1, 2)] + block + [("conv", 192, 5, 1, 2)] + block + head_b,
    ),
    "von Hacht, Table 3.5 (CIFAR-10 C)": (
        (3, 32, 32),
        [("conv", 96, 5, 1, 2), ("relu",), ("conv", 96, 5, 1, 2)]
        + block
        + [("conv", 192, 5, 1, 2), ("relu",), ("conv", 192, 5, 1, 2)]
        + block
        + head_b,
    ),
    "Bilici, MNIST (Conv-BN-ReLU-Pool x2, FC 1568-600-10)": (
        (1, 28, 28),
        [
            ("conv", 8, 3, 1, 1),
            ("bn",),
            ("relu",),
            ("pool", 2, 2),
            ("conv", 32, 5, 1, 2),
            ("bn",),
            ("relu",),
            ("pool", 2, 2),
            ("fc", 600),
            ("relu",),
            ("fc", 10),
        ],
    ),
}
for title, (input_shape, spec) in networks.items():
    print(f"\n{title}: input {input_shape}")
    conv_total = fc_total = 0
    for layer, (shape, params) in zip(spec, layer_table(input_shape, spec)):
        if params:
            print(f"  {str(layer):26s} -> {str(shape):16s} {params:>12,d} parameters")
        conv_total += params if layer[0] in ("conv", "bn") else 0
        fc_total += params if layer[0] == "fc" else 0
    print(
        f"  total {conv_total + fc_total:,d} parameters: {conv_total:,d} in conv/bn layers, {fc_total:,d} in fc layers "
        f"({fc_total / (conv_total + fc_total):.1%})"
    )

# %% [markdown]
# Von Hacht's tables print the input size of every layer; their column
# "Parameters" holds each layer's settings (kernel, filters, stride, padding), not
# counts. Every size they print checks out: $32\times28\times28 \to 32\times14\times14
# \to 64\times14\times14 \to 64\times7\times7 = 3136$ (Table 3.2), $64\cdot8\cdot8 = 4096$
# (Table 3.3), $192\cdot8\cdot8 = 12288$ (Tables 3.4 and 3.5, the latter written
# "8 * 8 * 192"), and Figure 3.2's $[10, 32, 32, 32]$ and $32\cdot16\cdot16 = 8192$. Bilici's
# $7\cdot7\cdot32 = 1568$ is right (with padding 2, see section 3).
#
# The thesis does print parameter counts, in its abstract: 3,274,634 trainable
# parameters for the grey-scale network (Table 3.2) and 4,259,274, 29,853,002 and
# 30,955,290 for the three RGB models A, B and C (Tables 3.3–3.5). Counting weights and
# biases layer by layer, $F(CK^2 + 1)$ for a convolution and $(n + 1)M$ for a fully
# connected layer, as the cell above does:
#
# | network | convolutions | fully connected | total | abstract |
# |---|---|---|---|---|
# | Table 3.2 | $832 + 51{,}264$ | $3{,}212{,}288 + 10{,}250$ | 3,274,634 | 3,274,634 |
# | Table 3.3 (A) | $2{,}432 + 51{,}264$ | $4{,}195{,}328 + 10{,}250$ | 4,259,274 | 4,259,274 |
# | Table 3.4 (B) | $7{,}296 + 460{,}992$ | $25{,}167{,}872 + 4{,}196{,}352 + 20{,}490$ | 29,853,002 | 29,853,002 |
# | Table 3.5 (C) | $7{,}296 + 230{,}496 + 460{,}992 + 921{,}792$ | as in B | 31,005,290 | 30,955,290 |
#
# Three of the four agree to the last digit, so the thesis counts as we do, biases
# included. Model C's printed count is exactly 50,000 short of what its Table 3.5
# gives, and no layer of the table accounts for such a difference: a slip in the
# abstract (see the errata at the end of this section).
#
# What the counts add: **the fully connected layers hold 95–99 % of the
# parameters** (94.8 % in model C, which has the most convolutions, 99.3 % in Bilici's
# network) — Xia's rule of thumb, sec. 2.5.1 — and the biggest model, C,
# has about 31 million, while its four convolution layers have 1.6 million. Lohiya
# (sec. 8.1) makes the same point for one neuron: fully connected to a
# $32\times32\times3$ image it has $3072$ weights, to a $200\times200\times3$ one $120{,}000$
# (both right). AlexNet, in its original two-GPU form, whose conv2, conv4 and conv5 see
# only half the channels (groups of 2), has 60,954,656 weights and 10,568 biases:
# 60,965,224 parameters (the cell after the next paragraph).
#
# Xia (sec. 2.5) compares the "size" of a fully connected and a convolution
# layer mapping a $W \times H \times I$ input to a $W \times H \times J$ output
# (same width and height, $K\times K$ kernels, biases not counted):
#
# | | fully connected | convolution |
# |---|---|---|
# | output units | $WHJ$ | $WHJ$ |
# | weights | $W^2H^2IJ$ | $K^2IJ$ |
# | connections (multiply-adds) | $W^2H^2IJ$ | $WHK^2IJ$ |
#
# Units cost memory (stored for the backward pass), weights cost memory and
# updates, connections cost time (about 3 multiply-adds each: 1 forward, 2 backward).
# The first row is corrected: Xia's table prints $WHI$ output units, but the output has $J$
# channels.


# %%
def alexnet_weights(groups):
    """Weights (no biases) and biases of AlexNet; groups=2 is the original two-GPU model."""
    convs = [
        (96, 3, 11, 1),
        (256, 96, 5, groups),
        (384, 256, 3, 1),
        (384, 384, 3, groups),
        (256, 384, 3, groups),
    ]
    fcs = [(256 * 6 * 6, 4096), (4096, 4096), (4096, 1000)]
    weights = builtins.sum(F * (C // g) * K * K for F, C, K, g in convs) + builtins.sum(
        n * m for n, m in fcs
    )
    biases = builtins.sum(F for F, _, _, _ in convs) + builtins.sum(m for _, m in fcs)
    return weights, biases


w2, b2 = alexnet_weights(groups=2)
print(
    f"AlexNet, two GPUs: {w2:,d} weights + {b2:,d} biases = {w2 + b2:,d} parameters (Kara prints 60,954,656)"
)

# %% [markdown]
# ### Exercise 10 (implement): units, weights and connections
#
# Write `fc_vs_conv_sizes(W, H, I, J, K)`, which returns the table above (with
# the corrected first row) as a dict of dicts:
# `{"fc": {"units": ..., "weights": ..., "connections": ...}, "conv": {...}}`.


# %% nbgrader={"grade": false, "grade_id": "ch04_fc_vs_conv", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fc_vs_conv_sizes(W, H, I, J, K):
    """Xia's size comparison (corrected): a W x H x I input mapped to a W x H x J output.

    The fully connected layer connects every input to every output; the convolution uses
    J filters of K x K x I with half padding, stride 1. Biases are not counted.
    Returns {"fc": {"units", "weights", "connections"}, "conv": {...}}, all ints.
    """
    ### BEGIN SOLUTION
    units = W * H * J  # J output channels of W x H
    fc = {
        "units": units,
        "weights": (W * H * I) * (W * H * J),
        "connections": (W * H * I) * (W * H * J),
    }
    conv = {"units": units, "weights": K * K * I * J, "connections": W * H * J * (K * K * I)}
    return {"fc": fc, "conv": conv}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_fc_vs_conv_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""fc_vs_conv_sizes for a 32x32 RGB image to 16 channels with 3x3 kernels."""
from backproplab.grading import check

sizes = fc_vs_conv_sizes(32, 32, 3, 16, 3)
for layer, key, expected in (
    ("fc", "units", 16384),
    ("conv", "units", 16384),
    ("fc", "weights", 50331648),
    ("conv", "weights", 432),
    ("fc", "connections", 50331648),
    ("conv", "connections", 442368),
):
    check(
        f"{layer}_{key}",
        sizes[layer][key],
        expected,
        f'sizes["{layer}"]["{key}"] for (W, H, I, J, K) = (32, 32, 3, 16, 3)',
        hint="units: W*H*J (J output channels); conv connections: every output unit sees K*K*I inputs",
    )
print("fc_vs_conv_sizes: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_fc_vs_conv_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""fc_vs_conv_sizes on hidden non-square sizes with different input and output channels."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
for W_h, H_h, I_h, J_h, K_h in ((28, 20, 1, 8, 5), (7, 9, 12, 5, 3)):
    got_h = fc_vs_conv_sizes(W_h, H_h, I_h, J_h, K_h)
    for layer_h in ("fc", "conv"):
        for key_h in ("units", "weights", "connections"):
            recorded_h = record(
                f'sizes["{layer_h}"]["{key_h}"] for (W, H, I, J, K) = {(W_h, H_h, I_h, J_h, K_h)}',
                got_h[layer_h][key_h],
            )
### END HIDDEN TESTS

# %% [markdown]
# <details><summary>Note on the source: AlexNet's "total number of weights" (Kara, sec. 3)</summary>
#
# "Total number of weights in AlexNet is 60,954,656" counts the **weights only, without
# the 10,568 biases**, of the original two-GPU AlexNet; with biases it has 60,965,224
# parameters. Right as stated, but not the parameter count.
#
# </details>
#
# <details><summary>Errata: model C's parameter count (von Hacht, abstract)</summary>
#
# Model C (Table 3.5) is said to have 30,955,290 trainable parameters; its layers have
# $7{,}296 + 230{,}496 + 460{,}992 + 921{,}792 = 1{,}620{,}576$ in the four convolutions and
# $29{,}384{,}714$ in the three fully connected layers, 31,005,290 in all. The other three
# counts of the abstract are right.
#
# </details>
#
# <details><summary>Errata: the output units of the size table (Xia, sec. 2.5)</summary>
#
# The source prints "# output units $WHI$" for both layers. The output has $J$ channels,
# so it is $WHJ$; $I$ is the number of *input* channels (the table's own weight count
# $K^2IJ$ has both).
#
# </details>
#
# ## 10. Explore: the kernel explorer
#
# The panel below runs **your** `conv_forward_naive` (and your pooling) on a
# photo of Grace Hopper (matplotlib's sample image, in grey levels, reduced to
# 75×64 so that your loops answer at once). Pick a kernel from the menu or type
# your own numbers into the 3×3 grid; pick the stride, the padding (for a 3×3
# kernel: 0 = valid, 1 = half, 2 = full) and a pooling. The line above the
# picture shows the sizes *your* functions returned, and the range of the
# output values. (The panel needs a live kernel: it does not redraw in a saved notebook.)
#
# The kernels are Xia's (sec. 2.3, eqs. 2.5–2.8), with Sobel's horizontal
# twin added: **blur** averages a pixel with its neighbours, **sharpen** is the
# identity plus the edge kernel, **edge** (a discrete Laplacian) is 0 on flat
# regions and large where the brightness bends, and **Sobel** kernels respond to
# vertical or horizontal edges, with a sign that says dark-to-light or light-to-dark.
# The menu has two blurs: "blur (as printed)" is Xia's eq. (2.5),
# $\begin{pmatrix}0&1&0\\1&4&1\\0&1&0\end{pmatrix}$, and "blur" is the same kernel divided by the
# sum of its entries.
#
# Since our layer cross-correlates, the Sobel "vertical" kernel
# $\begin{pmatrix}1&0&-1\\2&0&-2\\1&0&-1\end{pmatrix}$ gives a **positive** output where the image
# gets *darker* from left to right; a true convolution (the flipped kernel) would give the
# opposite sign. For symmetric kernels (blur, sharpen, edge) the two agree: ROT180 leaves
# them unchanged.

# %%
explorer = kernel_explorer(
    conv_forward_naive,
    {"max": max_pool_forward_naive, "avg": avg_pool_forward_naive},
    kernel="Sobel vertical",
    stride=1,
    pad=1,
)
explorer

# %% [markdown]
# ### Exercise 11 (explore + explain): what the kernels do
#
# Use the explorer. (a) Compare "Sobel vertical" and "Sobel horizontal" on the
# photo: which structures light up in each, and what does the sign of the output
# tell you? (b) Choose "blur (as printed)" and then "blur": what does the status
# line show, and why? (c) With the edge kernel, compare stride 2 (padding 1, no
# pooling) with stride 1 followed by a 2×2 max pool: give both output sizes, and
# say which result keeps thin edges better, and why.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch04_explain_explorer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) "Sobel vertical" responds to **vertical** edges —
# brightness changing from left to right: the sides of the face and of the cap,
# the white shirt and tie against the dark uniform, the uniform's outline against
# the background, the flag's stars; "Sobel horizontal" to **horizontal** edges —
# the brim and top of the cap, the glasses, the mouth and chin, the shoulders,
# the ribbons on the chest, the flag's stripes. The sign gives the direction:
# with our cross-correlation, Sobel vertical is positive where the image is
# brighter on the left than on the right (it computes left column minus right
# column), negative for dark-to-light; flat regions give 0 (grey in the picture).
# (b) "blur (as printed)" gives values up to about 8 (the status line says from
# about 0.3 to 7.98): its entries sum to 8, so a flat region is multiplied by 8
# (the picture looks the same only because it is scaled to its own range);
# "blur", divided by 8, keeps the range of the input, [0, 1], as a blur should.
# (c) Both give 38×32: stride 2 with padding 1 gives $\lfloor (75 + 2 - 3)/2\rfloor + 1 = 38$
# and $\lfloor (64 + 2 - 3)/2 \rfloor + 1 = 32$; stride 1 keeps 75×64 and the pool gives
# $\lfloor (75 - 2)/2 \rfloor + 1 = 37$ by 32 (37×32, the last row dropped). Stride 2
# *samples* every other position, so a one-pixel-wide edge that falls on the
# skipped rows or columns disappears (thin edges look broken); the max pool looks at
# *every* position and keeps the strongest response of each 2×2 block, so thin
# edges survive (brighter and blockier).
#
# **Rubric (2 points).**
# - ½ point (a): vertical vs horizontal edges with an example of each, and the sign as the
#   direction of the brightness change (either direction convention, if consistent).
# - ½ point (b): the printed blur sums to 8 (values up to ~8), the normalised one keeps [0, 1].
# - 1 point (c): both sizes (38×32 and 37×32, or the student's own output that follows eq. 6/7),
#   **and** that striding skips positions while max pooling keeps the strongest response in every window.
#   Sizes without the reason, or the reason without sizes: ½.

# %% [markdown]
# ### Exercise 12 (explain): why do libraries "convolve" without flipping?
#
# PyTorch's `Conv2d`, and every layer in this chapter, computes a
# cross-correlation (8) and calls it a convolution. (a) Why is it harmless for a
# convolution **layer** not to flip the kernel? (b) What is simpler or cheaper
# about not flipping? (c) Name two situations where the difference **does**
# matter, using sections 2, 6 and 10.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ch04_explain_xcorr", "locked": false, "points": 3, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (a) The kernel of a layer is *learned*. Convolving with $w$
# is cross-correlating with $\mathrm{ROT180}(w)$, and ROT180 is a one-to-one
# relabelling of the weights, so both layers can represent exactly the same
# functions; gradient descent simply learns the rotated kernel. The initialisation is
# symmetric under the flip too, so nothing about training changes. The properties
# that only the true convolution has — commutativity and associativity ($a*b = b*a$,
# $(a * b) * c = a * (b * c)$) — are never used by a network: input and kernel play
# different roles, and layers are separated by nonlinearities. Linearity, which the
# backward pass needs, holds for both.
# (b) Indexing: out$[i, j]$ is a dot product of the filter with the window that
# starts at $(iS, jS)$, both read in the same order — no reversed indices, no
# flipped copy of the weights; with stride and padding it is the natural "slide
# the window" loop, and it maps directly onto im2col + one matrix product
# (chapter 05), where each filter is one row and each window one column.
# (c) (1) Hand-designed or imported kernels: a non-symmetric kernel such as Sobel
# gives the opposite sign (and a shifted/mirrored response) under the other convention,
# and a kernel taken from a signal-processing text (which convolves) must be rotated
# before use in a DL layer; `scipy.signal.convolve2d` and `torch.conv2d` disagree
# on it. (2) The backward pass: if the forward pass cross-correlates, $dx$ is a
# true (full) convolution with $w$, i.e. a cross-correlation with ROT180($w$), and
# $dw$ is a cross-correlation of the input with `dout` — mixing up the conventions
# there gives wrong gradients (a gradient check catches it). Also: loading weights
# trained in one convention into code using the other.
#
# **Rubric (3 points).**
# - 1 point (a): the kernel is learned, so the flip is a reparametrisation (the network learns
#   the rotated kernel); same set of functions. A vague "it doesn't matter" without the reason: 0.
# - 1 point (b): a concrete simplification: no index reversal / no flipped copy; the window dot
#   product is the natural sliding-window loop / maps directly to im2col and a matrix product.
# - 1 point (c): two situations, e.g. fixed/hand-made or imported kernels (Sobel's sign,
#   scipy vs torch), the backward pass (ROT180 in dx), weights moved between conventions.
#   One situation: ½.

# %% [markdown]
# <details><summary>Errata: the blurring kernel (Xia, sec. 2.3.1)</summary>
#
# The notes themselves warn that "some of these canonical kernels are not working as
# expected". The blurring kernel $\begin{pmatrix}0&1&0\\1&4&1\\0&1&0\end{pmatrix}$ has entries summing
# to 8, so it multiplies the brightness of flat regions by 8 (values up to 8 for an image
# in $[0, 1]$). A blur must sum to 1: divide by 8 (the menu's "blur"). Sharpen (sum 1) and
# edge (sum 0, flat regions give 0) are as intended.
#
# </details>

# %% [markdown]
# ## 11. Normalisation per channel: batch norm, layer norm and group norm
#
# Chapter 03 normalised each **unit** of a fully connected layer over the batch, eqs.
# (15)-(21) there. A convolution layer shares one filter across every position, so the
# values of channel $c$ at every position of every image are outputs of the *same*
# unit. Spatial batch norm therefore takes one mean and one variance per channel, over
# the batch **and** the positions, $M = N H W$ values each:
#
# $$ \mu_c = \frac{1}{M}\sum_{n,i,j} x_{ncij}, \qquad
#    \sigma_c^2 = \frac{1}{M}\sum_{n,i,j} (x_{ncij} - \mu_c)^2, \qquad
#    y_{ncij} = \gamma_c\,\frac{x_{ncij} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c , \tag{15} $$
#
# with one $\gamma_c$ and $\beta_c$ per channel, and running averages of $\mu_c$ and
# $\sigma_c^2$ for eval mode, as in chapter 03. This is PyTorch's `BatchNorm2d`.
#
# The statistics of (15) depend on the other images of the batch: with a batch of 2 they
# are noisy, and in eval mode the running averages stand in for them (chapter 08's
# frozen-batch-norm trap starts here). **Group norm** (Wu and He, 2018) takes its
# statistics within one image instead: the $C$ channels are split into $G$ groups of
# $C/G$ consecutive channels, and each image and group gets its own mean and variance
# over its $M = (C/G)\,H W$ values,
#
# $$ \mu_{ng} = \frac{1}{M}\sum_{c \in g}\sum_{i,j} x_{ncij}, \qquad
#    y_{ncij} = \gamma_c\,\frac{x_{ncij} - \mu_{ng}}{\sqrt{\sigma_{ng}^2 + \epsilon}} + \beta_c
#    \quad (c \in g). \tag{16} $$
#
# Nothing depends on the batch, so train and eval mode are the same. $G = 1$ is **layer
# norm** over $(C, H, W)$ (with one $\gamma$, $\beta$ per channel), $G = C$ is **instance
# norm**. PyTorch's `GroupNorm(G, C)` computes (16).
#
# **Backward.** Both are the same computation on different sets $S$ of $M$ values: with
# $\hat x = (x - \mu)/\sigma$, $\sigma = \sqrt{\sigma^2 + \epsilon}$ and
# $d\hat x = \gamma\cdot$`dout`, chapter 03's eqs. (18)-(20) collapse to
#
# $$ dx = \frac{1}{M\sigma}\Big(M\,d\hat x - \sum_{S} d\hat x - \hat x \sum_{S} d\hat x\,\hat x\Big),
#    \tag{17} $$
#
# for every value of the set, and, since $\gamma_c$ and $\beta_c$ touch every value of
# channel $c$,
#
# $$ d\beta_c = \sum_{n,i,j} \texttt{dout}_{ncij}, \qquad
#    d\gamma_c = \sum_{n,i,j} \texttt{dout}_{ncij}\,\hat x_{ncij} . \tag{18} $$
#
# ### Exercise 13 (implement): batch norm per channel, forward and backward


# %% nbgrader={"grade": false, "grade_id": "ch04_spatial_batchnorm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch norm for a convolution layer, eq. (15): one mean and variance per channel.

    x: (N, C, H, W); gamma, beta: (C,). bn_param: as chapter 03's batchnorm_forward, with
    running averages of shape (C,): "mode" ("train" or "eval"), optional "eps" (default 1e-5),
    "momentum" (default 0.9), "running_mean" (default zeros), "running_var" (default ones).
    Train mode uses the batch's statistics over N, H and W (the biased variance) and updates
    the running averages; eval mode uses the running averages and updates nothing. Store them
    back in bn_param. Returns (out (N, C, H, W), cache) for spatial_batchnorm_backward.
    """
    ### BEGIN SOLUTION
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    C = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(C))
    running_var = bn_param.get("running_var", np.ones(C))
    per_channel = (1, C, 1, 1)
    if mode == "train":
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))  # over N, H, W: biased, 1/M
        std = np.sqrt(var + eps).reshape(per_channel)
        x_hat = (x - mean.reshape(per_channel)) / std
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (x_hat, gamma, std)
    else:
        std = np.sqrt(running_var + eps).reshape(per_channel)
        x_hat = (x - running_mean.reshape(per_channel)) / std
        cache = None
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return gamma.reshape(per_channel) * x_hat + beta.reshape(per_channel), cache
    ### END SOLUTION


def spatial_batchnorm_backward(dout, cache):
    """The backward pass of spatial_batchnorm_forward in train mode, eqs. (17)-(18).

    dout: (N, C, H, W); cache from spatial_batchnorm_forward (train mode).
    Returns (dx (N, C, H, W), dgamma (C,), dbeta (C,)).
    """
    ### BEGIN SOLUTION
    x_hat, gamma, std = cache
    M = dout.shape[0] * dout.shape[2] * dout.shape[3]
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = dout * gamma.reshape(1, -1, 1, 1)
    total = dx_hat.sum(axis=(0, 2, 3), keepdims=True)
    along = (dx_hat * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx = (M * dx_hat - total - x_hat * along) / (M * std)
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_spatial_batchnorm_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""spatial_batchnorm_forward on a (2, 2, 1, 2) batch against eq. (15) channel by channel, eval mode, and dx against a numerical gradient."""
import builtins

import numpy as np

from backproplab.gradcheck import numerical_gradient
from backproplab.grading import check


def batchnorm_eq15(v, gamma, beta, eps=1e-5):
    """Eq. (15) channel by channel: the expected values below come from it, not from your code."""
    out = np.empty_like(v)
    for c in builtins.range(v.shape[1]):
        values = v[:, c]
        out[:, c] = gamma[c] * (values - values.mean()) / np.sqrt(values.var() + eps) + beta[c]
    return out


x = np.array([[[[1.0, 3.0]], [[0.0, 4.0]]], [[[5.0, 7.0]], [[2.0, 2.0]]]])
gamma, beta = np.array([1.0, 2.0]), np.array([0.0, -1.0])
bn_param = {"mode": "train", "momentum": 0.5}
out, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
check(
    "out",
    out,
    batchnorm_eq15(x, gamma, beta),
    "out in train mode: channel 0 holds 1, 3, 5, 7 (mean 4), channel 1 holds 0, 4, 2, 2 (mean 2)",
    hint="one mean and one variance per channel, over the images AND the positions: axes (0, 2, 3)",
)
check(
    "running_mean",
    bn_param["running_mean"],
    [2.0, 1.0],
    "bn_param['running_mean'] (momentum 0.5, starting from 0)",
    hint="running = momentum * running + (1 - momentum) * the batch's mean per channel",
)
check("running_var", bn_param["running_var"], [3.0, 1.5], "bn_param['running_var'] (from 1)")
bn_param["mode"] = "eval"
out_eval, _ = spatial_batchnorm_forward(np.full((1, 2, 1, 1), 2.0), gamma, beta, bn_param)
check(
    "out_eval",
    out_eval.ravel(),
    [(2.0 - 2.0) / np.sqrt(3.0 + 1e-5), 2.0 * (2.0 - 1.0) / np.sqrt(1.5 + 1e-5) - 1.0],
    "out in eval mode for an image of 2s",
    hint="eval mode normalises with the running averages, not the batch's statistics",
)
dout = np.array([[[[1.0, -2.0]], [[0.5, 0.0]]], [[[3.0, 1.0]], [[-1.0, 2.0]]]])
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
check(
    "dbeta", dbeta, [3.0, 1.5], "dbeta = dout summed over the images and positions of each channel"
)
check(
    "dx",
    dx,
    numerical_gradient(lambda v: batchnorm_eq15(v, gamma, beta), x.copy(), dout),
    "dx against a numerical gradient of eq. (15)",
    hint="eq. (17) with M = N * H * W: the sums run over the images and positions of one channel",
)
print("spatial batch norm: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_spatial_batchnorm_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""spatial_batchnorm_forward and _backward on hidden batches (non-square, one image, many channels): out, running averages, eval, dx, dgamma, dbeta."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4013)
for x_shape_h in ((3, 2, 4, 5), (1, 3, 5, 4), (4, 5, 2, 3)):
    C_h = x_shape_h[1]
    x_h = 2.0 * rng_h.normal(size=x_shape_h) + rng_h.normal(size=(1, C_h, 1, 1))
    gamma_h, beta_h = rng_h.normal(size=C_h), rng_h.normal(size=C_h)
    param_h = {"mode": "train"}
    out_h, cache_h = spatial_batchnorm_forward(x_h, gamma_h, beta_h, param_h)
    spatial_batchnorm_forward(x_h[::-1] + 1.0, gamma_h, beta_h, param_h)
    tag_h = "x".join(map(str, x_shape_h))
    record(f"out_{tag_h}", out_h, tol=1e-08, about=f"out in train mode for x {x_shape_h}")
    record(
        f"running_mean_{tag_h}",
        param_h["running_mean"],
        tol=1e-08,
        about=f"running_mean after 2 batches, x {x_shape_h}",
    )
    record(
        f"running_var_{tag_h}",
        param_h["running_var"],
        tol=1e-08,
        about=f"running_var after 2 batches, x {x_shape_h}",
    )
    param_h["mode"] = "eval"
    out_eval_h, _ = spatial_batchnorm_forward(x_h[:1], gamma_h, beta_h, param_h)
    record(f"out_eval_{tag_h}", out_eval_h, tol=1e-08, about=f"out in eval mode, x {x_shape_h}")
    dout_h = rng_h.normal(size=x_shape_h)
    dx_h, dgamma_h, dbeta_h = spatial_batchnorm_backward(dout_h, cache_h)
    record(f"dx_{tag_h}", dx_h, tol=1e-08, about=f"dx for x {x_shape_h}")
    record(f"dgamma_{tag_h}", dgamma_h, tol=1e-08, about=f"dgamma for x {x_shape_h}")
    recorded_h = record(f"dbeta_{tag_h}", dbeta_h, tol=1e-08, about=f"dbeta for x {x_shape_h}")
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 14 (implement): group norm, forward and backward
#
# Channel $c$ belongs to group $c \,/\!/\, (C/G)$: groups are runs of consecutive channels.
# A $G$ that does not divide $C$ is a mistake of the caller: raise a `ValueError` that says so.


# %% nbgrader={"grade": false, "grade_id": "ch04_groupnorm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def groupnorm_forward(x, gamma, beta, G, eps=1e-5):
    """Group norm, eq. (16): one mean and variance per image and group of C/G channels.

    x: (N, C, H, W); gamma, beta: (C,); G: the number of groups, which must divide C
    (G = 1: layer norm, G = C: instance norm). Raises ValueError when G does not divide C.
    Returns (out (N, C, H, W), cache) for groupnorm_backward.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    if G < 1 or C % G:
        raise ValueError(f"G = {G} groups cannot split C = {C} channels: G must divide C")
    groups = x.reshape(N, G, C // G, H, W)  # channel c is in group c // (C // G)
    mean = groups.mean(axis=(2, 3, 4), keepdims=True)
    std = np.sqrt(groups.var(axis=(2, 3, 4), keepdims=True) + eps)
    x_hat = ((groups - mean) / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1)
    return out, (x_hat, gamma, std, G)
    ### END SOLUTION


def groupnorm_backward(dout, cache):
    """The backward pass of groupnorm_forward, eqs. (17)-(18).

    dout: (N, C, H, W); cache from groupnorm_forward.
    Returns (dx (N, C, H, W), dgamma (C,), dbeta (C,)).
    """
    ### BEGIN SOLUTION
    x_hat, gamma, std, G = cache
    N, C, H, W = dout.shape
    M = (C // G) * H * W
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, G, C // G, H, W)
    x_hat = x_hat.reshape(N, G, C // G, H, W)
    total = dx_hat.sum(axis=(2, 3, 4), keepdims=True)
    along = (dx_hat * x_hat).sum(axis=(2, 3, 4), keepdims=True)
    dx = (M * dx_hat - total - x_hat * along) / (M * std)
    return dx.reshape(N, C, H, W), dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ch04_groupnorm_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""groupnorm_forward on a (2, 4, 1, 2) batch against eq. (16) group by group (G = 2, 1 and 4), the ValueError, and dx against a numerical gradient."""
import builtins

import numpy as np

from backproplab.gradcheck import numerical_gradient
from backproplab.grading import check


def groupnorm_eq16(v, gamma, beta, G, eps=1e-5):
    """Eq. (16) image by image and group by group: the expected values come from it, not your code."""
    out, size = np.empty_like(v), v.shape[1] // G
    for n in builtins.range(v.shape[0]):
        for g in builtins.range(G):
            values = v[n, g * size : (g + 1) * size]
            out[n, g * size : (g + 1) * size] = (values - values.mean()) / np.sqrt(
                values.var() + eps
            )
    return gamma.reshape(1, -1, 1, 1) * out + beta.reshape(1, -1, 1, 1)


x = np.arange(16.0).reshape(2, 4, 1, 2) ** 1.5
gamma, beta = np.array([1.0, 2.0, 0.5, -1.0]), np.array([0.0, 1.0, -1.0, 0.5])
for G in (2, 1, 4):
    out, cache = groupnorm_forward(x, gamma, beta, G)
    check(
        f"out_G{G}",
        out,
        groupnorm_eq16(x, gamma, beta, G),
        f"out with G = {G} ({'layer norm' if G == 1 else 'instance norm' if G == 4 else 'two groups of two channels'})",
        hint="statistics per image and per group of C/G consecutive channels: "
        "x.reshape(N, G, C // G, H, W), then mean and var over axes (2, 3, 4)",
    )
try:
    groupnorm_forward(x, gamma, beta, 3)
    raised = ""
except ValueError as error:
    raised = str(error)
check(
    "G_must_divide_C",
    "G" in raised and "C" in raised,
    True,
    "groupnorm_forward with G = 3 groups for C = 4 channels raises a ValueError naming G and C",
)
out, cache = groupnorm_forward(x, gamma, beta, 2)
dout = np.cos(np.arange(16.0)).reshape(2, 4, 1, 2)
dx, dgamma, dbeta = groupnorm_backward(dout, cache)
check(
    "dx",
    dx,
    numerical_gradient(lambda v: groupnorm_eq16(v, gamma, beta, 2), x.copy(), dout),
    "dx against a numerical gradient of eq. (16), G = 2",
    hint="eq. (17) with M = (C / G) * H * W: the sums run over one image's group",
)
check("dbeta", dbeta, dout.sum(axis=(0, 2, 3)), "dbeta = dout summed over images and positions")
print("group norm: visible tests passed")

# %% nbgrader={"grade": true, "grade_id": "ch04_groupnorm_hidden", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""groupnorm_forward and _backward on hidden batches, from layer norm to instance norm: out, dx, dgamma, dbeta."""
from backproplab.grading import record

### BEGIN HIDDEN TESTS
rng_h = np.random.default_rng(4017)
for x_shape_h, G_h in (((2, 6, 3, 4), 3), ((3, 4, 5, 2), 1), ((1, 4, 3, 3), 4), ((2, 8, 2, 3), 2)):
    C_h = x_shape_h[1]
    x_h = 3.0 * rng_h.normal(size=x_shape_h) + 1.0
    gamma_h, beta_h = rng_h.normal(size=C_h), rng_h.normal(size=C_h)
    out_h, cache_h = groupnorm_forward(x_h, gamma_h, beta_h, G_h)
    tag_h = "x".join(map(str, x_shape_h)) + f"_G{G_h}"
    record(f"out_{tag_h}", out_h, tol=1e-08, about=f"out for x {x_shape_h}, G = {G_h}")
    dout_h = rng_h.normal(size=x_shape_h)
    dx_h, dgamma_h, dbeta_h = groupnorm_backward(dout_h, cache_h)
    record(f"dx_{tag_h}", dx_h, tol=1e-08, about=f"dx for x {x_shape_h}, G = {G_h}")
    record(f"dgamma_{tag_h}", dgamma_h, tol=1e-08, about=f"dgamma for x {x_shape_h}, G = {G_h}")
    recorded_h = record(
        f"dbeta_{tag_h}", dbeta_h, tol=1e-08, about=f"dbeta for x {x_shape_h}, G = {G_h}"
    )
### END HIDDEN TESTS

# %% [markdown]
# **What the batch does to each.** Put the same image in two different batches. Batch norm
# in train mode gives it two different outputs, because the statistics come from its
# neighbours; group norm gives the same output both times. With a batch of one image and
# $H = W = 1$ (a fully connected layer's output), batch norm has a single value per
# channel and outputs $\beta$, whatever the image: that is why networks trained with
# small batches (detection, segmentation) use group norm, and why chapter 08 keeps
# batch norm in eval mode when fine-tuning on a few images.

# %%
batch_rng = np.random.default_rng(7)
image = batch_rng.normal(size=(1, 4, 5, 5))
batch_a = np.concatenate([image, batch_rng.normal(size=(3, 4, 5, 5))])
batch_b = np.concatenate([image, 5.0 + batch_rng.normal(size=(3, 4, 5, 5))])
ones, zeros = np.ones(4), np.zeros(4)
bn_a = spatial_batchnorm_forward(batch_a, ones, zeros, {"mode": "train"})[0][0]
bn_b = spatial_batchnorm_forward(batch_b, ones, zeros, {"mode": "train"})[0][0]
gn_a = groupnorm_forward(batch_a, ones, zeros, 2)[0][0]
gn_b = groupnorm_forward(batch_b, ones, zeros, 2)[0][0]
print(
    f"the same image in two batches: batch norm differs by up to {np.abs(bn_a - bn_b).max():.2f}, "
    f"group norm by {np.abs(gn_a - gn_b).max():.1e}"
)

# %% [markdown]
# ## Summary
#
# - A convolution (1), (4) flips the kernel; a cross-correlation (2), (5) does not; a
#   cross-correlation with $k$ is a convolution with ROT180($k$) (3). Deep-learning
#   "convolution" layers compute cross-correlations; since the kernel is learned, the flip
#   does not matter for them — it does for fixed kernels and in the backward pass.
# - Output size along an axis: $\lfloor (n + 2P - K)/S\rfloor + 1$ (6); pooling
#   $\lfloor (n - F)/S\rfloor + 1$ (7). Valid, half and full padding: $P = 0$, $(K-1)/2$, $K - 1$.
# - A convolution layer, eq. (8): $(N, C, H, W) * (F, C, K_H, K_W) \to (N, F, H', W')$,
#   plus one bias per filter. Backward: $db$ sums `dout` over $n, i, j$ (9); $dw$ correlates
#   the input with `dout` (10); $dx$ correlates the fully padded (and, for stride $S$,
#   dilated) `dout` with ROT180($w$), channels swapped (11)–(13).
# - Max pooling sends each window's gradient to its (first) maximum, average pooling
#   spreads it as $1/F^2$; overlapping windows add.
# - Convolution is equivariant to translation; pooling adds approximate invariance to
#   small shifts.
# - A conv layer's parameters do not depend on the image size, $F(CK^2 + 1)$; the fully
#   connected layers hold almost all parameters of von Hacht's and Bilici's networks.
# - Batch norm in a CNN takes one mean and variance per channel over $N, H, W$ (15); group
#   norm one per image and group of $C/G$ channels (16), the same in train and eval mode
#   ($G = 1$ layer norm, $G = C$ instance norm). Both backward passes are (17)-(18) over
#   their own sets of $M$ values.
#
# ## Next: chapter 05, making it fast
#
# Our layers loop in Python over every output position; on one 32×32 CIFAR image
# with 32 filters of 5×5×3 (padding 2) that is 1,024 Python iterations and 32,768 dot
# products of length 75 — for one image of one layer, and a training run needs
# millions of images. Chapter 05 removes the loops: **im2col** copies every window
# into a column of one big matrix, so that the whole forward pass (8) becomes a
# single matrix product — the operation CPUs and GPUs are best at — and the backward
# pass (9)–(13) becomes two more products and a **col2im** that adds the windows back.
# Your naive functions from this chapter are the reference that the fast versions
# must match, to $10^{-7}$, on every shape.
#
# ## References
#
# The texts this chapter is built from, cited by author and section:
#
# - **Bilici** — M. Ş. Bilici, *An Overview of Convolutional Neural Networks*, overview
#   paper (undated); cited by its section titles or numbers.
# - **von Hacht** — A. von Hacht, *Implementation of Deep Feedforward Neural Network with
#   CUDA backend for Efficient and Accurate Natural Image Classification*, MSc thesis,
#   Chalmers University of Technology, 2017 ("the thesis").
# - **Kara** — E. Kara, *Mathematical Foundations of Deep Learning: A Brief Overview with
#   Application to Image Classification Problem*, report, Texas Tech University, Mathematics
#   and Statistics (undated).
# - **Lohiya** — S. Lohiya, *Deep Learning and Computer Vision*, report, Summer of Science,
#   IIT Bombay, June 2019; it follows Stanford's course CS231n.
# - **Xia** — T. Xia, *Neural Net and Deep Learning*, lecture notes, 11 February 2020 (CC
#   BY-NC-SA 4.0).
#
# Other works the chapter cites:
#
# - Stanford CS231n, *Convolutional Neural Networks for Visual Recognition*, course notes,
#   cs231n.github.io.
# - Y. Wu and K. He, "Group Normalization", ECCV 2018.
# - A. Krizhevsky, I. Sutskever and G. E. Hinton, "ImageNet Classification with Deep
#   Convolutional Neural Networks", NeurIPS 2012 (AlexNet).
