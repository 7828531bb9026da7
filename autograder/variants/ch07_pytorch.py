"""Correct answers of chapter 07 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

# Exercise 5 with the layers created in another order (so default initialisation draws other numbers
# for every layer) and the pooling, ReLU and flattening done by modules.
MODULES_REVERSED = '''
class Table32Net(nn.Module):
    """Table 3.2's network; the layers are made from the last to the first."""

    def __init__(self, keep_prob=0.5):
        super().__init__()
        self.fc2 = nn.Linear(1024, 10)
        self.dropout = nn.Dropout(p=1.0 - keep_prob)
        self.fc1 = nn.Linear(3136, 1024)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5, padding=2)
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.flatten = nn.Flatten()

    def forward(self, X):
        h = self.pool(self.relu(self.conv1(X)))
        h = self.pool(self.relu(self.conv2(h)))
        h = self.relu(self.fc1(self.flatten(h)))
        return self.fc2(self.dropout(h))


class Seed003Net(nn.Module):
    """Seed 003's CNN; the dense layers are made before the convolutions."""

    def __init__(self):
        super().__init__()
        self.fc2 = nn.Linear(600, 10)
        self.fc1 = nn.Linear(32 * 7 * 7, 600)
        self.batch_norm2 = nn.BatchNorm2d(32)
        self.batch_norm1 = nn.BatchNorm2d(8)
        self.cnn2 = nn.Conv2d(8, 32, 5, padding=2)
        self.cnn1 = nn.Conv2d(1, 8, 3, padding=1)

    def forward(self, X):
        h = F.max_pool2d(torch.relu(self.batch_norm1(self.cnn1(X))), kernel_size=2, stride=2)
        h = F.max_pool2d(torch.relu(self.batch_norm2(self.cnn2(h))), kernel_size=2, stride=2)
        h = h.reshape(h.shape[0], -1)
        return self.fc2(torch.relu(self.fc1(h)))
'''

# Exercise 5 with nn.Sequential blocks that hold the named layers (the exercise asks for the names,
# not for how forward reaches them).
MODULES_SEQUENTIAL = '''
class Table32Net(nn.Module):
    def __init__(self, keep_prob=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        )
        self.classifier = nn.Sequential(nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(1 - keep_prob), nn.Linear(1024, 10))
        self.conv1, self.conv2 = self.features[0], self.features[3]
        self.fc1, self.dropout, self.fc2 = self.classifier[0], self.classifier[2], self.classifier[3]

    def forward(self, X):
        return self.classifier(self.features(X))


def conv_block(c_in, c_out, k):
    """conv (padding k // 2), batch norm, ReLU, 2x2 max pooling."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


class Seed003Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = conv_block(1, 8, 3)
        self.block2 = conv_block(8, 32, 5)
        self.cnn1, self.batch_norm1 = self.block1[0], self.block1[1]
        self.cnn2, self.batch_norm2 = self.block2[0], self.block2[1]
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(1568, 600), nn.ReLU(), nn.Linear(600, 10))
        self.fc1, self.fc2 = self.head[1], self.head[3]

    def forward(self, X):
        return self.head(self.block2(self.block1(X)))
'''

VJP_AUTOGRAD_GRAD = '''
def torch_vjp(fn, inputs, dout):
    """The vector-Jacobian product by torch.autograd.grad, with grad_outputs = dout."""
    leaves = [torch.from_numpy(np.array(a, dtype=float)).requires_grad_() for a in inputs]
    out = fn(*leaves)
    upstream = torch.broadcast_to(torch.as_tensor(dout, dtype=out.dtype), out.shape)
    grads = torch.autograd.grad(out, leaves, grad_outputs=upstream, allow_unused=True)
    result = []
    for leaf, g in zip(leaves, grads):
        result.append(np.zeros(tuple(leaf.shape)) if g is None else g.detach().numpy())
    return result
'''

LINEAR_PARAMETERS = """
def linear_from_ours(W, b):
    layer = nn.Linear(W.shape[0], W.shape[1]).to(torch.as_tensor(W).dtype)
    layer.weight = nn.Parameter(torch.tensor(W.T.copy()))
    layer.bias = nn.Parameter(torch.tensor(np.array(b, copy=True)))
    return layer
