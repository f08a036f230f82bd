"""BLE ingest layer: device profiles, pure protocol codecs, bleak transport, timebase, virtual straps."""
