"""`make load`: a bounded locust run against `make serve` on loopback (see __main__)."""
