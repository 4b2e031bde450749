"""The compiled engine of mlpx (Cython, OpenMP, BLAS). Private: use the estimators."""
