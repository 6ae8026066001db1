"""Write the ``bytes`` and ``hash`` (sha256) of every resource into each datasets/*/datapackage.json.

Run it after changing or regenerating data files: ``python datasets/checksums.py``.
``python datasets/checksums.py --check`` changes nothing and exits 1 when a recorded
size or hash differs from the file. Needs only the standard library.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def file_facts(path: Path) -> tuple[int, str]:
    content = path.read_bytes()
    return len(content), "sha256:" + hashlib.sha256(content).hexdigest()


def main(check: bool) -> int:
    stale = []
    for descriptor in sorted(HERE.glob("*/datapackage.json")):
        package = json.loads(descriptor.read_text(encoding="utf-8"))
        for resource in package["resources"]:
            size, digest = file_facts(descriptor.parent / resource["path"])
            if resource.get("bytes") != size or resource.get("hash") != digest:
                stale.append(f"{descriptor.relative_to(HERE.parent)}: {resource['name']}")
                resource["bytes"], resource["hash"] = size, digest
        if not check:
            descriptor.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in stale:
        print(("out of date: " if check else "updated: ") + line)
    return 1 if check and stale else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report resources whose size or hash differ")
    sys.exit(main(parser.parse_args().check))
