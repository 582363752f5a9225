"""paperboy: self-hostable research-paper discovery."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS (read once, when numpy loads): paperboy's matrix work is small and many at
# a time (a "For you" fit per member of a digest, per request on pages), where BLAS's own threads
# only contend with the sender's and the server's: one member's fit took 91 ms with them and 27
# ms without on 2 loaded cores (docs/digests.md). An operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
