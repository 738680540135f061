"""The scoped glibc malloc settings used by the style optimisation."""

import torch

from studio.imaging import memory


def test_scope_nests_and_restores():
    with memory.reuse_large_buffers():
        with memory.reuse_large_buffers():
            assert memory._users == 2
            x = torch.empty(64 * 1024 * 1024 // 4)  # a 64 MB buffer, freed and taken again
            del x
            y = torch.ones(64 * 1024 * 1024 // 4)
            assert float(y[-1]) == 1.0
        assert memory._users == 1
    assert memory._users == 0


def test_scope_is_released_when_the_body_raises():
    try:
        with memory.reuse_large_buffers():
            raise ValueError("boom")
    except ValueError:
        pass
    assert memory._users == 0
