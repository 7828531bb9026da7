"""Correct answers of chapter 05 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

# Exercise 1 with a star import at the top of the cell (it rebinds record, sum, max... in the notebook).
NUMPY_STAR_OFFSETS = """from numpy import *


def row_major_offset(index, shape):
    offset = 0
    for k in range(len(shape)):
        offset += index[k] * int(prod(shape[k + 1:]))  # the product of the later axes, eq. (1)
    return offset


def row_major_strides(shape, itemsize):
    return tuple(int(itemsize * prod(shape[k + 1:])) for k in range(len(shape)))
"""

# Exercises 2-4: the view's strides built in a list, im2col filled offset by offset, the GEMM by tensordot.
WINDOW_VIEW_LIST = """def window_view(x, kernel_size, stride=1):
    xp = array_module(x)
    N, C, H, W = x.shape
    H_out = (H - kernel_size) // stride + 1
    W_out = (W - kernel_size) // stride + 1
    strides = list(x.strides) + [x.strides[2] * stride, x.strides[3] * stride]
    return xp.lib.stride_tricks.as_strided(x, (N, C, kernel_size, kernel_size, H_out, W_out), tuple(strides),
                                           writeable=False)
"""

IM2COL_BY_OFFSETS = """def im2col(x, kernel_size, stride=1, pad=0):
    xp = array_module(x)
    N, C, H, W = x.shape
    K, S = kernel_size, stride
    H_out, W_out = (H + 2 * pad - K) // S + 1, (W + 2 * pad - K) // S + 1
    x_pad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x
    cols = xp.empty((C, K, K, N, H_out, W_out), dtype=x.dtype)
    for k in range(K):
        for l in range(K):
            cols[:, k, l] = x_pad[:, :, k:k + S * H_out:S, l:l + S * W_out:S].transpose(1, 0, 2, 3)
    return cols.reshape(C * K * K, N * H_out * W_out)
"""

CONV_FORWARD_TENSORDOT = """def conv_forward_im2col(x, w, b, stride=1, pad=0):
    xp = array_module(x)
    N = x.shape[0]
    F, C, K, _ = w.shape
    cols = im2col(x, K, stride, pad)
    out = xp.tensordot(w.reshape(F, C * K * K), cols, axes=1) + b[:, None]
    H_out, W_out = conv_output_size(x.shape[2], K, stride, pad), conv_output_size(x.shape[3], K, stride, pad)
    return xp.moveaxis(out.reshape(F, N, H_out, W_out), 0, 1), (x.shape, cols, w, stride, pad)
"""

# Exercises 5-7: the scatter-add by np.bincount on flat indices, col2im into NCHW directly, einsum in the backward pass.
COL2IM_BINCOUNT = """def col2im_add_at(cols, x_shape, kernel_size, stride=1, pad=0):
    xp = array_module(cols)
    N, C, H, W = x_shape
    K, S = kernel_size, stride
    H_out, W_out = (H + 2 * pad - K) // S + 1, (W + 2 * pad - K) // S + 1
    Hp, Wp = H + 2 * pad, W + 2 * pad
    c, k, l, n, i, j = xp.ogrid[:C, :K, :K, :N, :H_out, :W_out]
    flat = ((n * C + c) * Hp + (i * S + k)) * Wp + (j * S + l)  # row-major offsets into the padded input
    flat, values = xp.broadcast_arrays(flat, cols.reshape(C, K, K, N, H_out, W_out))
    dx_pad = xp.bincount(flat.ravel(), weights=values.ravel(), minlength=N * C * Hp * Wp)
    return dx_pad.astype(cols.dtype).reshape(N, C, Hp, Wp)[:, :, pad:pad + H, pad:pad + W]
"""

COL2IM_NCHW = """def col2im(cols, x_shape, kernel_size, stride=1, pad=0):
    xp = array_module(cols)
    N, C, H, W = x_shape
    K, S = kernel_size, stride
    H_out, W_out = (H + 2 * pad - K) // S + 1, (W + 2 * pad - K) // S + 1
    cols6 = cols.reshape(C, K, K, N, H_out, W_out).transpose(3, 0, 1, 2, 4, 5)  # (N, C, K, K, H', W')
    dx_pad = xp.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for k in range(K):
        for l in range(K):
            dx_pad[:, :, k:k + S * H_out:S, l:l + S * W_out:S] += cols6[:, :, k, l]
    return dx_pad[:, :, pad:pad + H, pad:pad + W]
