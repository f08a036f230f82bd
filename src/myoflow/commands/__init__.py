"""One module per ``myoflow`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``."""
