"""Tests of backproplab.backend: choosing NumPy or CuPy from BACKPROPLAB_BACKEND."""

import sys
import types

import numpy as np
import pytest

from backproplab import backend


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    """Each test starts with no cached choice and no BACKPROPLAB_BACKEND."""
    monkeypatch.delenv(backend.ENV_VAR, raising=False)
    backend.reset()
    yield
    backend.reset()


def cupy_works():
    """True when CuPy imports and sees a GPU on this machine."""
    return backend._usable_cupy()[0] is not None


@pytest.mark.skipif(cupy_works(), reason="CuPy with a GPU is available, so auto picks cupy")
def test_numpy_by_default():
    assert backend.get_xp() is np
    assert backend.backend_name() == "numpy"


@pytest.mark.parametrize("value", ["numpy", "NumPy", " numpy "])
def test_numpy_when_asked(monkeypatch, value):
    monkeypatch.setenv(backend.ENV_VAR, value)
    assert backend.get_xp() is np


@pytest.mark.skipif(cupy_works(), reason="CuPy with a GPU is available")
def test_cupy_without_cupy_explains_what_to_do(monkeypatch):
    monkeypatch.setenv(backend.ENV_VAR, "cupy")
    with pytest.raises(RuntimeError) as info:
        backend.get_xp()
    message = str(info.value)
    assert "pip install 'backproplab[gpu]'" in message
    assert "BACKPROPLAB_BACKEND=numpy" in message


def test_invalid_value_lists_the_valid_ones(monkeypatch):
    monkeypatch.setenv(backend.ENV_VAR, "torch")
    with pytest.raises(ValueError) as info:
        backend.get_xp()
    for name in ("auto", "numpy", "cupy"):
        assert name in str(info.value)


def test_changing_the_variable_changes_the_choice(monkeypatch):
    monkeypatch.setenv(backend.ENV_VAR, "numpy")
    assert backend.get_xp() is np
    monkeypatch.setenv(backend.ENV_VAR, "bogus")
    with pytest.raises(ValueError):
        backend.get_xp()


def fake_cupy(get_device_count):
    """A stand-in ``cupy`` module whose ``cuda.runtime.getDeviceCount`` is the given function."""
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    return types.SimpleNamespace(__name__="cupy", cuda=types.SimpleNamespace(runtime=runtime))


def no_driver():
    raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient")


def test_cupy_installed_without_a_gpu_falls_back_to_numpy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(no_driver))
    assert backend.get_xp() is np
    monkeypatch.setenv(backend.ENV_VAR, "cupy")
    with pytest.raises(RuntimeError, match="cudaErrorInsufficientDriver.*backproplab\\[gpu\\]"):
        backend.get_xp()


def test_auto_picks_cupy_when_it_sees_a_gpu(monkeypatch):
    fake = fake_cupy(lambda: 1)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert backend.get_xp() is fake and backend.backend_name() == "cupy"
    monkeypatch.setenv(backend.ENV_VAR, "numpy")
    assert backend.get_xp() is np


def test_to_numpy_passes_numpy_through():
    x = np.arange(6.0).reshape(2, 3)
    assert backend.to_numpy(x) is x
    assert np.array_equal(backend.to_numpy([1, 2]), np.array([1, 2]))


@pytest.mark.skipif(not cupy_works(), reason="needs CuPy and a GPU")
def test_cupy_roundtrip(monkeypatch):
    monkeypatch.setenv(backend.ENV_VAR, "cupy")
    xp = backend.get_xp()
    assert backend.backend_name() == "cupy"
    x = xp.arange(6.0).reshape(2, 3)
    back = backend.to_numpy(x)
    assert isinstance(back, np.ndarray) and back.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_array_module_of_numpy_arrays_lists_and_scalars_is_numpy():
    for value in (np.zeros((2, 3)), np.float32(1.5), [1.0, 2.0], 3.0):
        assert backend.array_module(value) is np


def test_array_module_does_not_import_cupy_for_numpy_input(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # importing cupy would raise ImportError
    assert backend.array_module(np.ones(3)) is np


def test_array_module_of_a_cupy_array_is_cupy(monkeypatch):
    fake = fake_cupy(lambda: 1)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    FakeArray = type("ndarray", (), {"__module__": "cupy._core.core"})
    assert backend.array_module(FakeArray()) is fake


def test_array_module_ignores_the_environment_variable(monkeypatch):
    monkeypatch.setenv(backend.ENV_VAR, "cupy")  # would raise in get_xp() without a GPU
    assert backend.array_module(np.ones(2)) is np


@pytest.mark.skipif(not cupy_works(), reason="needs CuPy and a GPU")
def test_array_module_of_a_real_cupy_array():
    import cupy

    assert backend.array_module(cupy.ones(3)) is cupy
