"""Calibration: versioned SQLite store, snapshots, gate map, experiments, fits, bring-up graph and reports.

Built by the calibration issue; empty for now.
"""
