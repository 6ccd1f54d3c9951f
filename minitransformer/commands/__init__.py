"""One module per `minitransformer <command>`; see minitransformer/cli.py."""
