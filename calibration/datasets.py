"""Raw data of every calibration run in a QCoDeS dataset, in a database inside the lab's ``.qubitlab/`` folder.

One experiment row per lab (``calibration`` / lab name), one dataset per run: the swept variable as the
setpoint and each raw quantity (mean I and Q per point, or any array an experiment hands over) as a dependent
parameter, with the station snapshot of the executor attached. The database path is passed explicitly to
QCoDeS; nothing goes to QCoDeS' default location in the home directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


class Datasets:
    """Writes datasets to ``path`` (created on first use)."""

    def __init__(self, path: Path, sample_name: str, station: Any = None) -> None:
        self.path = path
        self.sample_name = sample_name
        self.station = station
        self._connection: Any = None
        self._experiment: Any = None

    def _open(self) -> Any:
        if self._experiment is None:
            from qcodes.dataset import connect, load_or_create_experiment

            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = connect(str(self.path))
            self._experiment = load_or_create_experiment("calibration", sample_name=self.sample_name,
                                                         conn=self._connection)
        return self._experiment

    def save(self, experiment: str, qubits: Sequence[int], x: np.ndarray, xlabel: str,
             arrays: Mapping[str, Any]) -> int:
        """Store one run; returns its QCoDeS ``run_id``. ``arrays`` hold one value per point of ``x``
        (complex arrays are stored as their real and imaginary parts)."""
        from qcodes.dataset import Measurement

        exp = self._open()
        measurement = Measurement(exp=exp, station=self.station,
                                  name=f"{experiment} " + ",".join(f"q{q}" for q in qubits))
        measurement.register_custom_parameter("x", label=xlabel)
        columns: dict[str, np.ndarray] = {}
        for name, values in arrays.items():
            data = np.asarray(values)
            if data.shape[:1] != np.shape(x)[:1]:
                raise ValueError(f"dataset {experiment}: {name} has {data.shape[:1]} points, x has {np.shape(x)[:1]}")
            flat = data.reshape(data.shape[0], -1) if data.ndim > 1 else data
            if np.iscomplexobj(flat):
                columns[f"{name}_re"], columns[f"{name}_im"] = flat.real, flat.imag
            else:
                columns[name] = flat
        for name, data in columns.items():
            measurement.register_custom_parameter(name, setpoints=("x",),
                                                  paramtype="array" if data.ndim > 1 else "numeric")
        with measurement.run() as saver:
            for i, value in enumerate(np.asarray(x, dtype=float)):
                saver.add_result(("x", value), *[(name, data[i]) for name, data in columns.items()])
            run_id = int(saver.run_id)
        return run_id
