"""A notebook run on its own: which params file it opens, and where it is.

Every notebook starts with the same short parameters cell::

    params_file = "../params/default.yaml"  # relative to this notebook's folder, or absolute
    as_of = None       # "2026-06-30": analyse as of that date; None = the params file's
    language = None    # "tr" | "en"; None = the params file's
    overrides = {}     # params sections to change, e.g. {"churn": {"horizon_days": 60}}
    context_dir = None  # set by python -m crmlib run
    export_dir = None   # set by python -m crmlib run

and opens its context with ``open_context(namespace=globals())``. Three ways in, in this order:

1. ``context_dir`` set (``python -m crmlib run``): the runner's saved context.
2. A whole params file injected as top-level keys (``papermill ... -f my.yaml``, or papermill's Python API with
   ``parameters=yaml.safe_load(...)``): those keys are the params. Paths in them are relative to ``my.yaml``,
   which papermill's command line names (read from the kernel's parent process); when it cannot be found
   (the Python API), see :func:`crmlib.core.context.resolve_data_path`.
3. Otherwise ``params_file`` (JupyterLab, ``jupyter nbconvert --execute``, ``papermill -p params_file F``),
   with ``as_of``, ``language`` and ``overrides`` applied over it. Paths inside it are relative to it.

A relative ``params_file`` is relative to the notebook's folder, found by :func:`notebook_folder`.
"""

from __future__ import annotations

import os
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crmlib.errors import ParamsError

#: the parameters every notebook declares (the rest of the params come from the params file)
NOTEBOOK_PARAMETERS: tuple[str, ...] = ("params_file", "as_of", "language", "overrides", "context_dir",
                                        "export_dir")
DEFAULT_PARAMS_FILE = "../params/default.yaml"


def _papermill_parent() -> tuple[list[str], Path] | None:
    """The command line and working folder of the ``papermill`` command that started this kernel, if any."""
    try:
        import psutil

        parent = psutil.Process().parent()
        if parent is None:
            return None
        cmdline = parent.cmdline()
        cwd = Path(parent.cwd())
    except Exception:  # no such process, no permission, no psutil: not started by papermill's CLI
        return None
    head = [Path(arg).name.lower() for arg in cmdline[:3]]
    if not any(name in ("papermill", "papermill.exe", "papermill-script.py") for name in head) and \
            not (len(cmdline) > 2 and cmdline[1] == "-m" and cmdline[2] == "papermill"):
        return None
    return cmdline, cwd


def _cli_values(cmdline: list[str], *flags: str) -> list[str]:
    """Values of an option given as ``-f X``, ``--flag X`` or ``--flag=X`` (in order)."""
    values = []
    for index, arg in enumerate(cmdline):
        for flag in flags:
            if arg == flag and index + 1 < len(cmdline):
                values.append(cmdline[index + 1])
            elif flag.startswith("--") and arg.startswith(flag + "="):
                values.append(arg.split("=", 1)[1])
    return values


def papermill_params_file() -> Path | None:
    """The last ``-f``/``--parameters_file`` of the papermill command that started this kernel, if any."""
    found = _papermill_parent()
    if found is None:
        return None
    cmdline, cwd = found
    files = [(cwd / Path(value).expanduser()).resolve() for value in
             _cli_values(cmdline, "-f", "--parameters_file")]
    files = [path for path in files if path.is_file()]
    return files[-1] if files else None


def notebook_folder(namespace: Mapping[str, Any] | None = None) -> Path:
    """The folder of the running notebook.

    JupyterLab, ``jupyter nbconvert --execute`` and the runner start the kernel in the notebook's folder; so
    does papermill with ``--cwd``. In order: VS Code's ``__vsc_ipynb_file__``; JupyterLab's
    ``JPY_SESSION_NAME`` (the notebook's path); the input notebook of the ``papermill`` command that started
    the kernel (papermill keeps the caller's folder unless told ``--cwd``); the kernel's working folder.
    """
    namespace = namespace or {}
    vscode = namespace.get("__vsc_ipynb_file__")
    if isinstance(vscode, str) and Path(vscode).is_file():
        return Path(vscode).resolve().parent
    session = os.environ.get("JPY_SESSION_NAME")
    if session and session.endswith(".ipynb") and Path(session).is_file():
        return Path(session).resolve().parent
    found = _papermill_parent()
    if found is not None:
        cmdline, cwd = found
        notebooks = [arg for arg in cmdline[1:] if arg.endswith(".ipynb") and not arg.startswith("-")]
        if notebooks and (cwd / notebooks[0]).is_file():
            return (cwd / notebooks[0]).resolve().parent
    return Path.cwd().resolve()


def resolve_params_file(params_file: str | os.PathLike, namespace: Mapping[str, Any] | None = None) -> Path:
    """Resolve ``params_file`` (relative to the notebook's folder) and check it exists."""
    given = Path(params_file).expanduser()
    folder = notebook_folder(namespace)
    path = given if given.is_absolute() else (folder / given)
    path = path.resolve()
    if not path.is_file():
        raise ParamsError(
            f"Params file {str(path)!r} not found (params_file = {str(params_file)!r}, relative to the notebook's "
            f"folder {str(folder)!r}). Set params_file in the notebook's parameters cell to the path of your "
            "params file (absolute, or relative to the notebook), or pass it with "
            "`papermill ... -p params_file /absolute/path.yaml`.")
    return path


def merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` over ``base``: mappings key by key (recursively), anything else replaced."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def injected_params(namespace: Mapping[str, Any], top_level: tuple[str, ...]) -> dict[str, Any] | None:
    """The params papermill injected as top-level keys (``-f my.yaml``), or ``None`` when there are none.

    A whole params file is recognised by its ``data`` mapping; modules imported under a params key's name
    are not params.
    """
    if not isinstance(namespace.get("data"), Mapping):
        return None
    return {key: namespace[key] for key in top_level
            if key in namespace and key not in ("as_of", "language") and not isinstance(namespace[key], types.ModuleType)}


def notebook_overrides(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """``as_of``, ``language`` (when not ``None``) and ``overrides`` of the parameters cell, as params."""
    changes: dict[str, Any] = {}
    overrides = namespace.get("overrides") or {}
    if not isinstance(overrides, Mapping):
        raise ParamsError(f"The notebook parameter 'overrides' must be a mapping of params sections to values, "
                          f"e.g. {{'churn': {{'horizon_days': 60}}}}; got {overrides!r}.")
    changes.update(overrides)
    for key in ("as_of", "language"):
        if namespace.get(key) is not None:
            changes[key] = namespace[key]
    return changes
