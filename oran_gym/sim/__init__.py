"""Physics of the O-RAN slicing model: numba kernels, their NumPy twins, channel and traffic dynamics.

This layer imports neither gymnasium nor torch.
"""
