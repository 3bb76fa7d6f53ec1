"""Executes a Polyglot C# notebook with Jupyter's own client (Debian python3-nbclient) on the ".NET (C#)" kernel,
with parameters injected the papermill way: a cell tagged "injected-parameters" after the cell tagged "parameters",
declaring each Name=Value with the type the parameters cell gives it. Used by tests/Bat.Tests (KernelClientsTests).

  /usr/bin/python3 execute_notebook.py SRC OUT [--cwd DIR] [--inject-only] Name=Value ...

Without --inject-only it executes the notebook (kernel working directory DIR, default SRC's folder) and writes the
executed notebook to OUT even when a cell fails; the exit code is 1 then. With --inject-only it writes the
notebook with the injected cell only (for dotnet-repl, which has no parameters of its own)."""
import json
import os
import re
import sys

import nbformat

DECLARATION = re.compile(r"^\s*(string|int|long|double|float|bool)\s+(\w+)\s*=", re.MULTILINE)


def literal(kind, value):
    if kind == "string":
        return json.dumps(value)  # a JSON string is a valid C# string literal for the paths and names we pass
    if kind == "bool":
        return {"true": "true", "false": "false"}[value.lower()]
    float(value)  # numbers: refuse anything that is not one
    return value


def inject(nb, params):
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    declared = {name: kind for kind, name in DECLARATION.findall(nb.cells[index].source)}
    lines = ["// Parameters injected by tests/jupyter/execute_notebook.py (papermill style)."]
    for name, value in params.items():
        if name not in declared:
            sys.exit(f"{name} is not declared in the parameters cell (declared: {', '.join(declared)})")
        lines.append(f"{declared[name]} {name} = {literal(declared[name], value)};")
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={
        "tags": ["injected-parameters"],
        "dotnet_interactive": {"language": "csharp"}, "polyglot_notebook": {"kernelName": "csharp"}})
    nb.cells.insert(index + 1, cell)


def main(argv):
    inject_only = "--inject-only" in argv
    argv = [a for a in argv if a != "--inject-only"]
    cwd = None
    if "--cwd" in argv:
        i = argv.index("--cwd")
        cwd = argv[i + 1]
        del argv[i:i + 2]
    src, out, params = argv[0], argv[1], dict(a.split("=", 1) for a in argv[2:])
    nb = nbformat.read(src, as_version=4)
    inject(nb, params)
    if inject_only:
        nbformat.write(nb, out)
        return 0
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    client = NotebookClient(nb, kernel_name=".net-csharp", timeout=3600, startup_timeout=300,
                            resources={"metadata": {"path": cwd or os.path.dirname(os.path.abspath(src))}})
    try:
        client.execute()
        return 0
    except CellExecutionError as e:
        print(str(e).splitlines()[0] if str(e) else "a cell failed", file=sys.stderr)
        return 1
    finally:
        nbformat.write(nb, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
