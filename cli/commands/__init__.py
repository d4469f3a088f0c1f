"""The commands of `postprod`; each module registers its commands on import."""
