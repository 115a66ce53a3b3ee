"""The interaction log: the one way to write it (``record``) and the check of its
hash chain; review queries over it.
"""