"""

CONV_BACKWARD_EINSUM = """def conv_backward_im2col(dout, cache):
    xp = array_module(dout)
    x_shape, cols, w, stride, pad = cache
    F, C, K, _ = w.shape
    N, _, H_out, W_out = dout.shape
    cols4 = cols.reshape(C * K * K, N, H_out, W_out)
    dw = xp.einsum("nfij,rnij->fr", dout, cols4).reshape(w.shape)
    dcols = xp.einsum("fr,nfij->rnij", w.reshape(F, -1), dout).reshape(C * K * K, -1)
    return col2im(dcols, x_shape, K, stride, pad), dw, dout.sum(axis=(0, 2, 3))
"""

# Exercise 8 straight from window_view, a one-hot dcols by put_along_axis; Exercises 9-10 with helpers and index loops.
MAX_POOL_WINDOWS = """def max_pool_forward_fast(x, pool_size=2, stride=2):
    N, C, H, W = x.shape
    windows = window_view(x.reshape(N * C, 1, H, W), pool_size, stride)  # (N C, 1, F, F, H', W')
    cols = im2col(x.reshape(N * C, 1, H, W), pool_size, stride)  # kept for the backward pass
    out = windows.max(axis=(2, 3)).reshape(N, C, windows.shape[4], windows.shape[5])
    return out, (x.shape, cols, pool_size, stride)


def max_pool_backward_fast(dout, cache):
    xp = array_module(dout)
    x_shape, cols, pool_size, stride = cache
    N, C, H, W = x_shape
    dcols = xp.zeros(cols.shape, dtype=dout.dtype)
    first = xp.argmax(cols, axis=0)[None, :]
    xp.put_along_axis(dcols, first, dout.reshape(1, -1), axis=0)
    return col2im(dcols, (N * C, 1, H, W), pool_size, stride).reshape(N, C, H, W)
"""

LAYERS_HELPERS = '''def _three_axes(input_shape, what):
    if len(input_shape) != 3:
        raise ValueError(f"{what} needs an input (C, H, W), got {tuple(input_shape)}")
    return tuple(input_shape)


class Layer:
    """A node of the graph. build(input_shape, rng) -> output shape (one example, no batch axis);
    forward(x, train) -> out; backward(dout) -> dx, filling grads (same keys as params)."""

    def __init__(self, **config):
        self.config, self.params, self.grads, self.cache = config, {}, {}, None

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.config.items())})"

    def build(self, input_shape, rng):
        return tuple(input_shape)


def he_normal(shape, fan_in, rng):
    """Weights drawn from N(0, 2 / fan_in): He's initialisation (seed 001, eq. 2.49)."""
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
        out, self.cache = dropout_forward(x, self.config["keep_prob"], "train" if train else "eval", self.rng)
        return out

    def backward(self, dout):
        return dropout_backward(dout, self.cache)


class Conv2D(Layer):
    """num_filters filters of kernel_size x kernel_size over all input channels, with stride and zero padding."""

    def __init__(self, num_filters, kernel_size, stride=1, pad=0):
        super().__init__(num_filters=num_filters, kernel_size=kernel_size, stride=stride, pad=pad)

    def build(self, input_shape, rng):
        C, H, W = _three_axes(input_shape, "Conv2D")
        cfg = self.config
        sizes = [conv_output_size(n, cfg["kernel_size"], cfg["stride"], cfg["pad"]) for n in (H, W)]
        if min(sizes) <= 0:
            raise ValueError(f"kernel {cfg['kernel_size']} is larger than the padded input {H}x{W}")
        fan_in = C * cfg["kernel_size"] ** 2
        W_init = rng.normal(size=(cfg["num_filters"], C, cfg["kernel_size"], cfg["kernel_size"])) * np.sqrt(2.0 / fan_in)
        self.params = {"W": W_init, "b": np.zeros(cfg["num_filters"])}
        return (cfg["num_filters"], *sizes)

    def forward(self, x, train):
        cfg = self.config
        out, self.cache = conv_forward_im2col(x, self.params["W"], self.params["b"], cfg["stride"], cfg["pad"])
        return out

    def backward(self, dout):
        dx, dw, db = conv_backward_im2col(dout, self.cache)
        self.grads = {"W": dw, "b": db}
        return dx