"""

CONV_DATA = """
def conv2d_from_ours(w, b, stride=1, pad=0):
    weight = torch.from_numpy(np.ascontiguousarray(w))
    layer = nn.Conv2d(in_channels=w.shape[1], out_channels=w.shape[0], kernel_size=tuple(w.shape[2:]),
                      stride=stride, padding=pad).to(weight.dtype)
    layer.weight.data = weight.clone()
    layer.bias.data = torch.from_numpy(np.ascontiguousarray(b)).clone()
    return layer
"""

# `from torch import *` at the top of the first answer cell: it rebinds sum, max, min, range, float...
# in the notebook for every later cell, so this student's later answers avoid those names too.
VJP_STAR = """
from torch import *


def torch_vjp(fn, inputs, dout):
    leaves = [tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in inputs]
    out = fn(*leaves)
    out.backward(as_tensor(np.asarray(dout, dtype=np.float64)) * ones_like(out))
    return [zeros(leaf.shape, dtype=float64).numpy() if leaf.grad is None else leaf.grad.numpy() for leaf in leaves]
"""

TOPK_STAR = """
def topk_accuracy(logits, y, ks=(1, 5)):
    order = argsort(logits, dim=1, descending=True)
    position = (order == y.reshape(-1, 1)).int().argmax(dim=1)  # where the true class is in each row's ranking
    return [(position < k).double().mean().item() for k in ks]
"""

EVALUATE_STAR = """
def evaluate(model, loader, loss_fn):
    before = {name: module.training for name, module in model.named_modules()}
    model.eval()
    sums = {"loss": 0.0, "top1": 0.0, "top5": 0.0}
    seen = 0
    with no_grad():
        for X, y in loader:
            scores = model(X)
            k5 = 5 if scores.shape[1] >= 5 else scores.shape[1]
            acc1, acc5 = topk_accuracy(scores, y, (1, k5))
            n = y.shape[0]
            sums["loss"] += n * loss_fn(scores, y).item()
            sums["top1"] += n * acc1
            sums["top5"] += n * acc5
            seen += n
    for name, module in model.named_modules():
        module.training = before[name]
    return {key: value / seen for key, value in sums.items()}
"""

TRAIN_STEP_OTHER = """
def train_step(model, X, y, optimizer, loss_fn):
    model.train(True)
    for p in model.parameters():
        p.grad = None
    scores = model(X)
    loss = loss_fn(scores, y)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
"""

# top-k with a loop over the rows, in plain Python numbers
TOPK_LOOP = """
def topk_accuracy(logits, y, ks=(1, 5)):
    rows = logits.detach().tolist()
    labels = y.tolist()
    accuracies = []
    for k in ks:
        hits = 0
        for row, label in zip(rows, labels):
            ranked = sorted(range(len(row)), key=lambda j: -row[j])
            if label in ranked[:k]:
                hits += 1
        accuracies.append(hits / len(rows))
    return accuracies
"""

# evaluate with float32 running sums (the loss is then a float32 number) and helpers
EVALUATE_FLOAT32 = """
def _modes(model):
    return [m.training for m in model.modules()]


def _restore(model, modes):
    for m, mode in zip(model.modules(), modes):  # parents come before their children: train(mode) of a
        m.train(mode)  # parent is then corrected by each child's own call


def evaluate(model, loader, loss_fn):
    modes = _modes(model)
    model.eval()
    totals = torch.zeros(3, dtype=torch.float32)
    count = 0
    with torch.no_grad():
        for X, y in loader:
            logits = model(X)
            accs = topk_accuracy(logits, y, ks=(1, min(5, logits.shape[-1])))
            totals += torch.tensor([loss_fn(logits, y).item(), *accs], dtype=torch.float32) * len(X)
            count += len(X)
    _restore(model, modes)
    loss, top1, top5 = (totals / count).tolist()
    return dict(loss=loss, top1=top1, top5=top5)
"""

CHECKPOINT_FILES = """
import io


