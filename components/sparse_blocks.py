"""Feature matrices put side by side in one step."""

from __future__ import annotations

from typing import List

import numpy as np
import scipy.sparse


def side_by_side(matrices: List) -> scipy.sparse.coo_matrix:
    """The matrices (sparse or dense, as many rows each) as one, their columns side by side:
    scipy.sparse.hstack's entries in its order, without its conversions block by block
    (which took two thirds of the time of a message's features)."""
    blocks = [scipy.sparse.coo_matrix(matrix) for matrix in matrices]
    offsets = np.cumsum([0, *(block.shape[1] for block in blocks)])
    return scipy.sparse.coo_matrix(
        (np.concatenate([block.data for block in blocks]),
         (np.concatenate([block.row for block in blocks]),
          np.concatenate([block.col + offset for block, offset in zip(blocks, offsets)]))),
        shape=(blocks[0].shape[0], offsets[-1]))
