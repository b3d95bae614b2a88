"""The Estimator's per-outcome weights of Pauli terms, against parities written out by hand."""

from __future__ import annotations

import numpy as np

from qubitlab.runtime.estimation import _weights


def test_weights_are_the_signs_of_each_terms_support_parity() -> None:
    # outcome index bit q is qubit q; labels are Qiskit order (qubit 0 rightmost)
    np.testing.assert_array_equal(_weights({"IZ": 1.0}, 2), [1, -1, 1, -1])
    np.testing.assert_array_equal(_weights({"ZI": 1.0}, 2), [1, 1, -1, -1])
    np.testing.assert_array_equal(_weights({"ZZ": 1.0}, 2), [1, -1, -1, 1])
    np.testing.assert_allclose(_weights({"XX": 0.5, "IX": -2.0}, 2), [-1.5, 1.5, -2.5, 2.5])
    three = _weights({"ZIZ": 1.0}, 3)                      # qubits 0 and 2
    np.testing.assert_array_equal(three, [1, -1, 1, -1, -1, 1, -1, 1])
