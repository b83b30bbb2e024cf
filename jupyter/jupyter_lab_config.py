"""JupyterLab as the workbook opens it: `make lab` and the browser test start the same server.

The Makefile and ``tests/browser.py`` add this folder to ``JUPYTER_CONFIG_PATH``, so these
settings come on top of the learner's own Jupyter configuration without replacing it.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 (traitlets provides get_config in config files)

# Default settings of the page (lab-settings/overrides.json): no news or update pop-ups.
c.LabApp.app_settings_dir = str(HERE / "lab-settings")
# ... and no calls to the internet for them from the server either.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
