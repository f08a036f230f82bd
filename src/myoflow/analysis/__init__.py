"""Exercise analytics: reps and phases, activation, relaxation, handover."""