class MaxPool2D(Layer):
    """Max pooling with pool_size x pool_size windows and the given stride, no padding."""

    def __init__(self, pool_size=2, stride=2):
        super().__init__(pool_size=pool_size, stride=stride)

    def build(self, input_shape, rng):
        C, H, W = _three_axes(input_shape, "MaxPool2D")
        F, S = self.config["pool_size"], self.config["stride"]
        if H < F or W < F:
            raise ValueError(f"the window {F}x{F} is larger than the input {H}x{W}")
        return C, pool_output_size(H, F, S), pool_output_size(W, F, S)

    def forward(self, x, train):
        out, self.cache = max_pool_forward_fast(x, self.config["pool_size"], self.config["stride"])
        return out

    def backward(self, dout):
        return max_pool_backward_fast(dout, self.cache)


class Flatten(Layer):
    """(C, H, W) -> (C*H*W,): a reshape, free for a contiguous array (seed 001, sec. 3.1.4)."""

    def build(self, input_shape, rng):
        size = 1
        for n in input_shape:
            size *= n
        return (size,)

    def forward(self, x, train):
        self.cache = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout):
        return dout.reshape(self.cache)
'''

TRAIN_STEP_GET = '''def train_step(net, X, y, configs, lr, weight_decay):
    scores = net.forward(X, train=True)
    loss, dscores = softmax_loss(scores, y)
    net.backward(dscores)
    for k in range(len(net.layers)):
        layer = net.layers[k]
        for name in list(layer.params):
            key = (k, name)
            if key not in configs:
                configs[key] = {"lr": lr, "weight_decay": 0.0 if name == "b" else weight_decay}
            new_value, configs[key] = adamw(layer.params[name], layer.grads[name], configs[key])
            layer.params[name] = new_value
    return loss, scores


def evaluate(net, X, y, batch_size=500):
    """Mean softmax loss, accuracy and predicted labels (a NumPy array) of net on (X, y), in eval mode."""
    xp, dtype = _where(net)
    losses, predictions = [], []
    for start in range(0, len(X), batch_size):
        scores = net.forward(xp.asarray(X[start:start + batch_size], dtype=dtype), train=False)
        labels = xp.asarray(y[start:start + batch_size])
        losses.append(softmax_loss(scores, labels)[0] * len(labels))
        predictions.append(to_numpy(scores.argmax(axis=1)))
    y_pred = np.concatenate(predictions)
    return builtins.sum(losses) / len(X), float(np.mean(y_pred == y)), y_pred


