"""JupyterHub configuration for StatCommons.

Thin on purpose: the settings file (statcommons.yaml, or the file named by
STATCOMMONS_SETTINGS) is validated, then statcommons.hub.config sets everything.
Site-specific Python goes in jupyterhub_config.d/*.py, loaded last.
"""

import sys
from pathlib import Path

from statcommons.hub.config import apply_config
from statcommons.platform import clientaddress, logs
from statcommons.settings import SettingsError, load

c = get_config()  # noqa: F821
logs.install()

try:
    settings = load()
    # Clients' addresses are those the proxy saw, never X-Real-Ip or a forged X-Forwarded-For.
    clientaddress.install(settings["hub"]["trusted_proxies"])
    apply_config(settings, c)
except SettingsError as e:
    print(f"statcommons: {e}", file=sys.stderr)
    sys.exit(2)

for extra in sorted((Path(__file__).parent / "jupyterhub_config.d").glob("*.py")):
    exec(compile(extra.read_text(), str(extra), "exec"))  # noqa: S102
