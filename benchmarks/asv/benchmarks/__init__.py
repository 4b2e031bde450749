"""asv benchmarks of mlpx (see ../asv.conf.json)."""
