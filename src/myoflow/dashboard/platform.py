"""Can Qt open a window here? Checked before the dashboard starts, without Qt in this process.

Qt aborts the whole process (SIGABRT, rc 134) when its platform plugin cannot load: on a fresh
Debian desktop the xcb plugin needs ``libxcb-cursor0``, ``libxcb-icccm4``, ``libxcb-keysyms1``
and more that a minimal system lacks. :func:`platform_problem` finds that out first: it lists
the shared libraries the plugin cannot load (``ldd``) and names their Debian packages, then
starts a throw-away Qt application in a subprocess, so the caller can say what is missing and
fall back to the console view instead of dying.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

__all__ = ["XCB_PACKAGES", "missing_libraries", "platform_name", "platform_problem"]

#: Shared library (soname) -> Debian package, for what Qt 6's xcb plugin loads. The same table
#: is in scripts/ensure_system_libs.sh, which installs them.
XCB_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
_CANNOT_LOAD = re.compile(r"error while loading shared libraries: (\S+?):")


def platform_name(environ: dict[str, str] | None = None) -> str:
    """The Qt platform plugin Qt will try: ``QT_QPA_PLATFORM``'s first entry, else the
    system's default (``xcb`` on Linux, ``cocoa``/``windows`` elsewhere)."""
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    return {"darwin": "cocoa", "win32": "windows"}.get(sys.platform, "xcb")


def missing_libraries(ldd_output: str) -> list[str]:
    """Sonames ``ldd`` reports as not found (or present but unloadable), in order."""
    names = _NOT_FOUND.findall(ldd_output) + [Path(p).name for p in _CANNOT_LOAD.findall(ldd_output)]
    return list(dict.fromkeys(names))


def _plugin_files(platform: str) -> list[Path]:
    """The platform plugin and the Qt library behind it (xcb: libqxcb.so + libQt6XcbQpa)."""
    try:
        import PySide6
    except ImportError:
        return []
    root = Path(PySide6.__file__).resolve().parent / "Qt"
    plugin_dir = Path(os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH") or root / "plugins" / "platforms")
    files = [plugin_dir / f"libq{platform}.so"]
    if platform == "xcb":
        files.append(root / "lib" / "libQt6XcbQpa.so.6")
    return [f for f in files if f.exists()]


def _ldd_missing(files: list[Path]) -> list[str]:
    missing: list[str] = []
    for f in files:
        try:
            done = subprocess.run(["ldd", str(f)], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return []  # no ldd (not glibc): the probe below still tells
        missing += missing_libraries(done.stdout + done.stderr)
    return list(dict.fromkeys(missing))


def platform_problem(timeout: float = 30.0) -> str | None:
    """None when Qt can start its platform plugin here; else one line saying why and, where
    known, which system packages to install.

    ``offscreen`` and ``minimal`` are assumed to work (``scripts/ensure_system_libs.sh``
    installs their libraries). Otherwise, on Linux the plugin's libraries are checked with
    ``ldd`` first; then a throw-away ``QGuiApplication`` is started in a subprocess (it catches
    what ldd cannot: no X server at ``DISPLAY``, a broken plugin) within ``timeout`` s.
    """
    platform = platform_name()
    if platform in ("offscreen", "minimal"):
        return None
    if sys.platform.startswith("linux"):
        missing = _ldd_missing(_plugin_files(platform))
        if missing:
            packages = sorted({XCB_PACKAGES.get(m, m) for m in missing})
            return (
                f"Qt's {platform} platform plugin cannot load: missing {', '.join(missing)}; "
                f"install with: sudo apt-get install {' '.join(packages)} "
                f"(or run scripts/ensure_system_libs.sh x11 as root)"
            )
    code = "from PySide6.QtGui import QGuiApplication as A; a = A(['myoflow-probe']); print(a.platformName())"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"Qt's {platform} platform plugin did not start within {timeout:g} s"
    if done.returncode == 0:
        return None
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
    useful = [ln for ln in lines if "xcb" in ln or "display" in ln.lower() or "plugin" in ln.lower()]
    reason = (useful or lines or [f"exit code {done.returncode}"])[0]
    return f"Qt's {platform} platform plugin cannot start: {reason}"
