"""The driver that runs inside a run's container: fetch the notebook if needed, run papermill, say how it went.

The runner copies this file into the run's read-only folder and starts the container with
``python /statcommons-run/driver.py``. It needs only the standard library and papermill (the
user image has both) and reads ``spec.json`` beside it::

    {"input": ..., "cwd": ..., "output_dir": ..., "parameters": {...}, "start_timeout": seconds,
     "clone": {"repository": ..., "branch": ..., "dest": ...} or null, "kernels": [...]}

``kernels`` are the kernels of the image the runner chose (its profile's). A notebook naming
another kernel is not run: ``result.json`` says ``KernelNotInImage`` with the ``kernel``, and the
runner runs it again in the image of that kernel's profile (a cloned notebook's kernel is known
only here). A notebook naming no kernel runs with the first of them.

It writes ``output.ipynb`` (papermill saves it as cells run, so a run stopped at its time
limit leaves the cells done so far) and ``result.json`` in ``output_dir``, which the runner
copies out of the container when it has stopped. ``result.json`` says whether the notebook
ran to the end, the exception otherwise, and how many processes of the container the kernel's
OOM killer ended (from the container's memory cgroup), which is how a run stopped by its
memory limit is told from other failures when the engine does not report it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Where each cgroup version keeps the container's count of processes killed for want of memory.
OOM_FILES = (("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"), ("/sys/fs/cgroup/memory.events", "oom_kill"))


def oom_kills() -> int:
    for path, key in OOM_FILES:
        try:
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
        except (OSError, ValueError):
            continue
    return 0


def clone(spec: dict) -> None:
    command = ["git", "clone", "--quiet", "--depth", "1", "--branch", spec["branch"], spec["repository"], spec["dest"]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"git clone of {spec['repository']} failed: {message[-1] if message else done.returncode}")


class KernelNotInImage(LookupError):
    """The notebook names a kernel this image does not have (the runner knows this name)."""

    def __init__(self, kernel: str, kernels: list):
        super().__init__(f"the notebook's kernel {kernel!r} is not in this image, which has {', '.join(kernels)}")
        self.kernel = kernel


def notebook_kernel(path: str) -> str | None:
    """The kernel the notebook names (``metadata.kernelspec.name``), None when it names none or is unreadable."""
    try:
        notebook = json.loads(Path(path).read_bytes())
    except ValueError:
        return None  # papermill says what is wrong with it
    metadata = notebook.get("metadata") if isinstance(notebook, dict) else None
    spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def main() -> int:
    spec = json.loads((HERE / "spec.json").read_text())
    out = Path(spec["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {"ok": False}
    try:
        if spec.get("clone"):
            clone(spec["clone"])
        if not Path(spec["input"]).is_file():
            raise FileNotFoundError(f"no notebook at {spec['input']}")
        kernels = spec.get("kernels") or []
        kernel = notebook_kernel(spec["input"])
        if kernel is not None and kernels and kernel not in kernels:
            raise KernelNotInImage(kernel, kernels)
        import papermill

        papermill.execute_notebook(
            spec["input"],
            str(out / "output.ipynb"),
            parameters=spec.get("parameters") or {},
            cwd=spec["cwd"],
            progress_bar=False,
            log_output=True,
            start_timeout=spec.get("start_timeout", 60),
            kernel_name=None if kernel is not None or not kernels else kernels[0],
        )
        result = {"ok": True}
    except Exception as e:  # every failure is reported, none is raised
        result = {"ok": False, "ename": type(e).__name__, "evalue": str(e)[:2000]}
        if isinstance(e, KernelNotInImage):
            result["kernel"] = e.kernel
        for name in ("ename", "evalue"):
            if isinstance(getattr(e, name, None), str):  # papermill's PapermillExecutionError
                result[name] = getattr(e, name)[:2000]
        if isinstance(getattr(e, "cell_index", None), int):
            result["cell_index"] = e.cell_index
    result["oom_kills"] = oom_kills()
    tmp = out / "result.json.tmp"
    tmp.write_text(json.dumps(result))
    os.replace(tmp, out / "result.json")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
