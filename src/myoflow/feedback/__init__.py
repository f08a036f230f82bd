"""Sound biofeedback: synthesised tones and chimes, spoken cues rendered offline, one mixer,
played through PortAudio. Qt-free; the dashboard and the console view drive it."""
