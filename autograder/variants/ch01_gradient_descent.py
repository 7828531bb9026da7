"""Correct answers of chapter 01 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

VARIANTS = [
    Variant(
        name="own_symbols_without_real",
        about="declares its own SymPy symbols without real=True and writes the derivatives expanded",
        answers={
            "ch01_derive_gradients": (
                "import sympy as sp\n"
                "\n"
                'x1, x2, w1, w2, b, y = sp.symbols("x1 x2 w1 w2 b y")\n'
                "dC_dw1 = x1**2 * w1 + x1 * x2 * w2 + x1 * b - x1 * y\n"
                "dC_dw2 = sp.expand(x2 * (x1 * w1 + x2 * w2 + b - y))\n"
                "dC_db = -(y - (x1 * w1 + x2 * w2 + b))\n"
                "dC_dw1, dC_dw2, dC_db\n"
            ),
        },
    ),
    Variant(
        name="star_numpy_loops",
        about="`from numpy import *` at the top of the first answer cell, then loops and bare numpy names",
        answers={
            "ch01_forward": (
                "from numpy import *\n"
                "\n"
                "\n"
                "def forward(X, W, b):\n"
                "    z = b\n"
                "    for i in range(len(X)):\n"
                "        z = z + X[i] * W[i]\n"
                "    return z\n"
            ),
            "ch01_cost": ("def cost(z, y):\n    return 0.5 * square(z - y)\n"),
            "ch01_gradients": (
                "def gradients(X, y, W, b):\n"
                "    e = forward(X, W, b) - y\n"
                "    dW = zeros(len(X))\n"
                "    for i in range(len(X)):\n"
                "        dW[i] = e * X[i]\n"
                "    return dW, e\n"
            ),
            "ch01_max_stable_lr": ("def max_stable_lr(X):\n    return 2 / (sum(X**2) + 1)\n"),
        },
    ),
    Variant(
        name="star_math_preallocated_history",
        about="`from math import *` and helpers; train and train_momentum fill preallocated arrays, "
        "momentum inlined with in-place updates of copies, momentum_step returns a list",
        answers={
            "ch01_gd_step": (
                "from math import *\n"
                "\n"
                "\n"
                "def _moved(param, grad, lr):\n"
                "    return param + (-lr) * grad\n"
                "\n"
                "\n"
                "def gd_step(W, b, dW, db, lr):\n"
                "    return _moved(W, dW, lr), _moved(b, db, lr)\n"
            ),
            "ch01_train": (
                "def train(X, y, W, b, lr, num_epochs):\n"
                "    D = len(W)\n"
                "    Ws, bs = np.empty((num_epochs + 1, D)), np.empty(num_epochs + 1)\n"
                "    Ws[0], bs[0] = W, b\n"
                "    for n in range(num_epochs):\n"
                "        dW, db = gradients(X, y, Ws[n], bs[n])\n"
                "        Ws[n + 1], bs[n + 1] = gd_step(Ws[n], bs[n], dW, db, lr)\n"
                "    zs = Ws @ X + bs\n"
                '    return {"W": Ws, "b": bs, "z": zs, "cost": (zs - y) ** 2 / 2}\n'
            ),
            "ch01_max_stable_lr": (
                "def max_stable_lr(X):\n"
                "    lam = fsum(float(x) ** 2 for x in X) + 1\n"
                "    return 2 / lam\n"
            ),
            "ch01_momentum_step": (
                "def momentum_step(W, b, vW, vb, dW, db, lr, mu):\n"
                "    new_vW = mu * vW - lr * dW\n"
                "    new_vb = mu * vb - lr * db\n"
                "    return [W + new_vW, b + new_vb, new_vW, new_vb]\n"
            ),
            "ch01_train_momentum": (
                "def train_momentum(X, y, W, b, lr, mu, num_epochs):\n"
                "    W = W.copy()\n"
                "    vW, vb = np.zeros(len(W)), 0.0\n"
                '    out = {"W": np.zeros((num_epochs + 1, len(W))), "b": np.zeros(num_epochs + 1),\n'
                '           "z": np.zeros(num_epochs + 1), "cost": np.zeros(num_epochs + 1)}\n'
                "    for n in range(num_epochs + 1):\n"
                "        z = X @ W + b\n"
                '        out["W"][n], out["b"][n], out["z"][n], out["cost"][n] = W, b, z, 0.5 * (y - z) ** 2\n'
                "        vW *= mu\n"
                "        vW -= lr * (z - y) * X\n"
                "        vb = mu * vb - lr * (z - y)\n"
                "        W += vW\n"
                "        b += vb\n"
                "    return out\n"
            ),
        },
    ),
    Variant(
        name="zero_d_arrays_and_dot",
        about="forward and gradients return 0-d NumPy arrays (np.asarray), np.dot and np.inner, "
        "gd_step copies then updates in place",
        answers={
            "ch01_forward": ("def forward(X, W, b):\n    return np.asarray(np.dot(W, X) + b)\n"),
            "ch01_gradients": (
                "def gradients(X, y, W, b):\n"
                "    dC_dz = np.asarray(forward(X, W, b) - y)\n"
                "    return dC_dz * np.asarray(X), dC_dz\n"
            ),
            "ch01_gd_step": (
                "def gd_step(W, b, dW, db, lr):\n"
                "    W_new = np.array(W, dtype=float, copy=True)\n"
                "    W_new -= lr * dW\n"
                "    return W_new, b - lr * db\n"
            ),
            "ch01_max_stable_lr": (
                "def max_stable_lr(X):\n    return np.asarray(2.0 / (np.inner(X, X) + 1.0))\n"
            ),
        },
    ),
    Variant(
        name="prints_warns_plots",
        about="extra student cells that print, warn and plot with matplotlib; train_momentum lists rows, "
        "cost from the expanded square",
        answers={
            "ch01_cost": (
                "import warnings\n"
                "\n"
                "\n"
                "def cost(z, y):\n"
                "    if abs(z - y) > 1e6:\n"
                '        warnings.warn("the error is huge: is the learning rate too large?")\n'
                "    return (z * z - 2 * z * y + y * y) / 2\n"
            ),
            "ch01_train_momentum": (
                "def train_momentum(X, y, W, b, lr, mu, num_epochs):\n"
                "    rows = []\n"
                "    vW, vb = 0 * W, 0.0\n"
                "    for epoch in range(num_epochs + 1):\n"
                "        z = forward(X, W, b)\n"
                "        rows.append((W, b, z, cost(z, y)))\n"
                "        if epoch == num_epochs:\n"
                "            break\n"
                "        dW, db = gradients(X, y, W, b)\n"
                "        W, b, vW, vb = momentum_step(W, b, vW, vb, dW, db, lr, mu)\n"
                "    Ws, bs, zs, costs = zip(*rows)\n"
                "    return dict(W=np.stack(Ws), b=np.array(bs), z=np.array(zs), cost=np.array(costs))\n"
            ),
        },
        added=(
            ("ch01_forward", "print('z at the start:', forward(X_toy, W_start, b_start))\n"),
            (
                "ch01_train",
                (
                    "import warnings\n"
                    "\n"
                    "import matplotlib.pyplot as plt\n"
                    "\n"
                    "my_history = train(X_toy, y_toy, W_start, b_start, 0.01, 15)\n"
                    'warnings.warn("just checking that a warning does no harm")\n'
                    "fig, ax = plt.subplots()\n"
                    'ax.semilogy(my_history["cost"], "o-")\n'
                    'ax.set_title("my cost curve")\n'
                    "plt.show()\n"
                    'print(my_history["W"][-1], my_history["b"][-1])\n'
                ),
            ),
            (
                "ch01_train_momentum",
                "print(train_momentum(X_toy, y_toy, W_start, b_start, 0.001, 0.65, 15)['cost'][-1])\n",
            ),
        ),
    ),
]