def train(net, X_train, y_train, X_val, y_val, num_epochs=1, batch_size=100, lr=3e-4, weight_decay=1e-3,
          eval_every=20, val_size=500, checkpoint_every=20, seed=0, verbose=True):
    """Mini-batch AdamW training with the measurements of seed 001, sec. 3.6.

    X_*: (N, C, H, W) and y_*: (N,) NumPy arrays; each batch is moved to where the parameters live.
    Records every step's batch loss and accuracy; every eval_every steps the loss and accuracy on the same
    val_size validation images; every checkpoint_every steps (and at the start and the end) a NumPy copy
    of the first convolution's filters W. Returns the history, a dict of lists: "loss", "train_acc"
    (per step), "val_step", "val_loss", "val_acc", "filter_steps", "filters"; and "seconds".
    """
    xp, dtype = _where(net)
    first_conv = next(layer for layer in net.layers if isinstance(layer, Conv2D))
    rng, configs, step, start = np.random.default_rng(seed), {}, 0, time.perf_counter()
    history = {key: [] for key in ("loss", "train_acc", "val_step", "val_loss", "val_acc", "filter_steps", "filters")}
    val_pick = rng.permutation(len(X_val))[:val_size]
    for epoch in range(num_epochs):
        for batch in np.array_split(rng.permutation(len(X_train)), builtins.max(1, len(X_train) // batch_size)):
            if step % checkpoint_every == 0:
                history["filter_steps"].append(step)
                history["filters"].append(to_numpy(first_conv.params["W"]).copy())
            yb = xp.asarray(y_train[batch])
            loss, scores = train_step(net, xp.asarray(X_train[batch], dtype=dtype), yb, configs, lr, weight_decay)
            step += 1
            history["loss"].append(loss)
            history["train_acc"].append(float((scores.argmax(axis=1) == yb).mean()))
            if step % eval_every == 0:
                val_loss, val_acc, _ = evaluate(net, X_val[val_pick], y_val[val_pick])
                history["val_step"].append(step)
                history["val_loss"].append(val_loss)
                history["val_acc"].append(val_acc)
                if verbose:
                    print(f"epoch {epoch + 1}, step {step:4d}: batch loss {loss:.3f}, validation loss {val_loss:.3f}, "
                          f"accuracy {val_acc:.3f} ({time.perf_counter() - start:.0f} s)")
    history["filter_steps"].append(step)
    history["filters"].append(to_numpy(first_conv.params["W"]).copy())
    history["seconds"] = time.perf_counter() - start
    return history


def _where(net):
    """The array module and dtype of the network's parameters."""
    W = next(layer.params["W"] for layer in net.layers if "W" in layer.params)
    return array_module(W), W.dtype
'''

PRINT_CELL = """print("offset check:", row_major_offset((0, 1), (2, 3)), row_major_strides((2, 3), 4))
x45, x_v, w_v, b_v, rng, windows, cols, net, tiny = (None,) * 9  # names the tests also use
"""

WARN_CELL = """import warnings

warnings.warn("col2im_add_at is slow, I know")
print("col2im of ones:", col2im(np.ones((4, 4)), (1, 1, 3, 3), 2)[0, 0])
"""

PLOT_CELL = """import matplotlib.pyplot as plt

demo, _ = max_pool_forward_fast(np.random.default_rng(1).normal(size=(1, 1, 8, 8)), 2, 2)
plt.imshow(demo[0, 0], cmap="gray")
plt.title("my pooled map")
plt.show()
"""

VARIANTS = [
    Variant(
        name="numpy_star_offsets",
        about="`from numpy import *` at the top of Exercise 1 (rebinds record, sum, max... for the rest of the "
        "notebook), offsets and strides from products of the later axes",
        answers={"ch05_offsets": NUMPY_STAR_OFFSETS},
    ),
    Variant(
        name="read_only_view_offset_loop_tensordot",
        about="a read-only view with strides built in a list, im2col filled one window offset at a time "
        "(no window_view), the forward GEMM by tensordot and moveaxis",
        answers={
            "ch05_window_view": WINDOW_VIEW_LIST,
            "ch05_im2col": IM2COL_BY_OFFSETS,
            "ch05_conv_forward": CONV_FORWARD_TENSORDOT,
        },
    ),
    Variant(
        name="bincount_nchw_einsum",
        about="the scatter-add by np.bincount on flat row-major indices, col2im accumulating in NCHW directly, "
        "the backward products by einsum",
        answers={
            "ch05_col2im_add_at": COL2IM_BINCOUNT,
            "ch05_col2im": COL2IM_NCHW,
            "ch05_conv_backward": CONV_BACKWARD_EINSUM,
        },
    ),
    Variant(
        name="pool_from_windows_layers_helpers",
        about="max pooling from the window view and put_along_axis, layers with a shape-checking helper, He's "
        "initialisation by a unit-scale rng.normal call, a new grads dict, train_step with explicit config keys",
        answers={
            "ch05_max_pool": MAX_POOL_WINDOWS,
            "ch05_layers": LAYERS_HELPERS,
            "ch05_train": TRAIN_STEP_GET,
        },
    ),
    Variant(
        name="extra_cells_print_warn_plot",
        about="the solution's answers plus cells of the student's own that print, rebind names the tests use "
        "(x45, x_v, w_v, b_v, rng, windows, cols, net, tiny), warn and plot",
        answers={},
        added=(
            ("ch05_offsets", PRINT_CELL),
            ("ch05_col2im", WARN_CELL),
            ("ch05_max_pool", PLOT_CELL),
        ),
    ),
]
