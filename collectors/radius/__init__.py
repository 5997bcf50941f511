"""RADIUS accounting (RFC 2866) and F-Ticks: the wire codec, the UDP listener, the F-Ticks parser."""
