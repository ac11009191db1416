import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_architecture_core_and_formats_import_no_qt():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    proc = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 kept, 0 broken" in proc.stdout


def test_architecture_core_runs_without_qt_loaded():
    code = ("import sys, annotator.core.project, annotator.core.exporting, annotator.formats.registry;"
            "sys.exit(1 if any(m.startswith('PySide6') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
