"""myoflow: wearable EMG and IMU straps, from Bluetooth LE notifications to exercise analytics.

Importing the package is cheap: it loads numpy only. Bluetooth (bleak), HDF5 (h5py) and Qt are
imported by the modules that need them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("myoflow")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
