"""Every notebook kernel the suite starts (nbval, the solutions' runs, the student edition's
nbval) trains with the thread count the committed outputs were built with.

PyTorch may add up a matrix product in another order with another number of threads, and a
training run amplifies that last bit: a GTM prior trained with one thread and with two ends
0.3 nat apart in test −ELBO (seeds 1 and 2, this machine). vaelib's default ("auto") picks
the thread count from the machine's load, so without this a busy CI machine could train
other models than the build did, and a claim near its boundary could flip. The kernels
inherit this variable; set it yourself to run with another count.
"""

import os

#: The thread count of `python tools/notebooks.py build` (notebooks/AUTHORING.md).
BUILD_THREADS = "2"

os.environ.setdefault("VAELIB_NUM_THREADS", BUILD_THREADS)