def save_checkpoint(path, model, optimizer, epoch):
    buffer = io.BytesIO()
    torch.save({"epoch": int(epoch), "optimizer": optimizer.state_dict(), "model": model.state_dict()}, buffer)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def load_checkpoint(path, model, optimizer):
    with open(path, "rb") as f:
        state = torch.load(f, map_location="cpu")
    optimizer.load_state_dict(state["optimizer"])
    model.load_state_dict(state["model"])
    return state["epoch"]
"""

PRINT_LINEAR = """
layer = linear_from_ours(np.arange(6.0).reshape(3, 2), np.zeros(2))
print(layer, layer.weight.dtype)
print(layer.weight)
"""

WARN_CONV = """
import warnings

demo = conv2d_from_ours(np.ones((2, 1, 3, 3)), np.zeros(2), stride=1, pad=1)
warnings.warn(f"my conv layer: {demo}")
print(demo(torch.ones(1, 1, 4, 4, dtype=torch.float64)).shape)
"""

PLOT_MODULES = """
net = Table32Net()
print(sum(p.numel() for p in net.parameters()), "parameters")
fig, axes = plt.subplots(4, 8, figsize=(8, 4))
for ax, kernel in zip(axes.ravel(), net.conv1.weight.detach()):
    ax.imshow(kernel[0], cmap="gray")
    ax.axis("off")
plt.show()
"""

# a student cell with `from numpy import *` before a test cell: numpy's record, copy, sum, max... shadow the
# notebook's until a test cell imports what it needs again
NUMPY_STAR = """
from numpy import *

print(sqrt(2.0), pi)
"""

PLOT_TOPK = """
import warnings

scores = torch.randn(200, 10)
labels = torch.randint(0, 10, (200,))
accs = topk_accuracy(scores, labels, ks=tuple(range(1, 11)))
warnings.warn("random scores: top-k should grow like k / 10")
plt.plot(range(1, 11), accs, "o-")
plt.xlabel("k")
plt.show()
print(accs)
"""

VARIANTS = [
    Variant(
        name="layers_made_in_reverse_order",
        about="both networks create their dense layers before their convolutions (other default weights) and "
        "pool, ReLU and flatten with modules",
        answers={"ch07_modules": MODULES_REVERSED},
    ),
    Variant(
        name="sequential_blocks_and_other_copies",
        about="the networks run nn.Sequential blocks that hold the named layers; the vjp by torch.autograd.grad; "
        "weights copied by nn.Parameter and .data",
        answers={
            "ch07_modules": MODULES_SEQUENTIAL,
            "ch07_vjp": VJP_AUTOGRAD_GRAD,
            "ch07_linear": LINEAR_PARAMETERS,
            "ch07_conv": CONV_DATA,
        },
    ),
    Variant(
        name="star_import_torch",
        about="`from torch import *` at the top of the first answer cell (sum, max, range, float... are torch's "
        "from then on); the later answers use torch's names",
        answers={"ch07_vjp": VJP_STAR, "ch07_topk": TOPK_STAR, "ch07_evaluate": EVALUATE_STAR},
    ),
    Variant(
        name="loops_float32_sums_and_file_handles",
        about="top-k by a Python loop over sorted rows, evaluate with float32 running sums and helpers, a train "
        "step that clears grads by hand, checkpoints through file handles",
        answers={
            "ch07_topk": TOPK_LOOP,
            "ch07_evaluate": EVALUATE_FLOAT32,
            "ch07_train_step": TRAIN_STEP_OTHER,
            "ch07_checkpoint": CHECKPOINT_FILES,
        },
    ),
    Variant(
        name="extra_cells_print_warn_plot",
        about="the solution with cells of the student's own that print, warn, build networks (using the global "
        "random numbers), plot, and star-import numpy before the modules' and the training step's tests (so "
        "this student's evaluate does without the bare min that numpy's star import rebinds)",
        answers={
            "ch07_evaluate": EVALUATE_STAR.replace("with no_grad():", "with torch.no_grad():")
        },
        added=(
            ("ch07_linear", PRINT_LINEAR),
            ("ch07_conv", WARN_CONV),
            ("ch07_modules", NUMPY_STAR),
            ("ch07_modules", PLOT_MODULES),
            ("ch07_train_step", NUMPY_STAR),
            ("ch07_topk", PLOT_TOPK),
        ),
    ),
]
