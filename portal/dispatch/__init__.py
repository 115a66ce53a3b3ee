"""Outbound messaging: the channel modules now; campaigns and chunk jobs build on them."""
