"""Core layer: params (defaults and checks), the run context shared by the notebooks, the runner, run history,
notebook housekeeping."""
