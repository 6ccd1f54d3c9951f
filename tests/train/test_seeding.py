"""The seeding helper: a generator per (seed, step), reproducible, apart for different steps and seeds."""

import torch

from minitransformer.train.seeding import STRIDE, seeded_generator


def _draw(generator):
    return torch.randint(0, 2**31 - 1, (8,), generator=generator)


def test_a_seed_alone_seeds_the_generator_with_itself():
    assert seeded_generator(5).initial_seed() == 5
    assert torch.equal(_draw(seeded_generator(5)), _draw(torch.Generator().manual_seed(5)))


def test_a_step_is_seeded_by_seed_and_step_and_nothing_else():
    assert seeded_generator(3, 17).initial_seed() == 3 * STRIDE + 17
    assert seeded_generator(3, 17, stride=100).initial_seed() == 317
    torch.manual_seed(0)
    first = _draw(seeded_generator(3, 17))
    torch.rand(100)  # the global generator moved on: the step's draws do not
    assert torch.equal(_draw(seeded_generator(3, 17)), first)
    assert not torch.equal(_draw(seeded_generator(3, 18)), first)
    assert not torch.equal(_draw(seeded_generator(4, 17)), first)


def test_steps_of_different_seeds_never_share_a_seed():
    seeds = {seeded_generator(seed, step).initial_seed() for seed in range(3) for step in range(0, STRIDE, 1000)}
    assert len(seeds) == 3 * len(range(0, STRIDE, 1000))
