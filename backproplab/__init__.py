"""Backprop Lab's helper package: what the notebooks import, never an answer of the chapter importing it.

``layers``, ``optim``, ``regularization``, ``conv_naive`` and ``torch_training`` are earlier
chapters' answers, generated from the solutions by ``python -m autograder build``
(``autograder/provided.py``); a release for chapter NN holds only those of chapters before NN.

Modules:
    backend    NumPy, or CuPy on a usable GPU (``BACKPROPLAB_BACKEND``)
    gradcheck  numerical gradients and the course's relative error
    checks     the test cells' checks, which explain failures in words
    datasets   the dataset registry, verified downloads and loaders
    grading    records of test results, checked by the grader outside the kernel
    plotting   figures with alt text (show_figure), rows of controls, a contour colour map
    widgets    the optimisation-path explorer (chapter 01)
    weights_viewer  a hidden unit's incoming weights as an image, during training (chapter 02)
    layers     chapter 02's dense layers (affine, ReLU, tanh, softmax loss), provided to later chapters
    optimizer_paths  optimiser paths on 2-D surfaces, for the student's step functions (chapter 03)
    kernel_explorer  kernels, stride, padding and pooling on a photo, with the student's layers (chapter 04)
    optim      chapter 03's Adam and AdamW, provided to later chapters
    regularization  chapter 03's inverted dropout, provided to later chapters
    conv_naive  chapter 04's loop convolution and max pooling, provided to chapter 05 as its reference
    torch_training  chapter 07's training step, top-k accuracy and evaluation, provided to chapter 08
    training_loop  fit and make_loader, the loop chapter 08 trains with
    filter_viewer  first-layer filters (von Hacht, eq. 3.8) over training checkpoints (chapter 05)
"""

__version__ = "0.1.0"
