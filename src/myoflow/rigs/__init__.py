"""Virtual rigs (virtual straps on an in-process Bluetooth LE link) and the demo.

* :mod:`~myoflow.rigs.virtual_rig`: the one virtual rig, with presets: straps of any kinds, or
  the glute-bridge rig (DIY EMG + two Polar Verity Sense), driven by a synthetic session.
* :mod:`~myoflow.rigs.names`: the glute preset's strap and stream names (no Bluetooth).
* :mod:`~myoflow.rigs.virtual_glute`: the glute-bridge rig (``VirtualGlute``: settings -> session,
  MVC references, ingest opener) the demo, ``record --virtual`` and ``dashboard --virtual`` use.
* :mod:`~myoflow.rigs.demo`: the demo (synthesise, stream, record, analyse, compare with truth).
"""
