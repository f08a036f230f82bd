"""Virtual rigs (virtual straps on an in-process Bluetooth LE link) and the demo.

* :mod:`~myoflow.rigs.virtual_rig`: virtual straps of any kind, driven by synthetic sessions.
* :mod:`~myoflow.rigs.virtual_glute`: the glute-bridge rig (``VirtualGlute``: settings -> session,
  MVC references, ingest opener) the demo, ``record --virtual`` and ``dashboard --virtual`` use.
* :mod:`~myoflow.rigs.demo`: the demo (synthesise, stream, record, analyse, compare with truth).
"""
