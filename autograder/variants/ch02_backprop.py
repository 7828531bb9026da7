"""Correct answers of chapter 02 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

VARIANTS = [
    Variant(
        name="lists_of_zero_d_arrays",
        about="the circuits return lists, not tuples, of 0-d arrays made with np.zeros_like and filled in place",
        answers={
            "ch02_add_mul_circuit": (
                "def add_mul_circuit(x, y, z, dout=1.0):\n"
                "    f, dx, dy, dz = np.zeros_like(x), np.zeros_like(x), np.zeros_like(y), np.zeros_like(z)\n"
                "    f += (x + y) * z\n"
                "    dx += dout * z\n"
                "    dy += dout * z\n"
                "    dz += dout * (x + y)\n"
                "    return [f, dx, dy, dz]\n"
            ),
            "ch02_fanout_circuit": (
                "def fanout_circuit(x, y, z, dout=1.0):\n"
                "    f, dx, dy, dz = (np.zeros_like(x) for _ in range(4))\n"
                "    f += (x * y + z) * x\n"
                "    dx += dout * (2 * x * y + z)  # d/dx of x^2 y + z x\n"
                "    dy += dout * x * x\n"
                "    dz += dout * x\n"
                "    return [f, dx, dy, dz]\n"
            ),
        },
    ),
    Variant(
        name="star_numpy_bare_names",
        about="`from numpy import *` at the top of the first answer cell, then bare numpy names "
        "(sum, max, abs, exp, log, where, maximum) in the layers and losses",
        answers={
            "ch02_add_mul_circuit": (
                "from numpy import *\n"
                "\n"
                "\n"
                "def add_mul_circuit(x, y, z, dout=1.0):\n"
                "    q = add(x, y)\n"
                "    return multiply(q, z), dout * z, dout * z, multiply(dout, q)\n"
            ),
            "ch02_relu": (
                "def relu_forward(x):\n"
                "    mask = x > 0\n"
                "    return where(mask, x, 0.0), mask\n"
                "\n"
                "\n"
                "def relu_backward(dout, cache):\n"
                "    return where(cache, dout, 0.0)\n"
            ),
            "ch02_sigmoid": (
                "def sigmoid_forward(x):\n"
                "    out = 0.5 * (1.0 + tanh(0.5 * x))\n"
                "    return out, out\n"
                "\n"
                "\n"
                "def sigmoid_backward(dout, cache):\n"
                "    return dout * cache * (1 - cache)\n"
            ),
            "ch02_mse_loss": (
                "def mse_loss(scores, y):\n"
                "    N = len(scores)\n"
                "    return sum((scores - y) ** 2) / 2 / N, (scores - y) / N\n"
            ),
            "ch02_bce_loss": (
                "def bce_with_logits_loss(scores, y):\n"
                "    N = scores.shape[0]\n"
                "    # ln(1 + e^s) - y s = max(s, 0) - y s + ln(1 + e^-|s|)\n"
                "    loss = sum(maximum(scores, 0) - y * scores + log1p(exp(-abs(scores)))) / N\n"
                "    p = where(scores >= 0, 1 / (1 + exp(-abs(scores))), exp(-abs(scores)) / (1 + exp(-abs(scores))))\n"
                "    return loss, (p - y) / N\n"
            ),
            "ch02_softmax_loss": (
                "def softmax_loss(scores, y):\n"
                "    N = scores.shape[0]\n"
                "    shifted = scores - max(scores, axis=1, keepdims=True)\n"
                "    log_sum = log(sum(exp(shifted), axis=1))\n"
                "    loss = mean(log_sum - shifted[arange(N), y])\n"
                "    p = exp(shifted - log_sum[:, newaxis])\n"
                "    onehot = zeros_like(p)\n"
                "    onehot[arange(N), y] = 1\n"
                "    return loss, (p - onehot) / N\n"
            ),
            "ch02_confusion_matrix": (
                "def confusion_matrix(y_true, y_pred, num_classes):\n"
                "    return bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)\n"
            ),
        },
    ),
    Variant(
        name="own_symbols_without_real",
        about="rebuilds the network with its own SymPy symbols declared without real=True and writes "
        "every derivative entry by entry",
        answers={
            "ch02_derive_deltas": (
                "import sympy as sp\n"
                "\n"
                'inputs = sp.Matrix(sp.symbols("x1 x2"))\n'
                'target = sp.Matrix(sp.symbols("t1 t2"))\n'
                'V1 = sp.Matrix(2, 2, sp.symbols("w1_11 w1_12 w1_21 w1_22"))\n'
                'c1 = sp.Matrix(sp.symbols("b1_1 b1_2"))\n'
                'V2 = sp.Matrix(2, 2, sp.symbols("w2_11 w2_12 w2_21 w2_22"))\n'
                'c2 = sp.Matrix(sp.symbols("b2_1 b2_2"))\n'
                "hidden = (V1 * inputs + c1).applyfunc(sp.tanh)\n"
                "output = (V2 * hidden + c2).applyfunc(lambda s: 1 / (1 + sp.exp(-s)))\n"
                "delta2 = sp.Matrix([(output[k] - target[k]) * output[k] * (1 - output[k]) for k in range(2)])\n"
                "delta1 = sp.Matrix([(V2[0, k] * delta2[0] + V2[1, k] * delta2[1]) * (1 - hidden[k] ** 2) for k in range(2)])\n"
                "dC_db2 = delta2\n"
                "dC_dW2 = sp.Matrix(2, 2, lambda j, k: delta2[j] * hidden[k])\n"
                "dC_db1 = delta1\n"
                "dC_dW1 = sp.Matrix(2, 2, lambda j, k: delta1[j] * inputs[k])\n"
            ),
        },
    ),
    Variant(
        name="loops_einsum_helpers",
        about="loops and einsum instead of matrix products, helper functions, a flat-index numerical gradient, "
        "an SVM loss and a confusion matrix written with loops",
        answers={
            "ch02_affine": (
                "def affine_forward(X, W, b):\n"
                '    return np.einsum("nd,dm->nm", X, W) + b[None, :], {"X": X, "W": W}\n'
                "\n"
                "\n"
                "def affine_backward(dout, cache):\n"
                '    dX = np.einsum("nm,dm->nd", dout, cache["W"])\n'
                '    dW = np.zeros(cache["W"].shape)\n'
                "    for n in range(dout.shape[0]):\n"
                '        dW += np.outer(cache["X"][n], dout[n])\n'
                "    db = np.ones(dout.shape[0]) @ dout\n"
                "    return dX, dW, db\n"
            ),
            "ch02_tanh": (
                "def _tanh_prime_from_output(th):\n"
                "    return (1 - th) * (1 + th)\n"
                "\n"
                "\n"
                "def tanh_forward(x):\n"
                "    return np.tanh(x), x\n"
                "\n"
                "\n"
                "def tanh_backward(dout, cache):\n"
                "    return dout * _tanh_prime_from_output(np.tanh(cache))\n"
            ),
            "ch02_svm_loss": (
                "def svm_loss(scores, y, delta=1.0):\n"
                "    N, C = scores.shape\n"
                "    loss, dscores = 0.0, np.zeros((N, C))\n"
                "    for n in range(N):\n"
                "        for j in range(C):\n"
                "            if j == y[n]:\n"
                "                continue\n"
                "            margin = scores[n, j] - scores[n, y[n]] + delta\n"
                "            if margin > 0:\n"
                "                loss += margin\n"
                "                dscores[n, j] += 1\n"
                "                dscores[n, y[n]] -= 1\n"
                "    return loss / N, dscores / N\n"
            ),
            "ch02_numerical_grad": (
                "def numerical_grad(f, x, h=1e-5):\n"
                "    grad = np.zeros_like(x, dtype=float)\n"
                "    for k in range(x.size):\n"
                "        saved = x.flat[k]\n"
                "        x.flat[k] = saved + h\n"
                "        up = f(x)\n"
                "        x.flat[k] = saved - h\n"
                "        down = f(x)\n"
                "        x.flat[k] = saved\n"
                "        grad.flat[k] = (up - down) / (2 * h)\n"
                "    return grad\n"
            ),
            "ch02_confusion_matrix": (
                "def confusion_matrix(y_true, y_pred, num_classes):\n"
                "    M = np.zeros((num_classes, num_classes), dtype=int)\n"
                "    for i, j in zip(y_true, y_pred):\n"
                "        M[i, j] += 1\n"
                "    return M\n"
            ),
        },
    ),
    Variant(
        name="mlp_other_creation_order_prints_plots",
        about="an MLP that creates every bias before the weights (from the last layer back) and keeps a list "
        "of layers, an sgd_train that splits the permutation with np.array_split, and extra student "
        "cells that print, warn and plot",
        answers={
            "ch02_mlp": (
                "class MLP:\n"
                '    def __init__(self, layer_sizes, activation="relu", seed=0):\n'
                "        rng = np.random.default_rng(seed)\n"
                "        self.layer_sizes = list(layer_sizes)\n"
                "        self.num_layers = len(self.layer_sizes) - 1\n"
                "        self.activation = activation\n"
                "        self.params = {}\n"
                "        for i in range(self.num_layers, 0, -1):\n"
                '            self.params[f"b{i}"] = np.zeros(self.layer_sizes[i])\n'
                "        for i in range(self.num_layers, 0, -1):\n"
                "            fan_in, fan_out = self.layer_sizes[i - 1], self.layer_sizes[i]\n"
                '            self.params[f"W{i}"] = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)\n'
                "\n"
                "    def _activation(self):\n"
                '        return {"relu": (relu_forward, relu_backward), "sigmoid": (sigmoid_forward, sigmoid_backward),\n'
                '                "tanh": (tanh_forward, tanh_backward)}[self.activation]\n'
                "\n"
                "    def loss(self, X, y=None):\n"
                "        fwd, bwd = self._activation()\n"
                "        layers = []\n"
                "        h = X\n"
                "        for i in range(1, self.num_layers + 1):\n"
                '            h, a_cache = affine_forward(h, self.params["W" + str(i)], self.params["b" + str(i)])\n'
                "            layers.append([a_cache, None])\n"
                "            if i != self.num_layers:\n"
                "                h, layers[-1][1] = fwd(h)\n"
                "        if y is None:\n"
                "            return h\n"
                "        loss, g = softmax_loss(h, y)\n"
                "        grads = {}\n"
                "        for i, (a_cache, f_cache) in reversed(list(enumerate(layers, start=1))):\n"
                "            if f_cache is not None:\n"
                "                g = bwd(g, f_cache)\n"
                "            g, dW, db = affine_backward(g, a_cache)\n"
                '            grads["W" + str(i)], grads["b" + str(i)] = dW, db\n'
                "        return loss, grads\n"
                "\n"
                "    def predict(self, X):\n"
                "        return self.loss(X).argmax(axis=1)\n"
            ),
            "ch02_sgd_train": (
                "import warnings\n"
                "\n"
                "\n"
                "def _scores_of(model, X, y):\n"
                "    return float(model.loss(X, y)[0]), float((model.predict(X) == y).mean())\n"
                "\n"
                "\n"
                "def sgd_train(model, X, y, X_val, y_val, lr, num_epochs, batch_size, seed=0, callback=None):\n"
                "    rng = np.random.default_rng(seed)\n"
                "    N = len(X)\n"
                '    history = {"train_loss": np.zeros(num_epochs + 1), "train_acc": np.zeros(num_epochs + 1),\n'
                '               "val_loss": np.zeros(num_epochs + 1), "val_acc": np.zeros(num_epochs + 1)}\n'
                "    for epoch in range(num_epochs + 1):\n"
                "        if epoch > 0:\n"
                "            order = rng.permutation(N)\n"
                "            for batch in np.array_split(order, range(batch_size, N, batch_size)):\n"
                "                loss, grads = model.loss(X[batch], y[batch])\n"
                "                if not np.isfinite(loss):\n"
                '                    warnings.warn("the loss is not finite")\n'
                "                for name, grad in grads.items():\n"
                "                    model.params[name] = model.params[name] - lr * grad\n"
                '        history["train_loss"][epoch], history["train_acc"][epoch] = _scores_of(model, X, y)\n'
                '        history["val_loss"][epoch], history["val_acc"][epoch] = _scores_of(model, X_val, y_val)\n'
                "        if epoch > 0 and callback:\n"
                "            callback(epoch, model)\n"
                "    return history\n"
            ),
        },
        added=(
            ("ch02_fanout_circuit", "print('my check:', fanout_circuit(3.0, -2.0, 4.0))\n"),
            (
                "ch02_mlp",
                (
                    "import warnings\n"
                    "\n"
                    "import matplotlib.pyplot as plt\n"
                    "\n"
                    'my_net = MLP([4, 6, 3], activation="tanh", seed=3)\n'
                    "my_X = np.random.default_rng(0).normal(size=(10, 4))\n"
                    "my_loss, my_grads = my_net.loss(my_X, np.arange(10) % 3)\n"
                    "print('loss', my_loss, {k: v.shape for k, v in my_grads.items()})\n"
                    "warnings.warn('a warning from my own cell')\n"
                    "fig, ax = plt.subplots()\n"
                    "ax.imshow(my_grads['W1'])\n"
                    "ax.set_title('dW1')\n"
                    "plt.show()\n"
                ),
            ),
        ),
    ),
]
